"""Parse and validate one language folder's files: topics and key messages, system texts, words.

Every problem is collected with its file and place instead of stopping at the first. A
translation's topic is read against its English topic: what a translator does not write
(sources, confidence, notes, `discreet`, `same_as`) comes from English.
"""

from __future__ import annotations

import datetime
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot import segments
from bot.content.model import CONFIDENCE, FALLBACK, KeyMessage, Language, Problem, Topic
from bot.content.words import Phrase, normalise_keyword, phrase

LABEL_MAX = 18
TOPIC_FIELDS = ("id", "chapter", "title", "label", "keywords", "helpline", "sources", "messages")
MESSAGE_FIELDS = ("id", "source", "confidence", "short", "detail")
# A translation carries only its own words; sources, confidence and notes come from English.
TRANSLATED_TOPIC_FIELDS = ("id", "chapter", "title", "label", "keywords", "messages")
TRANSLATED_MESSAGE_FIELDS = ("id", "short", "detail")
COMMANDS = ("opt_out", "opt_in", "help", "menu", "more", "next", "back", "language", "join", "leave", "decline",
            "baby", "pregnant", "due", "loss", "forget")  # the last five: timed messages (bot/family.py)
# Words that are a command only with a date or a number after them (BABY 12-03-2026, PREGNANT 20):
# alone they may be a topic's keyword (PREGNANT, MIMBA).
ARGUMENT_COMMANDS = ("baby", "pregnant", "due")
COMMANDS += ("voice", "sms")  # tips by phone call (VOICE), or by SMS again (SMS, VOICE OFF): bot/calls.py
ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# SMS each text may cost. English is the reference: one GSM-7 SMS per key message.
# Other scripts cost more per character (UCS-2 holds 70), so a translation gets two.
SHORT_MAX = {FALLBACK: 1}
SHORT_MAX_TRANSLATED = 2
DETAIL_MAX = 3

# The placeholders the app fills in these texts, in every language (English included): a text
# may leave one out, never add one (an unknown one would crash the reply). Other texts are
# held to English's own placeholders (see merge.py).
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "help": frozenset({"program", "contact", "days"}),
    "ussd_help": frozenset({"program", "contact", "days"}),
    "topic_end": frozenset({"label", "keyword", "days"}),
    "ussd_topic_end": frozenset({"label", "keyword", "days"}),
    "helpline": frozenset({"child", "emergency"}),
    "urgent": frozenset({"emergency"}),
    "urgent_no_number": frozenset(),
    "helpline_no_number": frozenset(),
    "message_discreet": frozenset({"n", "total", "short"}),
    "ussd_message_discreet": frozenset({"n", "total", "short"}),
    "join_discreet_confirm": frozenset({"days"}),
    # A private topic's neutral texts: its menu number ({number}, as in LEAVE 11), never its label or keyword.
    "ussd_join_discreet_confirm": frozenset({"days"}),
    "joined_discreet": frozenset({"days", "number"}),
    "ussd_joined_discreet": frozenset({"days", "number"}),
    "left_discreet": frozenset({"number"}),
    "topic_end_discreet": frozenset({"days", "number"}),
    "ussd_topic_end_discreet": frozenset({"days", "number"}),
    "pick_message_discreet": frozenset({"max", "number"}),
    "ussd_pick_message_discreet": frozenset({"max", "number"}),
    "fw_discreet_warning": frozenset(),
    "support_contact": frozenset(),
    "timed_baby": frozenset({"date", "per_week"}),
    "timed_pregnancy": frozenset({"date", "per_week"}),
}


@dataclass
class Parts:
    """What one language folder's files hold, before it is completed from English."""

    topics: dict[str, Topic] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    words: dict = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # topic id -> its file, as problems name it
    broken: set[str] = field(default_factory=set)  # topic ids whose files had problems


def rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def read_yaml(path: Path, root: Path, problems: list[Problem]):
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except (OSError, UnicodeDecodeError) as e:
        problems.append(Problem(rel(path, root), "", f"cannot read: {e}"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(Problem(rel(path, root), place, f"not valid YAML: {getattr(e, 'problem', e)}"))
    except ValueError as e:  # a value YAML recognises but cannot build, like the date 2026-13-01
        problems.append(Problem(rel(path, root), "", f"not valid YAML: {e} (put such a value in quotes)"))
    return None


def placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def iso_date(value) -> str:
    """An ISO date as text ("2026-12-01"), from YAML's date or a string; "" if it is not one."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    try:
        return datetime.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return ""


class FileReader:
    """Reads one language folder's files, appending every problem it meets."""

    def __init__(self, code: str, folder: Path, root: Path, english: Language | None, problems: list[Problem]):
        self.code, self.folder, self.root, self.english, self.problems = code, folder, root, english, problems
        self.parts = Parts()

    def problem(self, file: str, place: str, message: str) -> None:
        self.problems.append(Problem(file, place, message))

    def read(self) -> Parts:
        chapters: dict[int, str] = {}
        for path in sorted(self.folder.glob("*.yaml")):
            data = read_yaml(path, self.root, self.problems)
            if data is None:
                continue
            name = rel(path, self.root)
            if path.name == "system.yaml":
                self.parts.texts = self.system_texts(data, name)
            elif path.name == "words.yaml":
                self.parts.words = self.words(data, name)
            elif path.name == "whatsapp.yaml":
                continue  # WhatsApp templates: read by bot/content/whatsapp.py
            else:
                topic = self.topic(data, name)
                if topic is None:
                    continue
                if topic.id in self.parts.topics or topic.chapter in chapters:
                    other = chapters.get(topic.chapter) or topic.id
                    self.problem(name, "id", f"topic {topic.id!r} (chapter {topic.chapter}) clashes with {other}")
                    continue
                self.parts.topics[topic.id] = topic
                self.parts.files[topic.id] = name
                chapters[topic.chapter] = name
        return self.parts

    # -- system.yaml and words.yaml -------------------------------------------------------

    def system_texts(self, data, name: str) -> dict[str, str]:
        if not isinstance(data, dict):
            self.problem(name, "", "must be a mapping of text name to text")
            return {}
        texts = {}
        for key, value in data.items():
            key = str(key)
            if not isinstance(value, str) or not value.strip():
                self.problem(name, key, "must be non-empty text")
                continue
            self.check_chars(value.strip(), name, key)
            try:
                unknown = placeholders(value) - PLACEHOLDERS.get(key, placeholders(value))
            except ValueError as e:  # a lone { or }: the reply would crash
                self.problem(name, key, f"braces: {e} (a placeholder is written {{name}})")
                continue
            if unknown:
                allowed = sorted(PLACEHOLDERS[key])
                self.problem(name, key, f"placeholders {sorted(unknown)} are not among those the app fills {allowed}")
                continue
            texts[key] = value.strip()
        return texts

    def words(self, data, name: str) -> dict:
        if not isinstance(data, dict):
            self.problem(name, "", "must be a mapping (name:, aliases:, opt_out: ...)")
            return {}
        found: dict = {}
        if not isinstance(data.get("name"), str) or not data["name"].strip():
            self.problem(name, "name", "missing: the language's own name")
        else:
            found["name"] = data["name"].strip()
        for key in ("aliases", *COMMANDS):
            value = self.word_list(data.get(key, []), name, key)
            if value is not None:
                found[key] = tuple(dict.fromkeys(filter(None, (normalise_keyword(str(w)) for w in value))))
        danger = self.phrases(data.get("danger", []), name, "danger")
        found["danger"] = danger
        symptoms = data.get("symptoms", {})
        if not isinstance(symptoms, dict):
            self.problem(name, "symptoms", "must be a mapping of symptom name to a list of words")
            symptoms = {}
        found["symptoms"] = {}
        for symptom, words in symptoms.items():
            if not ID.match(str(symptom)):
                self.problem(name, f"symptoms.{symptom}", "a symptom name is a lowercase word, e.g. fever")
                continue
            found["symptoms"][str(symptom)] = self.phrases(words, name, f"symptoms.{symptom}")
        if self.english is None:
            for key in COMMANDS:
                if not found.get(key):
                    self.problem(name, key, "missing: English must define every command word")
        return found

    def word_list(self, value, name: str, key: str) -> list | None:
        if not isinstance(value, list) or not all(isinstance(w, (str, int)) for w in value):
            self.problem(name, key, "must be a list of words")
            return None
        if any(isinstance(w, bool) for w in value):
            self.problem(name, key, 'YES, NO, ON and OFF must be in quotes ("YES") or YAML reads them as true/false')
            return None
        return value

    def phrases(self, value, name: str, key: str) -> tuple[Phrase, ...]:
        """Danger or symptom words: whole words and phrases, matched after normalisation."""
        value = self.word_list(value, name, key)
        found: list[Phrase] = []
        for w in value or ():
            p = phrase(str(w))
            if not p or all(word.isdigit() for word in p):
                self.problem(name, key, f"{w!r} has no words to match")
            elif p not in found:
                found.append(p)
        return tuple(found)

    # -- topic files ----------------------------------------------------------------------

    def topic(self, data, name: str) -> Topic | None:
        if not isinstance(data, dict):
            self.problem(name, "", "a topic file must be a mapping (id:, title:, messages: ...)")
            return None
        required = TOPIC_FIELDS if self.english is None else TRANSLATED_TOPIC_FIELDS
        missing = [f for f in required if f not in data]
        for f in missing:
            self.problem(name, f, "missing")
        if missing:
            self.parts.broken.add(str(data.get("id", "")))
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
        elif not ID.match(topic_id):
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
        helpline = self.flag(data, "helpline", base.helpline if base else False, name, "")
        discreet = base.discreet if base else self.flag(data, "discreet", False, name, "")
        guidance = base.guidance_checked if base else data.get("guidance_checked") or ""
        if not isinstance(guidance, str):
            self.problem(name, "guidance_checked", "must be text")
            guidance = ""
        messages = data["messages"]
        if not isinstance(messages, list) or not messages:
            self.problem(name, "messages", "must be a non-empty list")
            messages = []
        parsed: list[KeyMessage | None] = []
        for n, m in enumerate(messages, 1):
            previous = parsed[-1].number if parsed and parsed[-1] else None
            parsed.append(self.message(m, n, topic_id, name, previous, base))
        if len(self.problems) > before:
            self.parts.broken.add(topic_id)
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
            discreet=discreet,
            guidance_checked=" ".join(guidance.split()),
        )

    def flag(self, data: dict, key: str, default: bool, name: str, place: str) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(name, f"{place}{key}", "must be true or false")
            return default
        return value

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
        if base is None:
            same_as = str(data.get("same_as") or "").strip()
            discreet = self.flag(data, "discreet", False, name, f"{place}.")
        else:  # one fact, one privacy rule, whatever the language: both come from English
            same_as, discreet = (original.same_as, original.discreet) if original else ("", False)
        reviewed_by, reviewed_on = self.review(data, name, place)
        return KeyMessage(
            id=data["id"],
            number=int(match[1]) if match else number,
            source=str(data.get("source") or (original.source if original else "")).strip(),
            confidence=confidence,
            short=short,
            detail=detail,
            review_note=str(data.get("review_note") or (original.review_note if original else "")).strip(),
            same_as=same_as,
            discreet=discreet,
            reviewed_by=reviewed_by,
            reviewed_on=reviewed_on,
            lang=self.code,
        )

    def review(self, data: dict, name: str, place: str) -> tuple[str, str]:
        """This language's sign-off of the message: both reviewed_by and reviewed_on, or neither."""
        by, on = data.get("reviewed_by"), data.get("reviewed_on")
        if by is None and on is None:
            return "", ""
        if not isinstance(by, str) or not by.strip():
            self.problem(name, f"{place}.reviewed_by", "must name who reviewed the text (with reviewed_on)")
            return "", ""
        date = iso_date(on)
        if not date:
            self.problem(name, f"{place}.reviewed_on", f"must be an ISO date like 2026-12-01, not {on!r}")
            return "", ""
        return " ".join(by.split()), date

    # -- checks ---------------------------------------------------------------------------

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
