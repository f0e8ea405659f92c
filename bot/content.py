"""The catalog: topics, key messages and system texts loaded from `messages/`, validated on load.

Files are YAML a health editor can change (see messages/README.md). Loading collects every
problem with its file and place instead of stopping at the first, so `factsbot content check`
can report them all. A language folder other than English may leave things out: what it
lacks falls back to English.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from bot import segments

FALLBACK = "en"
CONFIDENCE = ("verified", "derivative", "unconfirmed")
LABEL_MAX = 18
DETAIL_MAX_SEGMENTS = 3
TOPIC_FIELDS = ("id", "chapter", "title", "label", "keywords", "helpline", "sources", "messages")
MESSAGE_FIELDS = ("id", "source", "confidence", "short", "detail")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class ContentError(Exception):
    """The content folder has problems; `problems` lists each with its file and place."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Problem:
    file: str
    place: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.place}: {self.message}" if self.place else f"{self.file}: {self.message}"


@dataclass(frozen=True)
class KeyMessage:
    id: str
    number: int  # the handbook's key message number (a chapter's list may have gaps)
    source: str
    confidence: str
    short: str
    detail: str
    review_note: str = ""


@dataclass(frozen=True)
class Topic:
    id: str
    chapter: int
    title: str
    label: str
    keywords: tuple[str, ...]
    helpline: bool
    messages: tuple[KeyMessage, ...]


@dataclass(frozen=True)
class Helpline:
    child: str
    emergency: str


@dataclass
class Language:
    """One language's texts, already completed from English where it lacks them."""

    code: str
    topics: tuple[Topic, ...]
    texts: dict[str, str]
    keywords: dict[str, str] = field(default_factory=dict)  # normalised keyword -> topic id

    def topic(self, topic_id: str) -> Topic:
        return next(t for t in self.topics if t.id == topic_id)


@dataclass
class Catalog:
    languages: dict[str, Language]
    helplines: dict[str, Helpline]
    default_helpline: Helpline

    def language(self, code: str | None) -> Language:
        return self.languages.get(code or FALLBACK) or self.languages[FALLBACK]

    def helpline(self, country: str | None) -> Helpline:
        return self.helplines.get((country or "").upper(), self.default_helpline)


def normalise_keyword(text: str) -> str:
    """Uppercase, accents kept, punctuation dropped, spaces collapsed: how input is matched."""
    text = unicodedata.normalize("NFC", text).upper()
    text = "".join(" " if c in string.punctuation or c.isspace() else c for c in text)
    return " ".join(text.split())


# --- loading ---------------------------------------------------------------------------


def load(folder: str | Path, *, helpline_override: Helpline | None = None) -> Catalog:
    """Load and validate the whole content folder; raise ContentError listing every problem."""
    catalog, problems = check(folder, helpline_override=helpline_override)
    if problems:
        raise ContentError(problems)
    return catalog


def check(folder: str | Path, *, helpline_override: Helpline | None = None):
    """Load what can be loaded and return (catalog or None, every problem found)."""
    folder = Path(folder)
    problems: list[Problem] = []
    if not (folder / FALLBACK).is_dir():
        return None, [Problem(str(folder), "", f"no {FALLBACK}/ folder: English is required")]
    raw = {d.name: _read_language(d, folder, problems) for d in sorted(folder.iterdir()) if d.is_dir()}
    english = raw.pop(FALLBACK)
    languages = {FALLBACK: _complete(FALLBACK, english, None, problems)}
    for code, parts in raw.items():
        languages[code] = _complete(code, parts, languages[FALLBACK], problems)
    helplines, default = _read_helplines(folder / "helplines.yaml", folder, problems)
    if helpline_override:
        helplines = {c: _override(h, helpline_override) for c, h in helplines.items()}
        default = _override(default, helpline_override)
    return Catalog(languages, helplines, default), problems


