"""Renderers: how a `Move` looks on one channel. One subclass per channel (SMS parts, USSD screens).

The base class holds what every text channel shares (choosing a key message's fullest form
that fits, the numbered topic menu); a channel overrides only what differs: its limits,
its wording prefix, how a reply is cut, where the helpline line goes.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import lru_cache

from bot import segments
from bot.content import Language
from bot.menu import Context
from bot.navigation import Layout, Line, Move, Show, heading


@dataclass(frozen=True)
class Wording:
    """A language's system texts as one channel words them, with the program's own fields filled in."""

    lang: Language
    context: Context
    prefix: str = ""  # a channel's own variant of a text, e.g. "ussd_help" before "help"

    def __call__(self, key: str, **fields) -> str:
        texts = self.lang.texts
        template = texts.get(self.prefix + key) if self.prefix else None
        if template is None:
            template = texts[key]
        # SUPPORT_CONTACT when set, else the language's own words for it ("your local health worker").
        contact = self.context.contact or texts.get("support_contact", "")
        known = {"program": self.context.program, "contact": contact, "days": self.context.drip_days}
        return template.format(**{**known, **fields})

    def line(self, line: Line) -> str:
        return self(line.key, **dict(line.fields))


class Renderer:
    """How one channel shows moves. Subclasses are frozen dataclasses holding the channel's limits."""

    prefix = ""  # see Wording.prefix
    silent_when_opted_out = True  # SMS must stay silent after STOP; a USSD dial is the person asking
    question_matches = 2  # key messages offered in answer to a family's question

    # -- what a channel defines ---------------------------------------------------------------

    def part_limit(self, encoding: str) -> int:
        raise NotImplementedError

    def cut(self, text: str, lang: Language, wording: Wording) -> segments.Split:
        """Any reply as the channel sends it: cut into parts, the rest waiting behind MORE."""
        raise NotImplementedError

    def with_help(self, text: str, hint: str, help_line: str) -> str:
        """`text`, its navigation `hint`, and where to get help now."""
        raise NotImplementedError

    def must_fit(self, help_line: str) -> str:
        """What has to fit in the first part along with a key message (see with_help)."""
        return ""

    def reaches(self, text: str, lang: Language, wording: Wording) -> bool:
        """Whether all of `text` is sent now, nothing of it behind MORE (where a helpline must never wait).

        A channel that shows the helpline before anything can be cut (USSD, see must_fit) keeps the default.
        """
        return True

    def menu_lead(self, lines: tuple[Line, ...]) -> tuple[Line, ...]:
        return lines

    # -- shared -------------------------------------------------------------------------------

    def wording(self, lang: Language, context: Context) -> Wording:
        return Wording(lang, context, self.prefix)

    def render(self, move: Move, context: Context) -> segments.Split:
        """The parts of `move`'s reply (and what waits behind MORE)."""
        w = self.wording(move.lang, context)
        body = self.body(move, w)
        if move.footer:
            body = "\n".join([body, *map(w.line, move.footer)])
        return self.cut(body, move.lang, w)

    def body(self, move: Move, w: Wording) -> str:
        show = move.show
        if show is Show.TEXT:
            return "\n".join(map(w.line, move.lines))
        if show is Show.PENDING:
            return move.text
        if show is Show.MENU:
            page = self.menu_pages(move.lang, w)[move.page]
            return "\n".join([*map(w.line, self.menu_lead(move.lines)), page])
        if show is Show.LANGUAGES:
            return "\n".join([w("language_menu"), *(f"{n} {name}" for n, name in enumerate(move.choices, 1))])
        if show is Show.MESSAGE:
            return self.message(move, w)
        if show is Show.DETAIL:
            detail = move.topic.messages[move.index].detail
            return self.helped([(detail, w("detail_hint"))], self.helpline(move, w), move.lang, w)
        raise ValueError(f"nothing to render for {show}")

    def message(self, move: Move, w: Wording) -> str:
        topic, m = move.topic, move.topic.messages[move.index]
        n, total = move.index + 1, len(topic.messages)
        # The fullest form that still fits one part: the key message itself must
        # never wait behind MORE because of our own decoration.
        # A private topic's header never names it: phones are often shared.
        full = w.line(heading(topic, move.index))
        brief = w("message_short", n=n, total=total, short=m.short)
        hint, short_hint = w("message_hint"), w("message_hint_short")
        help_line = self.helpline(move, w)
        must_fit = self.must_fit(help_line)
        forms = [(full, hint), (full, short_hint), (brief, short_hint)]
        fitting = [f for f in forms if self.fits(f"{f[0]}{must_fit}\n{f[1]}")] or forms[-1:]
        return self.helped(fitting, help_line, move.lang, w)

    def helped(self, forms: list[tuple[str, str]], help_line: str, lang: Language, w: Wording) -> str:
        """The first (text, hint) form whose whole reply, helpline included, is sent now.

        A helpline behind MORE is one a family may never see, so the navigation hint goes
        first (the last form's text without it), and if even that is too long, the helpline
        leads and the text's end waits behind MORE (`factsbot content check` keeps our own
        texts from needing either; a long CHILD_HELPLINE override may).
        """
        if not help_line:
            return self.with_help(*forms[0], "")
        text = forms[-1][0]
        replies = [self.with_help(t, hint, help_line) for t, hint in forms] + [self.with_help(text, "", help_line)]
        return next((r for r in replies if self.reaches(r, lang, w)), f"{help_line.lstrip()}\n{text}")

    def helpline(self, move: Move, w: Wording) -> str:
        h = move.helpline
        if h is None:
            return ""
        if h.child and h.emergency:
            return "\n" + w("helpline", child=h.child, emergency=h.emergency)
        return "\n" + w("helpline_no_number")  # never another region's number

    def fits(self, text: str) -> bool:
        return segments.units(text) <= self.part_limit(segments.encoding_of(text))

    def encode(self, text: str, lang: Language, smart: bool, transliterate: frozenset[str]) -> str:
        """Smart-encoded and transliterated by the deployment's policy."""
        if smart:
            text = segments.smart_encode(text)
        if lang.code in transliterate:
            text = segments.transliterate(text)
        return text

    def menu_layout(self, lang: Language, context: Context) -> Layout:
        """Which topic numbers each menu page lists."""
        w = self.wording(lang, context)
        lines = tuple(f"{n} {t.label}" for n, t in enumerate(lang.topics, 1))
        footer = max(w("menu_more"), w("menu_last"), key=len)
        limits = (self.part_limit(segments.GSM7), self.part_limit(segments.UCS2))
        return _layout(lines, w("menu_header"), footer, *limits)

    def menu_pages(self, lang: Language, w: Wording) -> tuple[str, ...]:
        """The topic menu's pages as this channel shows them."""
        layout = self.menu_layout(lang, w.context)
        header, more, last = w("menu_header"), w("menu_more"), w("menu_last")
        listed = [[f"{n} {lang.topics[n - 1].label}" for n in page] for page in layout]
        if len(listed) == 1:
            return ("\n".join([header, *listed[0]]),)
        return tuple("\n".join([header, *p, more if i < len(listed) - 1 else last]) for i, p in enumerate(listed))


