"""WhatsApp: one message per reply, up to Twilio's 1,600 characters; no segments to count or split.

The whole topic menu fits one message, and a key message comes with its detail, so what SMS
spreads over MORE arrives at once. Numbers and words navigate exactly as by SMS (the same
session), so a person can switch between SMS and WhatsApp mid-topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import segments
from bot.content import Language
from bot.navigation import Move, heading
from bot.render import Renderer, Wording

# Twilio's ceiling for one message's body on every channel (error 21617 beyond it).
MAX_CHARS = 1600


@dataclass(frozen=True)
class WhatsAppRenderer(Renderer):
    max_chars: int = MAX_CHARS
    question_matches = 3  # there is room: the three closest tips

    def part_limit(self, encoding: str) -> int:
        # One limit whatever the letters: WhatsApp has no GSM-7/UCS-2, and Twilio counts characters.
        return self.max_chars

    def fits(self, text: str) -> bool:
        return len(text) <= self.max_chars

    def cut(self, text: str, lang: Language, wording: Wording | None = None) -> segments.Split:
        # Smart encoding would only make the text plainer: WhatsApp shows every character at no cost.
        if len(text) <= self.max_chars:
            return segments.Split((text,), "")
        limits = {segments.GSM7: self.max_chars, segments.UCS2: self.max_chars}
        return segments.split(text, limits=limits, max_parts=1, more_marker=lang.word("more"), marker_sep=" ")

    def with_help(self, text: str, hint: str, help_line: str) -> str:
        return f"{text}\n{hint}{help_line}"

    def message(self, move: Move, w: Wording) -> str:
        """The key message and its detail in one message, headed as SMS heads it."""
        head = w.line(heading(move.topic, move.index))
        m = move.topic.messages[move.index]
        return self.with_help(f"{head}\n\n{m.detail}", w("detail_hint"), self.helpline(move, w))
