"""The voice line's pure core: keypad presses, call state, what each move plays (no app, no Redis)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import audio, content, menu, navigation, voice
from bot.audio import Clip
from bot.menu import Action, Do, Session, State
from bot.render.voice import PAGE_SIZE, VoiceRenderer
from bot.settings import ROOT

CATALOG = content.load(ROOT / "messages")
LANGS = tuple(CATALOG.languages)
PROMPTS = audio.prompts(ROOT / "messages", LANGS)
ENGINE = voice.VoiceEngine(CATALOG, VoiceRenderer(prompts=PROMPTS))
PROFILE = menu.Profile(lang="en", country="UG")
PHONE = "+256712345678"

MENU0 = Session(State.MENU, page=0)
MENU1 = Session(State.MENU, page=1)
MALARIA = Session(State.MESSAGE, topic="malaria", index=0)
MALARIA_WHY = Session(State.DETAIL, topic="malaria", index=0)


def call(session: Session = MENU0, **changes) -> voice.VoiceCall:
    return replace(voice.VoiceCall(PHONE, session), **changes)


@pytest.mark.parametrize(
    "session, digits, expected",
    [
        (MENU0, "1", Action(Do.NUMBER, 1)),
        (MENU0, "5", Action(Do.NUMBER, 5)),
        (MENU1, "1", Action(Do.NUMBER, 6)),  # a page's keys pick that page's topics
        (Session(State.MENU, page=2), "4", Action(Do.NUMBER, 14)),
        (Session(State.MENU, page=2), "5", voice.Key.GARBAGE),  # the last page has 4 topics
        (MENU0, "6", voice.Key.GARBAGE),
        (MENU0, "8", Action(Do.MORE)),
        (MENU0, "9", Action(Do.MENU)),
        (MENU0, "0", Action(Do.BACK)),
        (MENU0, "7", Action(Do.LANGUAGE)),
        (MALARIA, "1", Action(Do.WHY)),  # as on USSD: 1 why, 2 next, 3 SMS, 4 tips by SMS, 0 back
        (MALARIA, "2", Action(Do.NEXT_TIP)),
        (MALARIA, "3", Action(Do.SEND_SMS)),
        (MALARIA, "4", Action(Do.JOIN)),
        (MALARIA, "0", Action(Do.BACK)),
        (MALARIA, "9", Action(Do.MENU)),
        (MALARIA, "8", voice.Key.GARBAGE),
        (MALARIA_WHY, "2", Action(Do.NEXT_TIP)),
        (Session(State.LANGUAGE), "2", Action(Do.LANGUAGE, LANGS[1])),
        (Session(State.LANGUAGE), "9", Action(Do.MENU)),
        (MENU0, "*", voice.Key.REPEAT),
        (MALARIA, "*", voice.Key.REPEAT),
        (MENU0, "", voice.Key.NO_INPUT),
        (MENU0, "  ", voice.Key.NO_INPUT),
        (MENU0, "²", voice.Key.GARBAGE),  # str.isdigit() says yes; no keypad sends it
        (MENU0, "١", voice.Key.GARBAGE),
        (MENU0, "①", voice.Key.GARBAGE),
        (MENU0, "12", voice.Key.GARBAGE),  # one press is one key
        (MENU0, "#", voice.Key.GARBAGE),
        (MENU0, "a", voice.Key.GARBAGE),
        (MENU0, "1" * 10_000, voice.Key.GARBAGE),
    ],
)
def test_keys(session, digits, expected):
    assert voice.read_key(digits, call(session), ENGINE, PROFILE) == expected


def test_after_a_topic_ends_4_joins_that_topic():
    assert voice.read_key("4", call(MENU0, ended="malaria"), ENGINE, PROFILE) == Action(Do.JOIN, "malaria")
    assert voice.read_key("4", call(MENU0), ENGINE, PROFILE) == Action(Do.NUMBER, 4)


def test_a_resume_offer_reads_1_and_2():
    offered = call(MENU0, offer=MALARIA)
    assert voice.read_key("1", offered, ENGINE, PROFILE) == Action(Do.SHOW)
    assert voice.read_key("2", offered, ENGINE, PROFILE) == Action(Do.MENU)
    t = voice.turn(ENGINE, offered, PROFILE, "1")
    assert t.answer.session == MALARIA and t.answer.clips[1].id == "malaria-1"


def test_call_state_round_trips_and_rejects_garbage():
    c = call(MALARIA, said=(Clip("malaria-1", "Sleep under a net", "en"),), misses=1, offer=MENU1, ended="hiv", turns=3)
    assert voice.VoiceCall.from_dict(c.to_dict()) == c
    for bad in (None, {}, {"phone": 5}, {"phone": PHONE, "session": {}, "said": [[1]], "misses": 0}):
        assert voice.VoiceCall.from_dict(bad) is None


def test_no_key_says_the_prompt_once_more_then_goodbye():
    said = (Clip("prompt-menu_header", "Choose a topic.", "en"),)
    first = voice.turn(ENGINE, call(said=said), PROFILE, "")
    assert [c.id for c in first.answer.clips] == ["prompt-no_input", "prompt-menu_header"] and not first.hangup
    second = voice.turn(ENGINE, first.call, PROFILE, "")
    assert [c.id for c in second.answer.clips] == ["prompt-goodbye"] and second.hangup


def test_a_key_resets_the_no_key_count():
    t = voice.turn(ENGINE, call(misses=1), PROFILE, "1")
    assert t.call.misses == 0 and not t.hangup


def test_garbage_says_so_and_repeats_without_moving():
    said = (Clip("malaria-1", "x", "en"),)
    t = voice.turn(ENGINE, call(MALARIA, said=said), PROFILE, "²")
    assert [c.id for c in t.answer.clips] == ["prompt-unknown", "malaria-1"]
    assert t.call.session == MALARIA and t.call.said == said  # the apology is not repeated by the next *


def test_star_repeats_the_last_prompt():
    said = (Clip("malaria-1", "x", "en"), Clip("prompt-message_hint", "y", "en"))
    assert voice.turn(ENGINE, call(MALARIA, said=said), PROFILE, "*").answer.clips == said


def test_a_new_call_welcomes_and_offers_a_dropped_topic():
    fresh = voice.start(ENGINE, PHONE, PROFILE, None)
    assert fresh.answer.clips[0].id == "prompt-welcome" and fresh.call.session.state is State.MENU
    again = voice.start(ENGINE, PHONE, PROFILE, MALARIA)
    assert [c.id for c in again.answer.clips] == ["prompt-resume"] and again.call.offer == MALARIA
    gone = voice.start(ENGINE, PHONE, PROFILE, Session(State.MESSAGE, topic="malaria", index=99))
    assert gone.call.offer is None


def test_sms_and_join_act_on_the_key_message_being_heard():
    t = voice.turn(ENGINE, call(Session(State.MESSAGE, topic="malaria", index=2)), PROFILE, "3")
    assert t.answer.event is menu.Event.SEND_SMS and t.answer.message == "malaria-3"
    j = voice.turn(ENGINE, call(MALARIA), PROFILE, "4")
    assert "malaria" in j.answer.profile.subscriptions


def test_the_last_tip_then_4_joins():
    last = len(CATALOG.language("en").topic("malaria").messages) - 1
    end = voice.turn(ENGINE, call(Session(State.MESSAGE, topic="malaria", index=last)), PROFILE, "2")
    assert end.answer.event is menu.Event.TOPIC_END and end.call.ended == "malaria"
    joined = voice.turn(ENGINE, end.call, PROFILE, "4")
    assert joined.answer.profile.subscriptions == ("malaria",) and joined.call.ended == ""


def here(lang: str, country: str = "UG", session: Session = MENU0):
    return navigation.Here(session, menu.Profile(lang=lang, country=country), CATALOG.language(lang), CATALOG,
                           menu.Context(), ENGINE.layout, False)  # fmt: skip


@pytest.mark.parametrize("lang", LANGS)
def test_the_menu_names_every_topic_once_with_its_key(lang):
    topics = []
    layout = ENGINE.layout(CATALOG.language(lang))
    assert len(layout) == 3 and all(len(p) <= PAGE_SIZE for p in layout)
    for page, numbers in enumerate(layout):
        clips = ENGINE.render(navigation.menu(here(lang), page, menu.Event.MENU)).clips
        ids = [c.id for c in clips]
        named = [i.removeprefix("topic-") for i in ids if i.startswith("topic-")]
        # Each topic is followed by the key that picks it on this page.
        assert [ids[ids.index(f"topic-{t}") + 1] for t in named] == [f"prompt-press_{k}" for k in
                                                                      range(1, len(numbers) + 1)]  # fmt: skip
        assert ids[-1] == "prompt-menu_language" and all(c.lang == lang and c.text for c in clips)
        topics += named
    assert topics == [t.id for t in CATALOG.language(lang).topics]


@pytest.mark.parametrize("lang", LANGS)
def test_a_private_topic_is_never_named_before_its_tip(lang):
    for topic in CATALOG.language(lang).topics:
        for index, m in enumerate(topic.messages):
            ids = [c.id for c in ENGINE.render(navigation.show_message(here(lang), topic, index)).clips]
            assert m.id in ids and ids[-1] == "prompt-message_hint"
            assert (f"topic-{topic.id}" in ids) is not topic.is_discreet(m)
            detail = [c.id for c in ENGINE.render(navigation.show_detail(here(lang), topic, index)).clips]
            assert f"{m.id}-detail" in detail and f"topic-{topic.id}" not in detail


def test_a_helpline_is_read_digit_by_digit_or_without_a_number_where_none_is_known():
    topic = CATALOG.language("en").topic("child-protection")
    unknown = ENGINE.render(navigation.show_detail(here("en", "ZZ"), topic, 0)).clips
    assert "prompt-helpline_no_number" in [c.id for c in unknown]
    known = ENGINE.render(navigation.show_detail(here("en", "KE"), topic, 0)).clips
    h = CATALOG.helpline("KE")
    if h.child:
        ids = [c.id for c in known]
        start = ids.index("prompt-helpline_child") + 1
        digits = [f"prompt-digit_{d}" for d in h.child if d.isdigit()]
        assert ids[start : start + len(digits)] == digits


def test_the_language_menu_says_each_language_in_itself():
    t = voice.turn(ENGINE, call(), PROFILE, "7")
    choices = [c for c in t.answer.clips if c.id == "prompt-language_for"]
    assert [c.lang for c in choices] == list(LANGS)
    assert len({c.text for c in choices}) == len(LANGS)


@pytest.mark.parametrize("lang", LANGS)
def test_every_prompt_is_written_in_its_language(lang):
    """A translation lacking a prompt would read English words to a caller (and a Kiswahili voice would read them)."""
    english = PROMPTS["en"]
    own = audio.prompt_langs(ROOT / "messages", LANGS)[lang]
    assert set(english) <= set(own)
    if lang != "en":
        differs = [k for k in english if PROMPTS[lang][k] != english[k] and english[k]]
        assert len(differs) >= len(english) - 1  # menu_for may be empty in both; nothing else is English
    assert not any("{" in text for text in PROMPTS[lang].values())  # a recording cannot fill a placeholder
