"""Complete a language from English: what a translation lacks, its command and danger words, keywords.

English is complete and authoritative: a translation falls back to it for a topic, a key
message or a system text it lacks (recorded, so the check can say what is missing), and
English's words (commands, danger and symptom words, topic keywords) work in every language.
"""

from __future__ import annotations

from dataclasses import replace

from bot.content.files import ARGUMENT_COMMANDS, COMMANDS, PLACEHOLDERS, Parts, placeholders
from bot.content.model import KeyMessage, Language, Problem, Topic
from bot.content.words import Phrase, normalise_keyword

# Texts the app reads in every language, so English must have them. Read outside the menu
# engine too: USSD's resume offer, and replies to field workers.
REQUIRED_TEXTS = (
    "welcome", "menu_header", "menu_more", "menu_last", "message", "message_short", "message_hint",
    "message_hint_short", "detail_hint", "topic_end", "pick_number", "pick_message", "unknown", "empty", "help",
    "stopped", "restarted", "helpline", "apology", "language_menu", "language_set", "language_hint",
    "more_marker", "sms_sent", "joined", "left", "join_which", "invite_accepted",
    "ussd_resume", "fw_usage", "fw_not_your_group", "fw_welcome", "fw_invited", "fw_no_broadcast",
    "fw_bad_number", "fw_preview", "fw_dropped", "fw_limit", "fw_queued", "fw_queued_quiet",
    # issue 9: urgent replies, countries without numbers, discreet topics, the language's support contact
    "urgent", "urgent_no_number", "helpline_no_number", "message_discreet", "ussd_message_discreet",
    "join_discreet_confirm", "fw_discreet_warning", "support_contact",
    # issue 9: a private topic's replies never name it
    "joined_discreet", "left_discreet", "topic_end_discreet", "pick_message_discreet",
    # issue 13: a family's own question
    "question_intro", "question_none", "question_helpdesk", "question_no_helpdesk", "question_hint",
    # issue 11: registering for timed messages, a loss, FORGET (bot/family.py)
    "timed_baby", "timed_pregnancy", "timed_usage", "timed_bad_date", "timed_bad_weeks", "timed_future_birth",
    "timed_too_old", "timed_due_passed", "timed_due_too_far", "timed_loss", "timed_forget_ask", "timed_forgotten",
    "ussd_timed_menu", "ussd_timed_birth", "ussd_timed_due",
)  # fmt: skip


