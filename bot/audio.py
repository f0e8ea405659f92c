"""Voice recordings: which clips exist, where they are served from, what is missing or stale, placeholders.

Recordings live beside the texts, `messages/<lang>/audio/<id>.mp3|wav`, one per clip the voice
line can play: every key message's short (`<message id>`) and detail (`<message id>-detail`),
every topic name (`topic-<topic id>`) and every voice prompt (`prompt-<key>`, texts in
`messages/<lang>/audio/prompts.yaml`), and every timed reminder (`reminder-<id>`, words from
`system.yaml`) for families who chose calls. Placeholders rendered by `espeak-ng` live in a
git-ignored folder beside the content folder and are only played where no recording exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import yaml

from bot.content import Catalog, Language

EXTENSIONS = (".mp3", ".wav")
AUDIO = "audio"
PROMPTS_FILE = "prompts.yaml"
PLACEHOLDER_DIR = ".factsbot-audio-placeholders"
# Languages Twilio can speak (<Say language= voice=>); Africa's Talking's Say is English only.
TWILIO_TTS = {"en": ("en-GB", "Polly.Amy"), "fr": ("fr-FR", "Polly.Celine"), "hi": ("hi-IN", "Polly.Aditi")}
AT_TTS = frozenset({"en"})
ESPEAK_VOICES = {"en": "en", "fr": "fr", "hi": "hi", "sw": "sw"}
# Timed reminders (messages/<lang>/system.yaml `reminder_<id>`) are clips `reminder-<id>` when called.
REMINDER_TEXT = "reminder_"
REMINDER_CLIP = "reminder-"
TEXTS = ":texts"  # the source of a reminder clip's words: the language's system.yaml
TEXTS_FILE = "system.yaml"


class State:
    RECORDED = "recorded"
    PLACEHOLDER = "placeholder"
    TTS = "text-to-speech"
    MISSING = "missing"


@dataclass(frozen=True)
class Clip:
    """One thing the voice line says: the recording it is, its words, and their language."""

    id: str
    text: str
    lang: str


@dataclass(frozen=True)
class Found:
    """A file that plays a clip: a recording or a placeholder."""

    path: Path
    placeholder: bool

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Row:
    """One clip's standing for `factsbot audio status`."""

    lang: str
    id: str
    text: str
    state: str
    stale: bool = False


# -- where things are -----------------------------------------------------------------------


def placeholder_root(content_dir: str | Path) -> Path:
    """The git-ignored folder of placeholders, beside the content folder."""
    return Path(content_dir).resolve().parent / PLACEHOLDER_DIR


def audio_dir(content_dir: str | Path, lang: str) -> Path:
    return Path(content_dir) / lang / AUDIO


def scan(folder: Path) -> dict[str, tuple[str, float]]:
    """clip id -> (file name, mtime) of the recordings in a folder (mp3 preferred over wav)."""
    found: dict[str, tuple[str, float]] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: EXTENSIONS.index(Path(e.name).suffix)
                         if Path(e.name).suffix in EXTENSIONS else 99)  # fmt: skip
    except OSError:
        return found
    for entry in entries:
        stem, suffix = os.path.splitext(entry.name)
        if suffix in EXTENSIONS and stem not in found and entry.is_file():
            found[stem] = (entry.name, entry.stat().st_mtime)
    return found


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=64)
def _cached_scan(folder: str, mtime: float) -> dict[str, tuple[str, float]]:
    return scan(Path(folder))


def recordings(folder: Path) -> dict[str, tuple[str, float]]:
    """The folder's recordings, read again only when the folder changes (a file added or removed)."""
    return _cached_scan(str(folder), _mtime(folder))


def locate(content_dir: str | Path, lang: str, clip_id: str) -> Found | None:
    """The file that plays a clip: its recording, else its placeholder, else None."""
    real = audio_dir(content_dir, lang)
    hit = recordings(real).get(clip_id)
    if hit:
        return Found(real / hit[0], placeholder=False)
    fake = placeholder_root(content_dir) / lang
    hit = recordings(fake).get(clip_id)
    return Found(fake / hit[0], placeholder=True) if hit else None


class Finder(Protocol):
    """What knows which file plays a clip without asking the disk (bot/audio_library.Library)."""

    def find(self, lang: str, clip_id: str) -> Found | None: ...


