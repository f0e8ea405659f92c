"""Whether a child-protection reply carries its helpline in the SMS it is sent in.

A topic marked `helpline: true` ends every reply with where to get help now (the country's
child helpline and emergency number, or the no-number text). Sent by SMS, a reply gets at
most SMS_MAX_PARTS parts; what does not fit waits behind MORE, and a family may never send
MORE. So the key message and its detail, each with its navigation hint, must leave room for
the helpline line of the countries whose first-contact language it is (COUNTRY_LANGUAGES;
the default language, which anyone may get, for every country), and for the no-number text.
Holding Hindi to Burkina Faso's three numbers would only cost Hindi facts: someone who
chose a language its country does not start in is the SMS renderer's to fit (it drops the
hint, bot/render). A line short enough for the last part on its own (62 UCS-2 units with
"3/3 " and the MORE word) leaves the detail about 30 units more than one that must start
in the part before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot import segments, settings
from bot.content.model import Helpline, Language, Problem, Topic

# The shipped settings' defaults, which content is held to (see loader.check).
_DEFAULTS = settings.from_env({})
MAX_PARTS = _DEFAULTS["SMS_MAX_PARTS"]
SEGMENTS = _DEFAULTS["SMS_SEGMENTS_PER_PART"]
FIRST_CONTACT = tuple(settings.pairs(_DEFAULTS["COUNTRY_LANGUAGES"]))
DEFAULT_LANGUAGE = _DEFAULTS["DEFAULT_LANGUAGE"]
WAITS = "the helpline would wait behind MORE"


class _Blank(dict):
    """Fields a check cannot know (program name, contact) count as empty."""

    def __missing__(self, key: str) -> str:
        return ""


def longest(helplines: Iterable[Helpline]) -> Helpline:
    """The longest child and the longest emergency number among the entries (each may be "")."""
    found = list(helplines)
    return Helpline(max((h.child for h in found), key=len, default=""),
                    max((h.emergency for h in found), key=len, default=""))  # fmt: skip


def numbers_for(
    code: str,
    helplines: Mapping[str, Helpline],
    default: Helpline,
    country_languages: Iterable[tuple[str, str]],
    default_language: str,
) -> list[Helpline]:
    """The numbers a reply in language `code` goes out with: those of its first-contact countries
    (an unlisted one gets `default`); the default language's, every entry's."""
    if code == default_language:
        return [*helplines.values(), default]
    return [helplines.get(country, default) for country, lang in country_languages if lang == code]


def help_lines(lang: Language, numbers: Helpline) -> tuple[tuple[str, str], ...]:
    """(what it is, the line): the helpline with these numbers, and the no-number text."""
    texts, lines = lang.texts, []
    if numbers.child and numbers.emergency and "helpline" in texts:
        line = texts["helpline"].format_map(_Blank(child=numbers.child, emergency=numbers.emergency))
        lines.append((f"the helpline ({numbers.child}, {numbers.emergency})", line))
    if "helpline_no_number" in texts:
        lines.append(("helpline_no_number", texts["helpline_no_number"].format_map(_Blank())))
    return tuple(lines)


def reaches(text: str, lang: Language, max_parts: int = MAX_PARTS, budget: int = SEGMENTS) -> bool:
    """The whole of `text` is sent in at most `max_parts` SMS parts, nothing behind MORE (as bot/render/sms cuts)."""
    split = segments.split(segments.smart_encode(text), budget=budget, max_parts=max_parts,
                           more_marker=lang.word("more") if lang.commands.get("more") else "")  # fmt: skip
    return not split.rest


def replies(lang: Language, topic: Topic, help_line: str) -> Iterable[tuple[str, str, str]]:
    """(message id, which reply, its SMS text) with the smallest decoration that still keeps the hint.

    Only the messages written in this language: one it lacks (or, under CONTENT_REQUIRE_REVIEW,
    has not had signed off) is the English text, judged with English, and a translator could
    not shorten it here; sent with this language's words it is the renderer's to fit.
    """
    texts = lang.texts
    for n, m in enumerate(topic.messages, 1):
        if m.lang != lang.code:
            continue
        short = texts["message_short"].format_map(_Blank(n=n, total=len(topic.messages), short=m.short))
        yield m.id, "short", f"{short}\n{texts['message_hint_short']}\n{help_line}"
        yield m.id, "detail", f"{m.detail}\n{texts['detail_hint']}\n{help_line}"


def problems(
    languages: dict[str, Language],
    helplines: Mapping[str, Helpline],
    default: Helpline,
    country_languages: Iterable[tuple[str, str]],
    default_language: str,
    files: str = "messages",
) -> list[Problem]:
    """Every helpline topic's reply, in every language, that would leave its helpline behind MORE
    with its own countries' numbers (see numbers_for) or the no-number text."""
    country_languages = list(country_languages)
    found = []
    for code, lang in languages.items():
        needed = ("message_short", "message_hint_short", "detail_hint")
        if any(key not in lang.texts for key in needed):
            continue  # a missing text is reported where texts are read
        numbers = longest(numbers_for(code, helplines, default, country_languages, default_language))
        lines = help_lines(lang, numbers)
        for topic in lang.topics:
            if not topic.helpline:
                continue
            file = lang.files.get(topic.id, f"{files}/{code}")
            for message_id, which, text in _overflowing(lang, topic, lines):
                found.append(Problem(file, f"{message_id}.{which}", text))
    return found


def _overflowing(lang: Language, topic: Topic, lines) -> Iterable[tuple[str, str, str]]:
    reported = set()
    for kind, line in lines:
        for message_id, which, text in replies(lang, topic, line):
            if (message_id, which) in reported or reaches(text, lang):
                continue
            reported.add((message_id, which))  # once per reply: shortening it fixes both lines
            sent = segments.smart_encode(text)
            size = f"{segments.units(sent)} {segments.encoding_of(sent)} units"
            why = f"with its hint and {kind} it is {size}, more than {MAX_PARTS} SMS: {WAITS}; shorten it"
            yield message_id, which, why