def _override(h: Helpline, o: Helpline) -> Helpline:
    return Helpline(o.child or h.child, o.emergency or h.emergency)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, root: Path, problems: list[Problem]):
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except (OSError, UnicodeDecodeError) as e:
        problems.append(Problem(_rel(path, root), "", f"cannot read: {e}"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(Problem(_rel(path, root), place, f"not valid YAML: {getattr(e, 'problem', e)}"))
    return None


def _read_language(folder: Path, root: Path, problems: list[Problem]) -> dict:
    topics, texts = [], {}
    for path in sorted(folder.glob("*.yaml")):
        data = _read_yaml(path, root, problems)
        if data is None:
            continue
        name = _rel(path, root)
        if path.name == "system.yaml":
            texts = _system_texts(data, name, problems)
        else:
            topic = _topic(data, name, problems)
            if topic:
                topics.append((name, topic))
    return {"topics": topics, "texts": texts, "folder": _rel(folder, root)}


def _system_texts(data, name: str, problems: list[Problem]) -> dict[str, str]:
    if not isinstance(data, dict):
        problems.append(Problem(name, "", "must be a mapping of text name to text"))
        return {}
    texts = {}
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(name, str(key), "must be non-empty text"))
            continue
        _check_chars(value.strip(), name, str(key), problems)
        texts[str(key)] = value.strip()
    return texts


def _topic(data, name: str, problems: list[Problem]) -> Topic | None:
    if not isinstance(data, dict):
        problems.append(Problem(name, "", "a topic file must be a mapping (id:, title:, messages: ...)"))
        return None
    missing = [f for f in TOPIC_FIELDS if f not in data]
    for f in missing:
        problems.append(Problem(name, f, "missing"))
    if missing:
        return None
    before = len(problems)
    topic_id = str(data["id"])
    if not _ID.match(topic_id):
        problems.append(Problem(name, "id", f"{topic_id!r} must be lowercase words joined by '-'"))
    if not isinstance(data["chapter"], int) or not 1 <= data["chapter"] <= 99:
        problems.append(Problem(name, "chapter", "must be a chapter number"))
    for f in ("title", "label"):
        if not isinstance(data[f], str) or not data[f].strip():
            problems.append(Problem(name, f, "must be non-empty text"))
        else:
            _check_chars(data[f], name, f, problems)
    if isinstance(data["label"], str) and len(data["label"]) > LABEL_MAX:
        problems.append(Problem(name, "label", f"{len(data['label'])} characters, over {LABEL_MAX}"))
    keywords = data["keywords"]
    if not isinstance(keywords, list) or not all(isinstance(k, (str, int)) for k in keywords):
        problems.append(Problem(name, "keywords", "must be a list of words"))
        keywords = []
    if not isinstance(data["helpline"], bool):
        problems.append(Problem(name, "helpline", "must be true or false"))
    messages = data["messages"]
    if not isinstance(messages, list) or not messages:
        problems.append(Problem(name, "messages", "must be a non-empty list"))
        messages = []
    parsed: list[KeyMessage | None] = []
    for n, m in enumerate(messages, 1):
        before_last = parsed[-1].number if parsed and parsed[-1] else None
        parsed.append(_message(m, n, topic_id, name, problems, before_last))
    if len(problems) > before:
        return None
    return Topic(
        id=topic_id,
        chapter=data["chapter"],
        title=data["title"].strip(),
        label=data["label"].strip(),
        keywords=tuple(str(k) for k in keywords),
        helpline=data["helpline"],
        messages=tuple(parsed),
    )


def _message(data, number: int, topic_id: str, name: str, problems: list[Problem], previous: int | None):
    place = f"messages[{number}]"
    if not isinstance(data, dict):
        problems.append(Problem(name, place, "must be a mapping (id:, short:, detail: ...)"))
        return None
    for f in MESSAGE_FIELDS:
        if f not in data or not isinstance(data[f], str) or not data[f].strip():
            problems.append(Problem(name, f"{place}.{f}", "missing" if f not in data else "must be non-empty text"))
    if any(f not in data or not isinstance(data[f], str) for f in MESSAGE_FIELDS):
        return None
    match = re.fullmatch(rf"{re.escape(topic_id)}-(\d+)", data["id"])
    if not match:
        problems.append(Problem(name, f"{place}.id", f"is {data['id']!r}; expected {topic_id}-<key message number>"))
    elif number > 1 and previous is not None and int(match[1]) <= previous:
        problems.append(Problem(name, f"{place}.id", f"{data['id']!r} must come after the message before it"))
    if data["confidence"] not in CONFIDENCE:
        problems.append(Problem(name, f"{place}.confidence", f"must be one of {', '.join(CONFIDENCE)}"))
    short, detail = data["short"].strip(), data["detail"].strip()
    _check_chars(short, name, f"{place}.short", problems)
    _check_chars(detail, name, f"{place}.detail", problems)
    _check_length(short, 1, name, f"{place}.short", problems)
    _check_length(detail, DETAIL_MAX_SEGMENTS, name, f"{place}.detail", problems)
    return KeyMessage(
        id=data["id"],
        number=int(match[1]) if match else number,
        source=data["source"].strip(),
        confidence=data["confidence"],
        short=short,
        detail=detail,
        review_note=str(data.get("review_note") or "").strip(),
    )


def _check_chars(text: str, name: str, place: str, problems: list[Problem]) -> None:
    smart = segments.smart_changes(text)
    if smart:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in smart)
        problems.append(Problem(name, place, f"smart encoding would change {shown}: type the plain character"))


