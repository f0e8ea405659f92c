"""The menu engine: one input for one person -> where they are now and what to send them. Pure.

`Engine` bundles what every turn needs (the catalog, the channel's renderer, the deployment's
context). A turn reads the input into an `Action` (bot/reading, or a channel's own reader),
navigates (bot/navigation) and renders (bot/render): a new channel is a renderer, not an `if`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from bot import navigation, reading
from bot.content import Catalog, Language
from bot.menu import Action, Answer, Context, Event, Profile, Session, State
from bot.navigation import Here, Line, Move, Show
from bot.render import Renderer, rendered

# Answers to texts a process remembers per engine (so per content read): a menu service hears
# the same few words (MORE, NEXT, MENU, a digit) from the same few places all day. Longer
# texts are questions in a family's own words, rarely said twice: they are not kept.
REMEMBERED_ANSWERS = 4096
REMEMBERED_TEXT_MAX = 40


@dataclass(frozen=True)
class Engine:
    catalog: Catalog
    renderer: Renderer
    context: Context = Context()
    # A turn is a pure function of (session, profile, text) for one catalog, renderer and context.
    _remembered: Callable[[Session, Profile, str], Answer] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_remembered", lru_cache(maxsize=REMEMBERED_ANSWERS)(self._answer_text))

    def language(self, profile: Profile) -> Language:
        return self.catalog.language(profile.lang or self.context.default_lang)

    def settle_language(self, profile: Profile) -> Profile:
        """A first contact's language comes from their number's country."""
        return profile if profile.lang else replace(profile, lang=self.context.first_language(profile.country))

    def answer_text(self, session: Session, profile: Profile, text: str) -> Answer:
        """Advance one person's conversation by one inbound text (SMS words)."""
        if len(text) <= REMEMBERED_TEXT_MAX:
            return self._remembered(session, profile, text)
        return self._answer_text(session, profile, text)

    def _answer_text(self, session: Session, profile: Profile, text: str) -> Answer:
        # Read the text in the language the person will get; `answer` still sees a first contact as such.
        action = reading.read_text(text, session, self.settle_language(profile), self.catalog)
        return self.answer(session, profile, action)

    def answer(self, session: Session, profile: Profile, action: Action) -> Answer:
        """Carry out one action for one person."""
        first_contact = not profile.lang
        profile = self.settle_language(profile)
        lang = self.catalog.language(profile.lang)
        if session.topic and not navigation.still_there(session, lang):
            session = Session(State.MENU)  # published content dropped or shortened the topic they were reading
        here = Here(session, profile, lang, self.catalog, self.context, self.layout,
                    self.renderer.silent_when_opted_out, matches=self.renderer.question_matches)  # fmt: skip
        return self.render(navigation.navigate(here, action, first_contact))

    def say(self, session: Session, profile: Profile, event: Event, line: Line) -> Answer:
        """One system text, outside the menu's navigation (e.g. a USSD offer to resume)."""
        lang = self.language(profile)
        return self.render(Move(Show.TEXT, session, profile, event, lang, lines=(line,)))

    def render(self, move: Move) -> Answer:
        if move.show is Show.NOTHING:
            return Answer(move.session, move.profile, (), move.event)
        cut = rendered(self.renderer, move, self.context)
        # Most replies fit and leave nothing pending: no new session then (replace is slow, and this runs every time).
        session = move.session if move.session.pending == cut.rest else replace(move.session, pending=cut.rest)
        return Answer(session, move.profile, cut.parts, move.event, move.log_topic, move.log_message)

    def cut(self, text: str, profile: Profile) -> tuple[str, ...]:
        """Any other reply (e.g. to a field worker) cut as this channel sends it."""
        lang = self.language(profile)
        return self.renderer.cut(text, lang, self.renderer.wording(lang, self.context)).parts

    def layout(self, lang: Language) -> navigation.Layout:
        return self.renderer.menu_layout(lang, self.context)

    def menu_pages(self, lang: Language) -> tuple[str, ...]:
        """The topic menu's pages as this channel shows them."""
        return self.renderer.menu_pages(lang, self.renderer.wording(lang, self.context))
