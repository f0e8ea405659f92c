"""What the catalog is made of: topics, key messages, languages, helplines, and the problems found loading them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from bot.content.words import Phrase, find_phrase, longest_phrase, phrase_index

FALLBACK = "en"
CONFIDENCE = ("verified", "derivative", "unconfirmed")


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
    same_as: str = ""  # another topic's message that says the same thing: a subscription sends only one
    discreet: bool = False  # its text alone can expose someone on a shared phone
    reviewed_by: str = ""  # who signed off this language's text (`factsbot content signoff`)
    reviewed_on: str = ""  # ISO date of that sign-off
    lang: str = FALLBACK  # the language short and detail are written in (English where a translation lacks it)


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
    discreet: bool = False  # its very name can expose someone: headers never show it
    guidance_checked: str = ""  # what was checked against which current guideline (English)

    def message(self, message_id: str) -> KeyMessage | None:
        return next((m for m in self.messages if m.id == message_id), None)

    def is_discreet(self, message: KeyMessage) -> bool:
        """Whether a header showing this message may not name the topic."""
        return self.discreet or message.discreet


NO_MEANING: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Helpline:
    """Where a country's people get help now; an empty field means "no number known": say so without one."""

    child: str
    emergency: str


@dataclass(frozen=True)
class SymptomRoute:
    """The key message a symptom leads to (`elsewhere`: where malaria is not endemic, if it differs)."""

    message: str
    elsewhere: str = ""


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
    danger: tuple[Phrase, ...] = ()  # emergency words and phrases, own and English, as word tuples
    symptoms: dict[str, tuple[Phrase, ...]] = field(default_factory=dict)  # symptom -> phrases, own and English
    files: dict[str, str] = field(default_factory=dict)  # topic id -> this language's file of it, if it has one

    def topic(self, topic_id: str) -> Topic:
        return next(t for t in self.topics if t.id == topic_id)

    def message(self, message_id: str) -> tuple[Topic, KeyMessage] | None:
        """A key message by id, with its topic."""
        for topic in self.topics:
            found = topic.message(message_id)
            if found:
                return topic, found
        return None

    def is_command(self, word: str, command: str) -> bool:
        return command in self.meanings(word)

    def meanings(self, word: str) -> frozenset[str]:
        """The commands `word` is a word for (none, for most words): one lookup answers every `is_command`."""
        return self._meanings.get(word, NO_MEANING)

    @cached_property
    def _meanings(self) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {}
        for command, words in self.commands.items():
            for word in words:
                found.setdefault(word, set()).add(command)
        return {word: frozenset(commands) for word, commands in found.items()}

    def word(self, command: str) -> str:
        """The word shown to people for a command, in this language (e.g. MORE, PLUS)."""
        own = self.own_words.get(command)
        return own[0] if own else sorted(self.commands[command])[0]

    @cached_property
    def _danger_index(self) -> dict[str, tuple[Phrase, ...]]:
        return phrase_index(self.danger)

    @cached_property
    def _symptom_index(self) -> tuple[tuple[str, dict[str, tuple[Phrase, ...]]], ...]:
        return tuple((name, phrase_index(phrases)) for name, phrases in self.symptoms.items())

    def is_danger(self, text: str) -> bool:
        """Whether the text describes an emergency: one danger phrase's words appear in it, in a row."""
        return find_phrase(text, self._danger_index)

    def symptom(self, text: str) -> str:
        """The symptom the text names by its longest phrase, or "".

        The longest wins because a short word can sit inside another symptom's phrase: "mtoto
        ana homa ya mapafu" (pneumonia) holds "homa" (fever). On a tie, words.yaml's order.
        """
        found, longest = "", 0
        for name, index in self._symptom_index:
            length = longest_phrase(text, index)
            if length > longest:
                found, longest = name, length
        return found

    def review_progress(self) -> tuple[int, int]:
        """(key messages signed off in this language, key messages): a translation counts only its own texts."""
        messages = [m for t in self.topics for m in t.messages]
        return sum(bool(m.reviewed_by) and m.lang == self.code for m in messages), len(messages)


@dataclass
class Catalog:
    languages: dict[str, Language]
    helplines: dict[str, Helpline]
    default_helpline: Helpline
    symptoms: dict[str, SymptomRoute] = field(default_factory=dict)
    whatsapp: dict[str, dict] = field(default_factory=dict)  # language -> approved templates by name

    def language(self, code: str | None) -> Language:
        return self.languages.get(code or FALLBACK) or self.languages[FALLBACK]

    def helpline(self, country: str | None) -> Helpline:
        """The country's numbers; an unlisted country gets the default, which names no other region's number."""
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