class Merger:
    """Builds one Language from its parsed files and English, appending every problem it meets."""

    def __init__(self, code: str, name: str, english: Language | None, problems: list[Problem]):
        self.code, self.name, self.english, self.problems = code, name, english, problems

    def problem(self, file: str, place: str, message: str) -> None:
        self.problems.append(Problem(file, place, message))

    def language(self, parts: Parts, *, require_review: bool = False) -> Language:
        en, words = self.english, parts.words
        fallbacks: list[str] = []
        topics, texts = dict(parts.topics), dict(parts.texts)
        if en is None:
            self.check_english(parts)
        else:
            fallbacks += self.complete_topics(topics, en, require_review)
            fallbacks += self.complete_texts(texts, en)
            if not words:
                fallbacks.append("words")
        commands = {c: frozenset(words.get(c, ())) | (en.commands[c] if en else frozenset()) for c in COMMANDS}
        name = words.get("name") or self.code
        language = Language(
            code=self.code,
            name=name,
            topics=tuple(sorted(topics.values(), key=lambda t: t.chapter)),
            texts=texts,
            aliases=frozenset({*words.get("aliases", ()), normalise_keyword(self.code), normalise_keyword(name)}),
            commands=commands,
            own_words={c: words[c] for c in COMMANDS if words.get(c)},
            fallbacks=fallbacks,
            broken=parts.broken,
            danger=self.danger(words.get("danger", ()), commands),
            symptoms=self.symptoms(words.get("symptoms", {})),
            files=parts.files,
        )
        self.index_keywords(language)
        return language

    # -- English ----------------------------------------------------------------------------

    def check_english(self, parts: Parts) -> None:
        system = f"{self.name}/system.yaml"
        for key in REQUIRED_TEXTS:
            if key not in parts.texts:
                self.problem(system, key, "missing")
        ids = {m.id: (t, m) for t in parts.topics.values() for m in t.messages}
        for topic in parts.topics.values():
            for i, m in enumerate(topic.messages, 1):
                if m.same_as and not any(m.same_as.startswith(f"{b}-") for b in parts.broken):
                    why = same_as_problem(m, topic, ids)
                    if why:
                        self.problem(parts.files[topic.id], f"messages[{i}].same_as", why)

    # -- translations -----------------------------------------------------------------------

    def complete_topics(self, topics: dict[str, Topic], en: Language, require_review: bool) -> list[str]:
        """Fill in English topics and messages the translation lacks (or, if required, has not had reviewed)."""
        fallbacks = []
        for t in en.topics:
            own = topics.get(t.id)
            if own is None:
                topics[t.id] = t
                fallbacks.append(f"topic {t.id}")
                continue
            merged: list[KeyMessage] = []
            for m in t.messages:
                mine = own.message(m.id)
                if mine is None:
                    fallbacks.append(f"message {m.id}")
                elif require_review and not mine.reviewed_by:
                    fallbacks.append(f"message {m.id} (not reviewed)")
                merged.append(m if mine is None or (require_review and not mine.reviewed_by) else mine)
            topics[t.id] = replace(own, messages=tuple(merged))
        return fallbacks

    def complete_texts(self, texts: dict[str, str], en: Language) -> list[str]:
        fallbacks = []
        for key, value in en.texts.items():
            if key not in texts:
                texts[key] = value
                fallbacks.append(f"text {key}")
            elif key not in PLACEHOLDERS and not placeholders(texts[key]) <= placeholders(value):
                # Leaving a placeholder out is a translator's choice; an unknown one would crash.
                unknown, en_fields = sorted(placeholders(texts[key]) - placeholders(value)), sorted(placeholders(value))
                self.problem(f"{self.name}/system.yaml", key,
                             f"placeholders {unknown} are not among English's {en_fields}")  # fmt: skip
        return fallbacks

    # -- words ------------------------------------------------------------------------------

    def danger(self, own: tuple[Phrase, ...], commands: dict[str, frozenset[str]]) -> tuple[Phrase, ...]:
        """This language's danger phrases, then English's; a lone command word would hijack that command."""
        reserved = frozenset().union(*commands.values())
        for p in own:
            if len(p) == 1 and p[0] in reserved:
                self.problem(f"{self.name}/words.yaml", "danger", f"{p[0]!r} is a command word")
        english = self.english.danger if self.english else ()
        return tuple(dict.fromkeys(p for p in (*own, *english) if not (len(p) == 1 and p[0] in reserved)))

    def symptoms(self, own: dict[str, tuple[Phrase, ...]]) -> dict[str, tuple[Phrase, ...]]:
        english = self.english.symptoms if self.english else {}
        names = [*english, *(n for n in own if n not in english)]
        return {n: tuple(dict.fromkeys((*own.get(n, ()), *english.get(n, ())))) for n in names}

    def index_keywords(self, language: Language) -> None:
        reserved = frozenset().union(*(w for c, w in language.commands.items() if c not in ARGUMENT_COMMANDS))
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


def same_as_problem(message: KeyMessage, topic: Topic, ids: dict[str, tuple[Topic, KeyMessage]]) -> str:
    """Why a message's same_as is wrong, or "": it names another topic's message that names none itself."""
    found = ids.get(message.same_as)
    if found is None:
        return f"{message.same_as!r} is not a key message id"
    other_topic, other = found
    if other_topic.id == topic.id:
        return f"{message.same_as!r} is in the same topic: a topic's messages are all sent anyway"
    if other.same_as:
        return f"{message.same_as!r} itself has same_as {other.same_as!r}: point at {other.same_as!r} instead"
    return ""
