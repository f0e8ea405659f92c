"""USSD: one screen per request, with numbered navigation; what does not fit waits behind 98."""

from __future__ import annotations

from dataclasses import dataclass

from bot import segments
from bot.content import Language
from bot.navigation import Line
from bot.render import Renderer, Wording


@dataclass(frozen=True)
class UssdRenderer(Renderer):
    screen: int = 178  # characters per screen (GSM-7), the CON/END prefix taken off
    screen_ucs2: int = 76  # characters per screen when the text needs UCS-2
    smart: bool = True
    transliterate: frozenset[str] = frozenset()

    prefix = "ussd_"
    silent_when_opted_out = False

    def part_limit(self, encoding: str) -> int:
        return self.screen if encoding == segments.GSM7 else self.screen_ucs2

    def cut(self, text: str, lang: Language, wording: Wording) -> segments.Split:
        text = self.encode(text, lang, self.smart, self.transliterate)
        limits = {enc: self.part_limit(enc) for enc in (segments.GSM7, segments.UCS2)}
        return segments.split(text, limits=limits, max_parts=1, more_marker=wording("more_marker"), marker_sep="\n")

    def with_help(self, text: str, hint: str, help_line: str) -> str:
        # A screen shows only what fits before "98 More", so the helpline comes before the options.
        return f"{text}{help_line}\n{hint}"

    def must_fit(self, help_line: str) -> str:
        return help_line

    def menu_lead(self, lines: tuple[Line, ...]) -> tuple[Line, ...]:
        # The menu in the new language says it all; a line naming the language ("Français",
        # "हिंदी") would make the screen UCS-2 and push every topic off it.
        return tuple(line for line in lines if line.key != "language_set")
