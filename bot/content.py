"""The catalog: topics, key messages, system texts and command words loaded from `messages/`.

Files are YAML a health editor can change (see messages/README.md), validated on load:
every problem is collected with its file and place instead of stopping at the first, so
`factsbot content check` can report them all. English is complete and authoritative; a
translation may leave things out, and what it lacks falls back to English (recorded, so
the check can say what is missing).
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import yaml

from bot import segments

FALLBACK = "en"
CONFIDENCE = ("verified", "derivative", "unconfirmed")
LABEL_MAX = 18
TOPIC_FIELDS = ("id", "chapter", "title", "label", "keywords", "helpline", "sources", "messages")
MESSAGE_FIELDS = ("id", "source", "confidence", "short", "detail")
# A translation carries only its own words; sources, confidence and notes come from English.
TRANSLATED_TOPIC_FIELDS = ("id", "chapter", "title", "label", "keywords", "messages")
TRANSLATED_MESSAGE_FIELDS = ("id", "short", "detail")
COMMANDS = ("opt_out", "opt_in", "help", "menu", "more", "next", "back", "language", "join", "leave", "decline")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# SMS each text may cost. English is the reference: one GSM-7 SMS per key message.
# Other scripts cost more per character (UCS-2 holds 70), so a translation gets two.
SHORT_MAX = {FALLBACK: 1}
SHORT_MAX_TRANSLATED = 2
DETAIL_MAX = 3


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
    review: str = ""  # a translation's review status, e.g. "needs native-speaker health review"

    def message(self, message_id: str) -> KeyMessage | None:
        return next((m for m in self.messages if m.id == message_id), None)


@dataclass(frozen=True)
class Helpline:
    child: str
    emergency: str


@dataclass
class Language:
    """One language's texts, completed from English where it lacks them."""

    code: str
    name: str
    topics: tuple[Topic, ...]
    texts: dict[str, str]
    aliases: frozenset[str] = frozenset()
    commands: dict[str, frozenset[str]] = field(default_factory=dict)  # command -> words, own and English
    own_words: dict[str, tuple[str, ...]] = field(default_factory=dict)  # command -> this language's words
    keywords: dict[str, str] = field(default_factory=dict)  # normalised keyword -> topic id
    fallbacks: list[str] = field(default_factory=list)  # what came from English
    broken: set[str] = field(default_factory=set)  # topic ids whose files had problems

    def topic(self, topic_id: str) -> Topic:
        return next(t for t in self.topics if t.id == topic_id)

    def is_command(self, word: str, command: str) -> bool:
        return word in self.commands.get(command, ())

    def word(self, command: str) -> str:
        """The word shown to people for a command, in this language (e.g. MORE, PLUS)."""
        own = self.own_words.get(command)
        return own[0] if own else sorted(self.commands[command])[0]


@dataclass
class Catalog:
    languages: dict[str, Language]
    helplines: dict[str, Helpline]
    default_helpline: Helpline

    def language(self, code: str | None) -> Language:
        return self.languages.get(code or FALLBACK) or self.languages[FALLBACK]

    def helpline(self, country: str | None) -> Helpline:
        return self.helplines.get((country or "").upper(), self.default_helpline)

    @cached_property
    def script_opt_out_words(self) -> frozenset[str]:
        """Opt-out words written with letters beyond ASCII (रोकें, ARRÊT): they work whatever the
        person's language, since they cannot be an everyday word in another language's spelling."""
        return frozenset(w for lang in self.languages.values() for w in lang.own_words.get("opt_out", ())
                         if not w.isascii())  # fmt: skip

    def find_language(self, word: str) -> Language | None:
        """A language by its code, own name or alias, as a person might type it."""
        for lang in self.languages.values():
            if word in lang.aliases:
                return lang
        return None


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
    english = _read_language(folder / FALLBACK, folder, None, problems)
    languages = {FALLBACK: english}
    for sub in sorted(folder.iterdir()):
        if sub.is_dir() and sub.name != FALLBACK:
            languages[sub.name] = _read_language(sub, folder, english, problems)
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