def _finder(where: str | Path | Finder) -> Callable[[str, str], Found | None]:
    """A content folder is asked directly (commands); a Library answers from its listing (the voice line)."""
    if isinstance(where, (str, Path)):
        return lambda lang, clip_id: locate(where, lang, clip_id)
    return where.find


def url_path(lang: str, found: Found) -> str:
    """Where the app serves a clip's file (see bot/channels/voice.py)."""
    return f"/audio/{lang}/placeholder/{found.name}" if found.placeholder else f"/audio/{lang}/{found.name}"


@dataclass(frozen=True)
class Piece:
    """One thing for a provider to do: play a URL, or say words in a language."""

    url: str = ""
    text: str = ""
    lang: str = ""


def clip_url(where: str | Path | Finder, clip: Clip, base: str, cdn: str = "") -> str:
    """The URL a provider fetches a clip's recording (or placeholder) from; "" when it has none.

    `where`: the content folder, or the process's Library of it (bot/audio_library.py). A CDN
    (AUDIO_BASE_URL) mirrors the recordings of a release; placeholders exist only on this machine.
    """
    return _url(_finder(where)(clip.lang, clip.id), clip, base, cdn)


def _url(found: Found | None, clip: Clip, base: str, cdn: str) -> str:
    if found is None:
        return ""
    if cdn and not found.placeholder:
        return f"{cdn.rstrip('/')}/{clip.lang}/{found.name}"
    return base.rstrip("/") + url_path(clip.lang, found)


def pieces(where: str | Path | Finder, clips: Iterable[Clip], speaks: Container[str], base: str,
           cdn: str = "") -> tuple[list[Piece], list[Clip]]:  # fmt: skip
    """Each clip as its recording's URL or words to say (consecutive words in one language said at once).

    `where`: the content folder, or the process's Library of it (bot/audio_library.py). Returns the
    pieces and the clips left out: no recording, and no voice in `speaks` for their language.
    """
    find = _finder(where)
    found: list[Piece] = []
    missing: list[Clip] = []
    for clip in clips:
        url = _url(find(clip.lang, clip.id), clip, base, cdn)
        if url:
            found.append(Piece(url=url))
        elif clip.lang in speaks:
            if found and found[-1].lang == clip.lang:
                found[-1] = Piece(text=f"{found[-1].text} {clip.text}", lang=clip.lang)
            else:
                found.append(Piece(text=clip.text, lang=clip.lang))
        else:
            missing.append(clip)
    return found, missing


# -- prompts ----------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _read_prompts(path: str, mtime: float) -> dict[str, str]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): " ".join(str(v).split()) if v is not None else "" for k, v in data.items()}


