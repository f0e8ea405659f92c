"""Voice: a move as clips to play (a recording id, its words, their language), and the keypad's menu pages.

The same navigation as SMS and USSD; only the looks differ. A menu page names each topic
with its key ("For Malaria, press 3"), five to a page, 8 for more; a key message ends with
what each key does. The words come from `messages/<lang>/audio/prompts.yaml`, each entry
one recording (`prompt-<key>`); a topic's name is `topic-<id>`, a key message `<id>` and
its detail `<id>-detail`. Keys: bot/voice.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.audio import Clip
from bot.content import Language, Topic
from bot.menu import Context
from bot.navigation import Layout, Line, Move, Show
from bot.render import Renderer

PAGE_SIZE = 5  # topics per menu page: keys 1-5 (a page read aloud takes about 20 seconds)

# System texts the navigation may ask for -> the voice prompt that says them. Texts that
# only an SMS word can reach (help, STOP, invitations) are never asked for on a call. A
# private topic's `<key>_discreet` twin says what its key's prompt says (prompts name no topic).
LINES = {
    "welcome": ("welcome",),
    "language_hint": (),  # every voice menu page says how to change language
    "language_set": ("language_set",),
    "restarted": ("welcome",),
    "topic_end": ("topic_end",),
    "sms_sent": ("sms_sent",),
    "joined": ("joined",),
    "joined_call": ("joined_call",),
    "left": ("joined",),
    "ussd_resume": ("resume",),
}
FALLBACK_LINE = ("unknown",)  # pick_number, pick_message, unknown, empty, join_which...


@dataclass(frozen=True)
class VoiceRenderer(Renderer):
    # language -> prompt key -> words (bot.audio.prompts); read by the shell, passed in.
    prompts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    prefix = "voice_"
    silent_when_opted_out = False  # a call is the person asking

    # -- what the engine asks every renderer --------------------------------------------------

    def menu_layout(self, lang: Language, context: Context) -> Layout:
        numbers = range(1, len(lang.topics) + 1)
        return tuple(tuple(numbers[i : i + PAGE_SIZE]) for i in range(0, len(numbers), PAGE_SIZE))

    # -- clips --------------------------------------------------------------------------------

    def say(self, lang: str, key: str) -> Clip:
        """One voice prompt, in `lang`."""
        return Clip(f"prompt-{key}", self.prompts.get(lang, {}).get(key, ""), lang)

    def clips(self, move: Move) -> tuple[Clip, ...]:
        """What to play for `move`, in order (empty words dropped: "For" has none in French)."""
        code = move.lang.code
        show = move.show
        if show is Show.NOTHING:
            found: list[Clip] = []
        elif show is Show.MENU:
            found = [*self.lines(code, move.lines), *self.menu_page(move.lang, move.page)]
        elif show is Show.LANGUAGES:
            found = [self.say(code, "language_menu")]
            for n, choice in enumerate(self.prompts, 1):
                found += [self.say(choice, "language_for"), self.say(choice, f"press_{n}")]
        elif show in (Show.MESSAGE, Show.DETAIL):
            found = self.reading(move)
        else:  # TEXT; PENDING never happens on a call (nothing waits behind MORE)
            found = self.lines(code, move.lines)
        return tuple(clip for clip in found if clip.text)

    def lines(self, code: str, lines: tuple[Line, ...]) -> list[Clip]:
        keys = (LINES.get(line.key.removesuffix("_discreet"), FALLBACK_LINE) for line in lines)
        return [self.say(code, key) for said in keys for key in said]

    def menu_page(self, lang: Language, page: int) -> list[Clip]:
        code = lang.code
        layout = self.menu_layout(lang, Context())
        found = [self.say(code, "menu_header")]
        for key, number in enumerate(layout[page], 1):
            topic = lang.topics[number - 1]
            found += [self.say(code, "menu_for"), Clip(f"topic-{topic.id}", topic.label, code),
                      self.say(code, f"press_{key}")]  # fmt: skip
        if len(layout) > 1:
            found.append(self.say(code, "menu_more" if page < len(layout) - 1 else "menu_last"))
        found.append(self.say(code, "menu_language"))
        return found

    def reading(self, move: Move) -> list[Clip]:
        topic, code = move.topic, move.lang.code
        m = topic.messages[move.index]
        found = []
        if move.show is Show.MESSAGE:
            # A private topic is never named aloud: a call can be overheard.
            if not topic.is_discreet(m):
                found.append(Clip(f"topic-{topic.id}", topic.label, code))
            found.append(Clip(m.id, m.short, m.lang))
        else:
            found.append(Clip(f"{m.id}-detail", m.detail, m.lang))
        found += self.helpline(move)
        found.append(self.say(code, "message_hint" if move.show is Show.MESSAGE else "detail_hint"))
        return found

    def tip_call(self, topic: Topic, index: int, lang: Language) -> tuple[Clip, ...]:
        """What an outbound call plays: a greeting, the key message and why it matters, how to stop.

        A private topic is not named, as on the line: a call can be overheard.
        """
        m, code = topic.messages[index], lang.code
        found = [self.say(code, "call_intro")]
        if not topic.is_discreet(m):
            found.append(Clip(f"topic-{topic.id}", topic.label, code))
        found += [Clip(m.id, m.short, m.lang), Clip(f"{m.id}-detail", m.detail, m.lang), self.say(code, "call_end")]
        return tuple(clip for clip in found if clip.text)

    def reminder_call(self, reminder: Clip, lang: Language) -> tuple[Clip, ...]:
        """A timed reminder as a call ("your baby is 6 weeks old: the vaccines"): greeting, reminder, how to stop."""
        found = [self.say(lang.code, "call_intro"), reminder, self.say(lang.code, "call_end")]
        return tuple(clip for clip in found if clip.text)

    def helpline(self, move: Move) -> list[Clip]:
        h, code = move.helpline, move.lang.code
        if h is None:
            return []
        if not (h.child or h.emergency):
            return [self.say(code, "helpline_no_number")]
        found = []
        for key, number in (("helpline_child", h.child), ("helpline_emergency", h.emergency)):
            if number:
                found += [self.say(code, key), *self.digits(code, number)]
        return [*found, self.say(code, "helpline_end")]

    def digits(self, code: str, number: str) -> list[Clip]:
        """A phone number read digit by digit ("1 1 6 1 1 1"), each a recording."""
        return [self.say(code, f"digit_{d}") for d in number if d.isascii() and d.isdigit()]

    def log_text(self, clips: tuple[Clip, ...]) -> str:
        """What was played, as the message log shows it: each clip's id and words."""
        return " ".join(f"[{clip.id}] {clip.text}" for clip in clips)
