"""The menu engine as tables: (session, profile, text) -> (session, profile, reply). No app, no Redis."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import content, reading, segments
from bot.engine import Engine
from bot.menu import Context, Event, Profile, Session, State
from bot.render.sms import SmsRenderer
from bot.render.ussd import UssdRenderer
from bot.settings import ROOT

CATALOG = content.load(ROOT / "messages")
SMS = SmsRenderer()
ENGINE = Engine(CATALOG, SMS)
EN = CATALOG.language("en")
KE = Profile(lang="en", country="KE")
MALARIA = Session(State.MESSAGE, topic="malaria", index=0)


def step(session, profile, text, engine=ENGINE):
    return engine.answer_text(session, profile, text)


def run(texts, session=Session(), profile=KE, renderer=SMS):
    """Feed texts in order; return the last answer."""
    result = None
    engine = Engine(CATALOG, renderer)
    for text in texts:
        result = step(session, profile, text, engine)
        session, profile = result.session, result.profile
    return result


@pytest.mark.parametrize(
    "texts, state, topic, position, event",
    [
        (["hi"], State.MENU, "", 0, Event.WELCOME),
        ([""], State.MENU, "", 0, Event.WELCOME),
        (["hi", "1"], State.MESSAGE, "timing-births", 0, Event.MESSAGE),
        (["hi", "10"], State.MESSAGE, "malaria", 0, Event.MESSAGE),
        (["hi", "10", "MORE"], State.DETAIL, "malaria", 0, Event.DETAIL),
        (["hi", "10", "more", "more"], State.MESSAGE, "malaria", 1, Event.MESSAGE),
        (["hi", "10", "NEXT", "NEXT"], State.MESSAGE, "malaria", 2, Event.MESSAGE),  # NEXT skips the detail
        (["hi", "10", "MORE", "NEXT"], State.MESSAGE, "malaria", 1, Event.MESSAGE),
        (["hi", "NEXT"], State.MENU, "", 1, Event.MENU),
        (["hi", "10", "MORE", "BACK"], State.MESSAGE, "malaria", 0, Event.MESSAGE),
        (["hi", "10", "3"], State.MESSAGE, "malaria", 2, Event.MESSAGE),  # inside a topic, numbers pick tips
        (["hi", "10", "MENU"], State.MENU, "", 0, Event.MENU),
        (["hi", "MORE"], State.MENU, "", 1, Event.MENU),
        (["hi", "MORE", "BACK"], State.MENU, "", 0, Event.MENU),
        (["hi", "MORE", "0"], State.MENU, "", 0, Event.MENU),
        (["malaria"], State.MESSAGE, "malaria", 0, Event.MESSAGE),  # first contact with a keyword
        (["hi", "  Malaria  "], State.MESSAGE, "malaria", 0, Event.MESSAGE),
        (["hi", "MALARA"], State.MESSAGE, "malaria", 0, Event.MESSAGE),  # typo
        (["hi", "diarrhea"], State.MESSAGE, "diarrhoea", 0, Event.MESSAGE),
        (["hi", "Diarrhoea!"], State.MESSAGE, "diarrhoea", 0, Event.MESSAGE),
        (["hi", "breastfeed"], State.MESSAGE, "breastfeeding", 0, Event.MESSAGE),
        (["hi", "AIDS"], State.MESSAGE, "hiv", 0, Event.MESSAGE),
        (["hi", "hiv"], State.MESSAGE, "hiv", 0, Event.MESSAGE),
        (["hi", "injury prevention"], State.MESSAGE, "injury-prevention", 0, Event.MESSAGE),
        (["hi", "Safe motherhood and newborn health"], State.MESSAGE, "safe-motherhood", 0, Event.MESSAGE),
        (["hi", "99"], State.MENU, "", 0, Event.HINT),
        (["hi", "blah blah"], State.MENU, "", 0, Event.HINT),
        (["hi", "😀😀"], State.MENU, "", 0, Event.HINT),
        (["hi", "   "], State.MENU, "", 0, Event.HINT),
        (["hi", "10", "zzz"], State.MESSAGE, "malaria", 0, Event.HINT),  # a hint keeps the place
        (["hi", "HELP"], State.MENU, "", 0, Event.HELP),
        (["hi", "info"], State.MENU, "", 0, Event.HELP),
        (["5"], State.MESSAGE, "nutrition", 0, Event.MESSAGE),  # an expired session still takes a number
    ],
)
def test_navigation(texts, state, topic, position, event):
    """`position` is the menu page in the menu, else the key message's index."""
    result = run(texts)
    s = result.session
    where = s.page if s.state is State.MENU else s.index
    assert (s.state, s.topic, where, result.event) == (state, topic, position, event)
    assert result.parts, "never silence for someone who has not opted out"