class _Reader:
    """Reads one language folder, appending every problem it meets."""

    def __init__(self, code: str, folder: Path, root: Path, english: Language | None, problems: list[Problem]):
        self.code, self.folder, self.root, self.english, self.problems = code, folder, root, english, problems
        self.name = _rel(folder, root)
        self.broken: set[str] = set()

    def problem(self, file: str, place: str, message: str) -> None:
        self.problems.append(Problem(file, place, message))

    def read(self) -> Language:
        topics: dict[str, Topic] = {}
        chapters: dict[int, str] = {}
        texts: dict[str, str] = {}
        words: dict = {}
        for path in sorted(self.folder.glob("*.yaml")):
            data = _read_yaml(path, self.root, self.problems)
            if data is None:
                continue
            name = _rel(path, self.root)
            if path.name == "system.yaml":
                texts = self.system_texts(data, name)
            elif path.name == "words.yaml":
                words = self.words(data, name)
            else:
                topic = self.topic(data, name)
                if topic is None:
                    continue
                if topic.id in topics or topic.chapter in chapters:
                    other = chapters.get(topic.chapter) or topic.id
                    self.problem(name, "id", f"topic {topic.id!r} (chapter {topic.chapter}) clashes with {other}")
                    continue
                topics[topic.id] = topic
                chapters[topic.chapter] = name
        return self.complete(topics, texts, words)

    # -- files ----------------------------------------------------------------------

    def system_texts(self, data, name: str) -> dict[str, str]:
        if not isinstance(data, dict):
            self.problem(name, "", "must be a mapping of text name to text")
            return {}
        texts = {}
        for key, value in data.items():
            if not isinstance(value, str) or not value.strip():
                self.problem(name, str(key), "must be non-empty text")
                continue
            self.check_chars(value.strip(), name, str(key))
            texts[str(key)] = value.strip()
        return texts

    def words(self, data, name: str) -> dict:
        if not isinstance(data, dict):
            self.problem(name, "", "must be a mapping (name:, aliases:, opt_out: ...)")
            return {}
        found = {}
        if not isinstance(data.get("name"), str) or not data["name"].strip():
            self.problem(name, "name", "missing: the language's own name")
        else:
            found["name"] = data["name"].strip()
        for key in ("aliases", *COMMANDS):
            value = data.get(key, [])
            if not isinstance(value, list) or not all(isinstance(w, (str, int)) for w in value):
                self.problem(name, key, "must be a list of words")
                continue
            if any(isinstance(w, bool) for w in value):
                self.problem(
                    name, key, 'YES, NO, ON and OFF must be in quotes ("YES") or YAML reads them as true/false'
                )
                continue
            found[key] = tuple(dict.fromkeys(filter(None, (normalise_keyword(str(w)) for w in value))))
        if self.english is None:
            for key in COMMANDS:
                if not found.get(key):
                    self.problem(name, key, "missing: English must define every command word")
        return found

    def topic(self, data, name: str) -> Topic | None:
        if not isinstance(data, dict):
            self.problem(name, "", "a topic file must be a mapping (id:, title:, messages: ...)")
            return None
        required = TOPIC_FIELDS if self.english is None else TRANSLATED_TOPIC_FIELDS
        missing = [f for f in required if f not in data]
        for f in missing:
            self.problem(name, f, "missing")
        if missing:
            self.broken.add(str(data.get("id", "")))
            return None
        before = len(self.problems)
        topic_id = str(data["id"])
        base = None
        if self.english is not None:
            base = next((t for t in self.english.topics if t.id == topic_id), None)
            if base is None:
                if topic_id not in self.english.broken:  # else the English file's problem says it all
                    self.problem(name, "id", f"{topic_id!r} is not an English topic id")
                return None
            if data["chapter"] != base.chapter:
                self.problem(name, "chapter", f"must be {base.chapter}, as in English")
        elif not _ID.match(topic_id):
            self.problem(name, "id", f"{topic_id!r} must be lowercase words joined by '-'")
        if not isinstance(data["chapter"], int) or not 1 <= data["chapter"] <= 99:
            self.problem(name, "chapter", "must be a chapter number")
        for f in ("title", "label"):
            if not isinstance(data[f], str) or not data[f].strip():
                self.problem(name, f, "must be non-empty text")
            else:
                self.check_chars(data[f], name, f)
        if isinstance(data["label"], str) and len(data["label"]) > LABEL_MAX:
            self.problem(name, "label", f"{len(data['label'])} characters, over {LABEL_MAX}")
        keywords = data["keywords"]
        if not isinstance(keywords, list) or not all(isinstance(k, (str, int)) for k in keywords):
            self.problem(name, "keywords", "must be a list of words")
            keywords = []
        helpline = data.get("helpline", base.helpline if base else False)
        if not isinstance(helpline, bool):
            self.problem(name, "helpline", "must be true or false")
        messages = data["messages"]
        if not isinstance(messages, list) or not messages:
            self.problem(name, "messages", "must be a non-empty list")
            messages = []
        parsed: list[KeyMessage | None] = []
        for n, m in enumerate(messages, 1):
            previous = parsed[-1].number if parsed and parsed[-1] else None
            parsed.append(self.message(m, n, topic_id, name, previous, base))
        if len(self.problems) > before:
            self.broken.add(topic_id)
            return None
        return Topic(
            id=topic_id,
            chapter=data["chapter"],
            title=data["title"].strip(),
            label=data["label"].strip(),
            keywords=tuple(str(k) for k in keywords),
            helpline=helpline,
            messages=tuple(parsed),
            review=str(data.get("review") or "").strip(),
        )

    def message(self, data, number: int, topic_id: str, name: str, previous: int | None, base: Topic | None):
        place = f"messages[{number}]"
        if not isinstance(data, dict):
            self.problem(name, place, "must be a mapping (id:, short:, detail: ...)")
            return None
        required = MESSAGE_FIELDS if base is None else TRANSLATED_MESSAGE_FIELDS
        bad = [f for f in required if not isinstance(data.get(f), str) or not data[f].strip()]
        for f in bad:
            self.problem(name, f"{place}.{f}", "missing" if f not in data else "must be non-empty text")
        if bad:
            return None
        match = re.fullmatch(rf"{re.escape(topic_id)}-(\d+)", data["id"])
        original = base.message(data["id"]) if base else None
        if not match:
            self.problem(name, f"{place}.id", f"is {data['id']!r}; expected {topic_id}-<key message number>")
        elif base is not None and original is None:
            self.problem(name, f"{place}.id", f"{data['id']!r} is not a key message of the English topic")
        elif previous is not None and int(match[1]) <= previous:
            self.problem(name, f"{place}.id", f"{data['id']!r} must come after the message before it")
        confidence = data.get("confidence", original.confidence if original else "")
        if confidence not in CONFIDENCE:
            self.problem(name, f"{place}.confidence", f"must be one of {', '.join(CONFIDENCE)}")
        short, detail = data["short"].strip(), data["detail"].strip()
        self.check_chars(short, name, f"{place}.short")
        self.check_chars(detail, name, f"{place}.detail")
        self.check_length(short, SHORT_MAX.get(self.code, SHORT_MAX_TRANSLATED), name, f"{place}.short")
        self.check_length(detail, DETAIL_MAX, name, f"{place}.detail")
        return KeyMessage(
            id=data["id"],
            number=int(match[1]) if match else number,
            source=str(data.get("source") or (original.source if original else "")).strip(),
            confidence=confidence,
            short=short,
            detail=detail,
            review_note=str(data.get("review_note") or (original.review_note if original else "")).strip(),
        )

    # -- checks ---------------------------------------------------------------------

    def check_chars(self, text: str, name: str, place: str) -> None:
        smart = segments.smart_changes(text)
        if smart:
            shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in smart)
            self.problem(name, place, f"smart encoding would change {shown}: type the plain character")

    def check_length(self, text: str, max_segments: int, name: str, place: str) -> None:
        sent = segments.smart_encode(text)
        if self.english is None:
            outside = segments.non_gsm7(sent)
            if outside:
                shown = ", ".join(repr(c) for c in outside)
                self.problem(name, place, f"not GSM-7: {shown} would make it cost UCS-2 rates")
                return
        c = segments.count(sent)
        if c.segments > max_segments:
            self.problem(
                name, place, f"{c.units} {c.encoding} units is {c.segments} SMS; at most {max_segments} allowed"
            )

    # -- completing -----------------------------------------------------------------

    def complete(self, topics: dict[str, Topic], texts: dict[str, str], words: dict) -> Language:
        system = f"{self.name}/system.yaml"
        fallbacks: list[str] = []
        en = self.english
        if en is None:
            for key in REQUIRED_TEXTS:
                if key not in texts:
                    self.problem(system, key, "missing")
        else:
            for t in en.topics:
                own = topics.get(t.id)
                if own is None:
                    topics[t.id] = t
                    fallbacks.append(f"topic {t.id}")
                    continue
                missing = [m for m in t.messages if own.message(m.id) is None]
                if missing:
                    fallbacks += [f"message {m.id}" for m in missing]
                    merged = sorted(own.messages + tuple(missing), key=lambda m: m.number)
                    topics[t.id] = replace(own, messages=tuple(merged))
            for key, value in en.texts.items():
                if key not in texts:
                    texts[key] = value
                    fallbacks.append(f"text {key}")
                elif not _fields(texts[key]) <= _fields(value):
                    # Leaving a placeholder out is a translator's choice; an unknown one would crash.
                    unknown, en_fields = sorted(_fields(texts[key]) - _fields(value)), sorted(_fields(value))
                    self.problem(system, key, f"placeholders {unknown} are not among English's {en_fields}")
        if not words and en is not None:
            fallbacks.append("words")
        commands = {}
        for command in COMMANDS:
            commands[command] = frozenset(words.get(command, ())) | (en.commands[command] if en else frozenset())
        name = words.get("name") or self.code
        aliases = {*words.get("aliases", ()), normalise_keyword(self.code), normalise_keyword(name)}
        language = Language(
            code=self.code,
            name=name,
            topics=tuple(sorted(topics.values(), key=lambda t: t.chapter)),
            texts=texts,
            aliases=frozenset(aliases),
            commands=commands,
            own_words={c: words[c] for c in COMMANDS if words.get(c)},
            fallbacks=fallbacks,
            broken=self.broken,
        )
        self.index_keywords(language)
        return language

    def index_keywords(self, language: Language) -> None:
        reserved = frozenset().union(*language.commands.values())
        for topic in language.topics:
            for word in (*topic.keywords, topic.title, topic.label):
                key = normalise_keyword(str(word))
                if not key:
                    continue
                if key in reserved or key.isdigit():
                    self.problem(self.name, f"{topic.id}.keywords", f"{word!r} is a command word or number")
                    continue
                other = language.keywords.get(key)
                if other and other != topic.id:
                    self.problem(self.name, f"{topic.id}.keywords", f"{word!r} also leads to {other}")
                    continue
                language.keywords[key] = topic.id
        # English keywords work in every language, where they do not clash with its own.
        for key, topic_id in (self.english.keywords if self.english else {}).items():
            if key not in language.keywords and key not in reserved:
                language.keywords[key] = topic_id


def _read_language(folder: Path, root: Path, english: Language | None, problems: list[Problem]) -> Language:
    return _Reader(folder.name, folder, root, english, problems).read()


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


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
    "language_menu",
    "language_set",
    "language_hint",
    "more_marker",
    "sms_sent",
    "joined",
    "left",
    "join_which",
    "invite_accepted",
    # read outside the menu engine: USSD's resume offer, and replies to field workers
    "ussd_resume",
    "fw_usage",
    "fw_not_your_group",
    "fw_welcome",
    "fw_invited",
    "fw_no_broadcast",
    "fw_bad_number",
    "fw_preview",
    "fw_dropped",
    "fw_limit",
    "fw_queued",
    "fw_queued_quiet",
)
