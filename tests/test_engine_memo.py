"""The engine remembers answers to short texts: what it remembers must never differ from what it would work out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import content, engine
from bot.engine import Engine
from bot.menu import Profile, Session, State
from bot.render.sms import SmsRenderer
from bot.render.ussd import UssdRenderer
from bot.settings import ROOT

CATALOG = content.load(ROOT / "messages")
SMS = SmsRenderer()
SESSIONS = [Session(), Session(State.MENU), Session(State.MENU, page=1), Session(State.MESSAGE, topic="malaria"),
            Session(State.DETAIL, topic="malaria", index=1),
            Session(State.MESSAGE, topic="nutrition", index=2)]  # fmt: skip
PROFILES = [Profile(), Profile(lang="en", country="KE"), Profile(lang="sw", country="KE"), Profile(country="IN"),
            Profile(lang="en", opted_out=True), Profile(lang="en", subscriptions=("malaria",))]  # fmt: skip
TEXTS = ["hi", "1", "2", "MORE", "NEXT", "MENU", "more", "malaria", "HELP", "0", "9", "STOP", "START", "JOIN", "x"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SESSIONS), st.sampled_from(PROFILES), st.sampled_from(TEXTS)),
                min_size=1, max_size=30))  # fmt: skip
def test_a_remembered_answer_is_the_answer_a_new_engine_works_out(turns):
    # One engine answers the whole sequence, remembering as it goes; each answer is compared with
    # that of an engine that has remembered nothing. A memo keyed on less than (session, profile,
    # text) would hand one person's answer to another here.
    remembering = Engine(CATALOG, SMS)
    for session, profile, text in turns:
        fresh = Engine(CATALOG, SMS).answer_text(session, profile, text)
        assert remembering.answer_text(session, profile, text) == fresh


def test_the_same_words_in_the_same_place_answer_each_person_in_their_own_language():
    shared = Engine(CATALOG, SMS)
    place = Session(State.MESSAGE, topic="malaria")
    english = shared.answer_text(place, Profile(lang="en", country="KE"), "MORE")
    swahili = shared.answer_text(place, Profile(lang="sw", country="KE"), "MORE")
    assert english.parts != swahili.parts
    assert english.profile.lang == "en" and swahili.profile.lang == "sw"


def test_each_channel_remembers_its_own_answers():
    place, person = Session(State.MESSAGE, topic="malaria"), Profile(lang="en", country="KE")
    sms, ussd = Engine(CATALOG, SMS), Engine(CATALOG, UssdRenderer())
    assert sms.answer_text(place, person, "MORE") == sms.answer_text(place, person, "MORE")
    assert ussd.answer_text(place, person, "MORE").parts != sms.answer_text(place, person, "MORE").parts


def test_what_is_remembered_is_bounded_and_long_texts_are_not_kept():
    remembering = Engine(CATALOG, SMS)
    person = Profile(lang="en", country="KE")
    question = "is it safe to give my baby water when it is very hot outside?"
    assert len(question) > engine.REMEMBERED_TEXT_MAX
    remembering.answer_text(Session(), person, question)
    assert remembering._remembered.cache_info().currsize == 0
    for n in range(engine.REMEMBERED_ANSWERS + 50):
        remembering.answer_text(Session(), person, f"w{n}")
    assert remembering._remembered.cache_info().currsize == engine.REMEMBERED_ANSWERS