def test_reading_a_whole_topic_then_its_end():
    topic = EN.topic("malaria")
    result = run(["malaria"] + ["MORE"] * (2 * len(topic.messages) - 1))
    assert (result.session.state, result.session.index) == (State.DETAIL, len(topic.messages) - 1)
    end = step(result.session, KE, "MORE")
    assert end.event is Event.TOPIC_END and end.session.state is State.MENU
    assert "last Malaria tip" in end.parts[0]


def test_message_reply_shows_the_key_message_and_how_to_go_on():
    result = run(["10"], session=Session(State.MENU))
    m = EN.topic("malaria").messages[0]
    assert m.short in result.parts[0]
    assert "MORE" in result.parts[-1] and "MENU" in result.parts[-1]
    assert result.message == "malaria-1" and result.topic == "malaria"


@pytest.mark.parametrize("topic", [t.id for t in EN.topics])
def test_every_key_message_fits_one_sms_with_its_navigation(topic):
    for index, message in enumerate(EN.topic(topic).messages):
        result = step(Session(State.MENU), KE, str(EN.topics.index(EN.topic(topic)) + 1))
        if index:
            result = step(result.session, KE, str(index + 1))
        assert message.short in "".join(result.parts)
        if not EN.topic(topic).helpline:
            assert len(result.parts) == 1, result.parts
        for part in result.parts:
            assert segments.count(part).segments == 1
        detail = step(result.session, KE, "MORE")
        assert detail.event is Event.DETAIL and len(detail.parts) <= 3
        assert not detail.session.pending, "a detail must not overflow behind MORE"


def test_menu_pages_each_fit_one_sms_and_list_all_topics():
    pages = ENGINE.menu_pages(EN)
    assert len(pages) >= 2
    assert all(segments.count(p).segments == 1 for p in pages)
    listed = [line for p in pages for line in p.splitlines() if line[:1].isdigit()]
    assert listed == [f"{n} {t.label}" for n, t in enumerate(EN.topics, 1)]
    assert len(listed) == 14


def test_menu_pages_wrap_around():
    pages = ENGINE.menu_pages(EN)
    result = run(["hi"] + ["MORE"] * len(pages))
    assert result.session.page == 0


def test_back_from_a_message_returns_to_its_menu_page():
    result = run(["hi", "14", "BACK"])
    assert "14 " in result.parts[0]


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " Stop ", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "stop."]
)
def test_opt_out_words_opt_out_from_anywhere(word):
    for session in (Session(), Session(State.MENU), MALARIA, replace(MALARIA, state=State.DETAIL)):
        result = step(session, KE, word)
        assert result.profile.opted_out is True
        assert result.event is Event.OPT_OUT
        assert len(result.parts) == 1 and "unsubscribed" in result.parts[0]
        assert "START" in result.parts[0]


def test_nothing_is_sent_while_opted_out_except_help():
    stopped = replace(KE, opted_out=True)
    for text in ["hi", "MENU", "1", "malaria", "MORE", "STOP", "", "hello"]:
        result = step(Session(), stopped, text)
        assert result.parts == () and result.event is Event.SILENT and result.profile.opted_out
    help_ = step(Session(), stopped, "HELP")
    assert help_.profile.opted_out and "STOP" in " ".join(help_.parts)


@pytest.mark.parametrize("word", ["START", "UNSTOP", "YES", "start"])
def test_opt_in_words_opt_back_in(word):
    result = step(Session(), replace(KE, opted_out=True), word)
    assert result.profile.opted_out is False and result.event is Event.OPT_IN
    assert "Welcome back" in result.parts[0]


def test_help_follows_short_code_rules():
    text = " ".join(run(["HELP"]).parts)
    for needed in ("Facts for Life", "Msg&data rates may apply", "Reply STOP to cancel", "Help:"):
        assert needed in text
    assert "Replies when you text" in text and "delete" in text


def test_help_says_how_often_tips_come():
    every_3_days = Engine(CATALOG, SMS, Context(drip_days=3))
    text = " ".join(every_3_days.answer_text(Session(), KE, "HELP").parts)
    assert "every 3 days" in text