def _check_length(text: str, max_segments: int, name: str, place: str, problems: list[Problem]) -> None:
    outside = segments.non_gsm7(segments.smart_encode(text))
    if outside:
        shown = ", ".join(repr(c) for c in outside)
        problems.append(Problem(name, place, f"not GSM-7: {shown} would make it cost UCS-2 rates"))
        return
    c = segments.count(text)
    if c.segments > max_segments:
        limit = segments.capacity(segments.GSM7, max_segments) if max_segments == 1 else 153 * max_segments
        problems.append(
            Problem(name, place, f"{c.units} characters is {c.segments} SMS; at most {max_segments} ({limit})")
        )


def _complete(code: str, parts: dict, english: Language | None, problems: list[Problem]) -> Language:
    """Build a language: check ids and keywords are unique, fill gaps from English."""
    folder = parts["folder"]
    seen_ids: dict[str, str] = {}
    seen_chapters: dict[int, str] = {}
    topics: dict[str, Topic] = {}
    for name, topic in parts["topics"]:
        if topic.id in seen_ids:
            problems.append(Problem(name, "id", f"{topic.id!r} is also the id of {seen_ids[topic.id]}"))
            continue
        if topic.chapter in seen_chapters:
            problems.append(
                Problem(name, "chapter", f"{topic.chapter} is also the chapter of {seen_chapters[topic.chapter]}")
            )
        seen_ids[topic.id] = seen_chapters[topic.chapter] = name
        topics[topic.id] = topic
    texts = dict(parts["texts"])
    if english is None:
        missing = [k for k in REQUIRED_TEXTS if k not in texts]
        for k in missing:
            problems.append(Problem(f"{folder}/system.yaml", k, "missing"))
    else:
        for t in english.topics:
            if t.id not in topics:
                topics[t.id] = t
            elif len(topics[t.id].messages) < len(t.messages):
                own = topics[t.id]
                topics[t.id] = replace(own, messages=own.messages + t.messages[len(own.messages) :])
        for key, value in english.texts.items():
            if key not in texts:
                texts[key] = value
            elif _fields(texts[key]) != _fields(value):
                problems.append(
                    Problem(
                        f"{folder}/system.yaml",
                        key,
                        f"placeholders {sorted(_fields(texts[key]))} differ from English {sorted(_fields(value))}",
                    )
                )
    ordered = tuple(sorted(topics.values(), key=lambda t: t.chapter))
    language = Language(code, ordered, texts)
    _index_keywords(language, folder, problems)
    return language


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _index_keywords(language: Language, folder: str, problems: list[Problem]) -> None:
    reserved = {normalise_keyword(w) for w in RESERVED_WORDS}
    for topic in language.topics:
        for word in (*topic.keywords, topic.title, topic.label):
            key = normalise_keyword(str(word))
            if not key:
                continue
            if key in reserved or key.isdigit():
                problems.append(Problem(folder, f"{topic.id}.keywords", f"{word!r} is a command word or number"))
                continue
            other = language.keywords.get(key)
            if other and other != topic.id:
                problems.append(Problem(folder, f"{topic.id}.keywords", f"{word!r} also leads to {other}"))
                continue
            language.keywords[key] = topic.id


def _read_helplines(path: Path, root: Path, problems: list[Problem]):
    data = _read_yaml(path, root, problems) if path.exists() else None
    fallback = Helpline("116 111", "112")
    if not isinstance(data, dict):
        if path.exists():
            problems.append(Problem(_rel(path, root), "", "must be a mapping with default: and countries:"))
        return {}, fallback

    def entry(value, place) -> Helpline | None:
        if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("child", "emergency")):
            problems.append(Problem(_rel(path, root), place, "needs child: and emergency: as text"))
            return None
        return Helpline(value["child"], value["emergency"])

    default = entry(data.get("default"), "default") or fallback
    countries = {}
    for code, value in (data.get("countries") or {}).items():
        h = entry(value, f"countries.{code}")
        if h:
            countries[str(code).upper()] = h
    return countries, default


# Words the menu engine reserves; a topic keyword must not shadow them.
OPT_OUT_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE")
OPT_IN_WORDS = ("START", "UNSTOP", "YES")
HELP_WORDS = ("HELP", "INFO")
MENU_WORDS = ("MENU", "HI", "HELLO", "HOME", "START")
MORE_WORDS = ("MORE", "NEXT")
BACK_WORDS = ("BACK", "0")
RESERVED_WORDS = OPT_OUT_WORDS + OPT_IN_WORDS + HELP_WORDS + MENU_WORDS + MORE_WORDS + BACK_WORDS

REQUIRED_TEXTS = (
    "welcome",
    "menu_header",
    "menu_more",
    "menu_last",
    "message",
    "message_short",
    "message_hint",
    "message_hint_short",
    "detail_hint",
    "topic_end",
    "pick_number",
    "pick_message",
    "unknown",
    "empty",
    "help",
    "stopped",
    "restarted",
    "helpline",
    "apology",
)