def prompts(content_dir: str | Path, langs: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Each language's voice prompts (key -> words), completed from English where a key is missing."""
    found = {}
    for lang in langs:
        path = audio_dir(content_dir, lang) / PROMPTS_FILE
        found[lang] = _read_prompts(str(path), _mtime(path))
    english = found.get("en", {})
    return {lang: {**english, **own} if lang != "en" else own for lang, own in found.items()}


def prompt_langs(content_dir: str | Path, langs: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Which language each prompt is actually written in (a key missing from a translation is English)."""
    own = {}
    for lang in langs:
        path = audio_dir(content_dir, lang) / PROMPTS_FILE
        keys = _read_prompts(str(path), _mtime(path))
        own[lang] = {key: lang for key in keys}
    return own


# -- what the line can play --------------------------------------------------------------------


def clips(lang: Language, prompt_texts: Mapping[str, str]) -> Iterator[tuple[Clip, str]]:
    """Every clip of a language with where its words come from: a topic id, "" (prompts) or TEXTS (reminders)."""
    for key, text in prompt_texts.items():
        if text:
            yield Clip(f"prompt-{key}", text, lang.code), ""
    for topic in lang.topics:
        source = topic.id
        yield Clip(f"topic-{topic.id}", topic.label, lang.code), source
        for m in topic.messages:
            yield Clip(m.id, m.short, m.lang), source
            yield Clip(f"{m.id}-detail", m.detail, m.lang), source
    for key in lang.texts:
        if key.startswith(REMINDER_TEXT):
            yield reminder_clip(lang, key.removeprefix(REMINDER_TEXT)), TEXTS


def reminder_clip(lang: Language, reminder_id: str) -> Clip | None:
    """A timed reminder's clip (`reminder-<id>`, words from system.yaml); in English where the language lacks it."""
    key = f"{REMINDER_TEXT}{reminder_id}"
    text = lang.texts.get(key, "")
    if not text:
        return None
    return Clip(f"{REMINDER_CLIP}{reminder_id}", text, "en" if f"text {key}" in lang.fallbacks else lang.code)


def status(catalog: Catalog, content_dir: str | Path, only: str = "") -> list[Row]:
    """Every clip of every language (or `only`): recorded, placeholder, text-to-speech or missing; stale."""
    langs = tuple(catalog.languages)
    texts = prompts(content_dir, langs)
    root = Path(content_dir)
    rows = []
    for code, lang in catalog.languages.items():
        if only and code != only:
            continue
        prompt_file = audio_dir(root, code) / PROMPTS_FILE
        for clip, topic_id in clips(lang, texts.get(code, {})):
            if not topic_id:
                source = prompt_file
            elif topic_id == TEXTS:
                source = root / (code if clip.lang == code else "en") / TEXTS_FILE
            else:
                source = root.resolve().parent / lang.files.get(topic_id, "")
            rows.append(_row(root, code, clip, _mtime(source)))
    return rows


def _row(root: Path, code: str, clip: Clip, text_mtime: float) -> Row:
    found = locate(root, code, clip.id)
    if found is not None:
        state = State.PLACEHOLDER if found.placeholder else State.RECORDED
        return Row(code, clip.id, clip.text, state, stale=_mtime(found.path) < text_mtime)
    if clip.lang in TWILIO_TTS:
        return Row(code, clip.id, clip.text, State.TTS)
    return Row(code, clip.id, clip.text, State.MISSING)


def check(catalog: Catalog, content_dir: str | Path) -> list[str]:
    """For `factsbot content check` when VOICE_ENABLED: clips no caller could hear (no recording, no voice).

    A placeholder does not count: it is for trying the line out, not for families.
    """
    problems = []
    for row in status(catalog, content_dir):
        if row.state in (State.MISSING, State.PLACEHOLDER) and row.lang not in TWILIO_TTS:
            problems.append(f"{audio_dir(content_dir, row.lang)}/{row.id}.mp3: no recording"
                            + (" (only a placeholder)" if row.state == State.PLACEHOLDER else ""))  # fmt: skip
    english = set(prompts(content_dir, ("en",)).get("en", {}))
    for code in catalog.languages:
        path = audio_dir(content_dir, code) / PROMPTS_FILE
        own = set(_read_prompts(str(path), _mtime(path)))
        if not path.exists():
            problems.append(f"{path}: missing (the voice line's prompts)")
        elif code != "en" and english - own:
            problems.append(f"{path}: lacks {', '.join(sorted(english - own))} (English would be read)")
    return problems


# -- placeholders ------------------------------------------------------------------------------


def espeak() -> str | None:
    return shutil.which("espeak-ng")


def make_placeholders(catalog: Catalog, content_dir: str | Path, only: str = "") -> list[Path]:
    """Render every clip without a recording (or with a stale placeholder) with espeak-ng; return the files made."""
    program = espeak()
    if program is None:
        raise RuntimeError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    made = []
    for row in status(catalog, content_dir, only):
        if row.state == State.RECORDED or (row.state == State.PLACEHOLDER and not row.stale):
            continue
        folder = placeholder_root(content_dir) / row.lang
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{row.id}.wav"
        voice = ESPEAK_VOICES.get(_clip_lang(catalog, row), "en")
        # The text goes on stdin: a key message can start with "-", which espeak-ng would read as an option.
        subprocess.run([program, "-v", voice, "-s", "150", "-w", str(target), "--stdin"], input=row.text.encode(),
                       check=True, capture_output=True, timeout=60)  # fmt: skip
        made.append(target)
    return made


def _clip_lang(catalog: Catalog, row: Row) -> str:
    """The language a clip's words are in: a key message a translation lacks is English."""
    lang = catalog.language(row.lang)
    if row.id.startswith(REMINDER_CLIP):
        clip = reminder_clip(lang, row.id.removeprefix(REMINDER_CLIP))
        return clip.lang if clip else row.lang
    base = row.id.removesuffix("-detail")
    found = lang.message(base)
    return found[1].lang if found else row.lang