def test_child_protection_replies_end_with_the_country_helpline():
    cases = (("KE", "Child helpline 116, emergency 999 / 112"), ("IN", "Child helpline 1098, emergency 112"),
             ("SN", "Child helpline 116, emergency 18 / 17"), ("NG", "Talk to a health worker"),
             ("", "Talk to a health worker"))  # fmt: skip
    for country, expected in cases:
        profile = Profile(lang="en", country=country)
        result = step(Session(), profile, "child protection")
        detail = step(result.session, profile, "MORE")
        for reply in (result, detail):
            last = reply.parts[-1]
            assert expected in last and "cannot respond to emergencies" in last
            if expected.startswith("Talk"):  # an unlisted country never gets another region's number
                assert not any(c.isdigit() for c in last.split("Need help now?")[1]), last


def test_helpline_override_from_config():
    catalog = content.load(ROOT / "messages", helpline_override=content.Helpline("0800 111", "911"))
    result = step(Session(), Profile(country="KE"), "child protection", Engine(catalog, SmsRenderer()))
    assert "Child helpline 0800 111, emergency 911" in result.parts[-1]


def test_very_long_input_gets_a_hint():
    assert run(["hi", "m" * 10_000]).event is Event.HINT
    assert run(["hi", "malaria " * 2000]).event is Event.HINT


def test_overflow_waits_behind_more():
    tight = SmsRenderer(budget=1, max_parts=1)
    result = run(["hi", "10", "MORE"], renderer=tight)
    assert len(result.parts) == 1 and result.parts[0].endswith("MORE")
    assert result.session.pending
    rest = step(result.session, KE, "MORE", Engine(CATALOG, tight))
    assert rest.event is Event.CONTINUED
    detail = EN.topic("malaria").messages[0].detail
    joined = result.parts[0][: -len(" MORE")] + " " + rest.parts[0]
    assert "".join(detail.split()) in "".join(joined.split())


@pytest.mark.parametrize("renderer", [SmsRenderer(), UssdRenderer()])
def test_smart_encoding_makes_typographic_punctuation_gsm7(renderer):
    typed = "Don\u2019t wait \u2013 go \u201cnow\u201d\u2026"
    smart = renderer.cut(typed, EN, renderer.wording(EN, ENGINE.context)).parts
    assert smart == ('Don\'t wait - go "now"...',)
    plain = replace(renderer, smart=False).cut(typed, EN, renderer.wording(EN, ENGINE.context)).parts
    assert segments.encoding_of(plain[0]) == segments.UCS2


def test_broken_session_data_starts_again():
    assert Session.from_dict({"state": "bogus"}) == Session()
    assert Session.from_dict(None) == Session()
    assert Session.from_dict(MALARIA.to_dict()) == MALARIA
    asked = replace(MALARIA, join_pending="hiv")
    assert Session.from_dict(asked.to_dict()) == asked
    older = {k: v for k, v in MALARIA.to_dict().items() if k != "join_pending"}  # saved before private topics
    assert Session.from_dict(older) == MALARIA


@pytest.mark.parametrize("text", ["MORE", "BACK", "NEXT", "2", "JOIN", "hello"])
def test_a_session_in_a_topic_that_content_no_longer_has_starts_again_at_the_menu(text):
    for gone in (Session(State.MESSAGE, topic="no-such-topic"), Session(State.DETAIL, topic="malaria", index=99)):
        result = step(gone, Profile(lang="en"), text)
        assert result.parts and result.session.state in (State.MENU, State.MESSAGE, State.DETAIL)


def test_a_language_number_out_of_range_is_a_hint_not_a_crash():
    listing = step(Session(), Profile(lang="en"), "LANG")
    for text in ("0010", "5", "999999"):
        result = step(listing.session, Profile(lang="en"), text)
        assert result.parts and result.profile.lang == "en"


@pytest.mark.parametrize(
    "text, expected",
    [("10", 10), ("0010", 10), ("1234567", 123456), ("²", None), ("①", None), ("٣", None), ("1²", None), ("", None),
     ("1a", None), ("-1", None)],
)  # fmt: skip
def test_only_ascii_digits_are_numbers(text, expected):
    assert reading.number(text) == expected


@pytest.mark.parametrize("text", ["²", "①", "LANG ²", "lang ①", "1²", "JOIN ²"])
def test_unicode_digits_get_a_reply_from_anywhere(text):
    """`str.isdigit()` is true for ² and ①, which int() refuses: these once raised (a 500 on the webhook)."""
    for session in (Session(), Session(State.MENU), Session(State.LANGUAGE), MALARIA):
        result = step(session, KE, text)
        assert result.parts and result.event in (Event.HINT, Event.LANGUAGE, Event.WELCOME), (session, result)
        assert result.profile.lang == "en"
