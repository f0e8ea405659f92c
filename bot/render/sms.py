"""SMS: replies as numbered parts of N segments; what does not fit waits behind MORE."""

from __future__ import annotations

from dataclasses import dataclass

from bot import segments
from bot.content import Language
from bot.render import Renderer, Wording


@dataclass(frozen=True)
class SmsRenderer(Renderer):
    budget: int = 1  # segments per part
    max_parts: int = 3  # parts per reply; the rest waits behind MORE
    smart: bool = True
    transliterate: frozenset[str] = frozenset()  # languages sent with GSM-7 look-alike letters

    def part_limit(self, encoding: str) -> int:
        return segments.capacity(encoding, self.budget)

    def cut(self, text: str, lang: Language, wording: Wording | None = None) -> segments.Split:
        text = self.encode(text, lang, self.smart, self.transliterate)
        limits = {enc: self.part_limit(enc) for enc in (segments.GSM7, segments.UCS2)}
        return segments.split(text, limits=limits, max_parts=self.max_parts, more_marker=lang.word("more"),
                              marker_sep=" ")  # fmt: skip

    def with_help(self, text: str, hint: str, help_line: str) -> str:
        # Every part is delivered, so the helpline ends the reply (and `helped` keeps it out of MORE).
        return f"{text}\n{hint}{help_line}" if hint else f"{text}{help_line}"

    def reaches(self, text: str, lang: Language, wording: Wording) -> bool:
        return not self.cut(text, lang, wording).rest