@lru_cache(maxsize=256)
def _layout(lines: tuple[str, ...], header: str, footer: str, limit7: int, limit16: int) -> Layout:
    """Cut the numbered topic list into pages that each fit one part in their encoding."""
    pages: list[list[int]] = []
    current: list[int] = []
    for n, line in enumerate(lines, 1):
        candidate = "\n".join([header, *(lines[i - 1] for i in current), line, footer])
        limit = limit7 if segments.is_gsm7(candidate) else limit16
        if current and segments.units(candidate) > limit:
            pages.append(current)
            current = []
        current.append(n)
    pages.append(current)
    return tuple(map(tuple, pages))


# A language's rendered replies: the same moves (a key message for a country's helpline, a menu
# page, a hint) recur for everyone, and rendering one is a pure function of the move, the channel's
# renderer, the context and the language. Kept per Language object, so content published anew
# (a new Catalog) starts empty, and dropped with it.
_RENDERED: dict[int, dict] = {}
RENDERED_MAX = 2048  # replies remembered per language; past that the language starts afresh


def rendered(renderer: Renderer, move: Move, context: Context) -> segments.Split:
    """`renderer.render(move, context)`, remembered."""
    lang = move.lang
    key = (renderer, context, move.show, move.lines, move.footer, move.page, id(move.topic), move.index,
           move.helpline, move.text, move.choices)  # fmt: skip
    try:
        remembered = _RENDERED.get(id(lang), {}).get(key)
    except TypeError:  # a field that cannot be a key (e.g. a list in a line's fields): render it afresh
        return renderer.render(move, context)
    if remembered is not None and remembered[0] is move.topic:
        return remembered[1]
    cut = renderer.render(move, context)
    cache = _RENDERED.get(id(lang))
    if cache is None:
        cache = _RENDERED[id(lang)] = {}
        weakref.finalize(lang, _RENDERED.pop, id(lang), None)  # before its id can be reused
    if len(cache) >= RENDERED_MAX:
        cache.clear()
    cache[key] = (move.topic, cut)  # the topic itself, so its id stays its own while remembered
    return cut
