"""USSD over Africa's Talking's callback protocol: navigation by path, screens, replay, resume, bad input."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import content, menu, ussd
from bot.engine import Engine
from bot.render.ussd import UssdRenderer
from bot.settings import ROOT
from bot.ussd import MAX_REPLAY
from tests.conftest import drain, recorded
from tests.storeview import log_entries

PHONE = "+256712345678"
USSD = "/ussd/africastalking"


class Dialer:
    """A phone in one USSD session: each press resends the whole path, as gateways do."""

    def __init__(self, client, session_id="ATUid_1", phone=PHONE, query=""):
        self.client, self.session_id, self.phone, self.query = client, session_id, phone, query
        self.path: list[str] = []

    def post(self, text: str, **extra):
        form = {"sessionId": self.session_id, "serviceCode": "*384*1234#", "phoneNumber": self.phone,
                "networkCode": "63902", "text": text, **extra}  # fmt: skip
        return self.client.post(USSD + self.query, data=form)

    def dial(self) -> str:
        self.path = []
        return self.screen("")

    def press(self, key: str) -> str:
        self.path.append(key)
        return self.screen("*".join(self.path))

    def screen(self, text: str) -> str:
        response = self.post(text)
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/plain"
        body = response.get_data(as_text=True)
        assert body.startswith(("CON ", "END ")), body
        assert len(body) <= 182, (len(body), body)
        return body


@pytest.fixture
def dialer(client):
    return Dialer(client)


def test_whole_navigation_by_path(dialer, services):
    first = dialer.dial()
    assert first.startswith("CON Welcome to Facts for Life") and "1 Timing births" in first and "98 More" in first
    assert first.count("Facts for Life") == 1, "a 182-character screen has no room to say its name twice"
    assert "10 Malaria" not in first  # on a later page, but any topic number works from the menu
    topic = dialer.press("10")
    short = services.catalog.language("en").topic("malaria").messages[0].short
    assert short in topic and "1 Why" in topic and "0 Back" in topic and "00 Menu" in topic
    why = dialer.press("1")
    assert services.catalog.language("en").topic("malaria").messages[0].detail[:30] in why
    nxt = dialer.press("2")
    assert services.catalog.language("en").topic("malaria").messages[1].short[:30] in nxt
    back = dialer.press("0")
    assert "Choose" in back and "10 Malaria" in back
    menu_again = dialer.press("00")
    assert "1 Timing births" in menu_again


def test_more_pages_the_menu(dialer):
    first = dialer.dial()
    second = dialer.press("98")
    assert "9 Hygiene" in second and "9 Hygiene" not in first
    assert "14 Emergencies" in dialer.press("98")


@pytest.mark.parametrize("topic", range(1, 15))
def test_every_screen_of_every_topic_fits(client, services, topic):
    """Walk every key message and detail page of a topic; every screen must fit 182 characters."""
    d = Dialer(client, session_id=f"ATUid_walk_{topic}")
    d.dial()
    screen = d.press(str(topic))
    count = len(services.catalog.language("en").topics[topic - 1].messages)
    for _ in range(count):
        while "98 More" in screen:  # a short text paged across screens
            screen = d.press("98")
        screen = d.press("1")  # why it matters
        while "98 More" in screen:
            screen = d.press("98")
        screen = d.press("2")  # next tip
    assert "last" in screen


def test_replay_after_state_loss(client, services, redis_url, prefix):
    d = Dialer(client, session_id="ATUid_lost")
    d.dial()
    d.press("10")
    before = d.press("1")
    services.store.redis.delete(services.store.keys.ussd("ATUid_lost"))
    after = d.press("2")
    expected = Dialer(client, session_id="ATUid_fresh", phone="+256712345679")
    expected.dial()
    expected.press("10")
    expected.press("1")
    assert after == expected.press("2")
    assert before != after


def test_a_repeated_request_gets_the_same_screen_and_changes_nothing(dialer, services):
    dialer.dial()
    first = dialer.press("10")
    again = dialer.screen("10")
    assert again == first
    log = [f for _, f in log_entries(services.store) if f["direction"] == "in"]
    assert len(log) == 2  # the dial and "10", not the repeat


def test_star_typed_inside_an_input_is_one_input(dialer):
    dialer.dial()
    dialer.press("10")
    screen = dialer.screen("10*1*2")  # with state, "1*2" after "10" is one new input
    assert screen.startswith("CON ") and "choose a number" in screen.lower()


def test_resume_after_a_dropped_session(client, services):
    d = Dialer(client, session_id="ATUid_drop")
    d.dial()
    d.press("10")
    d.press("2")  # reading malaria tip 2, then the network drops the session
    again = Dialer(client, session_id="ATUid_back")
    offer = again.dial()
    assert "You were reading Malaria tip 2" in offer and "1 Continue" in offer
    resumed = again.press("1")
    assert services.catalog.language("en").topic("malaria").messages[1].short[:30] in resumed
    again_later = Dialer(client, session_id="ATUid_back2")
    assert "1 Continue" in again_later.dial()
    start_again = again_later.press("2")
    assert "Choose" in start_again and "1 Timing births" in start_again


def test_no_resume_offer_after_the_window(client, services):
    d = Dialer(client, session_id="ATUid_old")
    d.dial()
    d.press("10")
    services.store.redis.delete(services.store.keys.resume(PHONE))
    assert "Welcome to Facts for Life" in Dialer(client, session_id="ATUid_new").dial()


def test_stop_from_the_menu_updates_the_shared_profile(dialer, services, client):
    dialer.dial()
    screen = dialer.press("99")
    assert screen.startswith("END ") and "no more SMS" in screen
    assert services.store.profile_fields(PHONE)["opted_out"] == "1"
    # The same person texting afterwards gets nothing: it is one profile.
    from tests.conftest import Phone

    assert Phone(client, PHONE).text("MENU") == []


def test_send_me_by_sms_queues_one_sms(dialer, services, config):
    dialer.dial()
    dialer.press("10")
    screen = dialer.press("3")
    assert "by SMS" in screen
    queue = services.queue("replies")
    assert queue.count == 1
    drain(services, "replies")
    sent = recorded(config)
    assert len(sent) == 1 and sent[0]["to"] == PHONE
    assert services.catalog.language("en").topic("malaria").messages[0].short in sent[0]["body"]


@pytest.mark.parametrize(
    "text",
    ["99999", "abc", "1*2*3*4*5*6*7*8*9", "", "*", "**", "0*0*0*0", "00*00", "98*98*98*98*98", "1" * 1000,
     "1*" * 500, "😀", "\x00\x01", "10*1*1*1*1*1*3*3*3", "1*²", "²", "10*①", "77*²"],
)  # fmt: skip
def test_bad_inputs_get_a_screen(client, text):
    d = Dialer(client, session_id="ATUid_bad")
    d.dial()
    body = d.screen(text)
    assert body.startswith(("CON ", "END "))


@pytest.mark.parametrize(
    "form",
    [{"phoneNumber": ""}, {"sessionId": ""}, {"sessionId": "x" * 500}, {"phoneNumber": "garbage"}],
)
def test_missing_fields_are_a_400(client, form):
    base = {"sessionId": "ATUid_x", "serviceCode": "*384#", "phoneNumber": PHONE, "text": ""}
    assert client.post(USSD, data={**base, **form}).status_code == 400


def test_unknown_session_with_a_long_path_is_replayed(client, services):
    # Topic 10 and back to the menu, over and over; then 10, why, next, back, menu, topic 5: MAX_REPLAY choices.
    path = ["10", "00"] * ((MAX_REPLAY - 6) // 2) + ["10", "1", "2", "0", "00", "5"]
    assert len(path) == MAX_REPLAY
    body = Dialer(client, session_id="ATUid_never_seen").screen("*".join(path))
    nutrition = services.catalog.language("en").topic("nutrition").messages[0].short
    assert body.startswith("CON ") and nutrition in body
    longer = Dialer(client, session_id="ATUid_never_seen_either").screen("*".join(["00", *path]))
    assert longer.startswith("CON ") and nutrition not in longer and "1 Timing births" in longer  # the menu instead


def test_a_session_id_cannot_be_taken_over_by_another_phone(client):
    Dialer(client, session_id="ATUid_mine").dial()
    other = Dialer(client, session_id="ATUid_mine", phone="+256700000099").post("1")
    assert other.status_code == 400


def test_production_refuses_unprotected_callbacks(config):
    from bot.app import create_app

    client = create_app({**config, "AT_ALLOWED_IPS": ""}).test_client()
    assert Dialer(client).post("").status_code == 403


def test_token_guard(config):
    from bot.app import create_app

    app = create_app({**config, "AT_CALLBACK_TOKEN": "s3cret", "AT_ALLOWED_IPS": ""})
    client = app.test_client()
    assert Dialer(client).post("").status_code == 403
    assert Dialer(client, query="?token=wrong").post("").status_code == 403
    assert Dialer(client, query="?token=s3cret").post("").status_code == 200


def test_address_allowlist(config):
    from bot.app import create_app

    client = create_app({**config, "AT_ALLOWED_IPS": "10.0.0.0/8"}).test_client()
    assert Dialer(client).post("").status_code == 403
    allowed = client.post(USSD, data={"sessionId": "a", "phoneNumber": PHONE, "text": ""},
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})  # fmt: skip
    assert allowed.status_code == 200


def test_every_exchange_is_logged_as_ussd(dialer, services):
    dialer.dial()
    dialer.press("10")
    entries = [f for _, f in log_entries(services.store)]
    assert {e["channel"] for e in entries} == {"ussd"}
    assert [e["direction"] for e in reversed(entries)] == ["in", "out", "in", "out"]
    assert entries[0]["text"].startswith("CON ") and entries[1]["text"] == "10"


# -- the pure part ----------------------------------------------------------------------------

CATALOG = content.load(ROOT / "messages")
SCREENS = UssdRenderer(screen=178, screen_ucs2=76)
ENGINE = Engine(CATALOG, SCREENS)
PROFILE = menu.Profile(lang="en", country="UG")


@pytest.mark.parametrize(
    "path, state, topic, index",
    [("", menu.State.MENU, "", 0), ("10", menu.State.MESSAGE, "malaria", 0), ("10*1", menu.State.DETAIL, "malaria", 0),
     ("10*2", menu.State.MESSAGE, "malaria", 1), ("10*1*2", menu.State.MESSAGE, "malaria", 1),
     ("10*0", menu.State.MENU, "", 0), ("10*2*00", menu.State.MENU, "", 0), ("98", menu.State.MENU, "", 0)],
)  # fmt: skip
def test_replayed_paths(path, state, topic, index):
    turn = ussd.run(ENGINE, None, PHONE, path, PROFILE, None)
    s = turn.state.session
    assert (s.state, s.topic, s.index if s.state is not menu.State.MENU else 0) == (state, topic, index)
    assert turn.state.consumed == len(ussd.inputs(path))


@pytest.mark.parametrize("key, state, index", [("1", menu.State.DETAIL, 0), ("2", menu.State.MESSAGE, 1)])
def test_an_option_acts_even_when_its_screen_had_more_behind_98(key, state, index):
    narrow = Engine(CATALOG, replace(SCREENS, screen=170))  # the options show, but "0 Back 00 Menu" waits behind 98
    first = ussd.run(narrow, None, PHONE, "10", PROFILE, None)
    assert first.state.session.pending and "98" in first.screen and "1 Why" in first.screen
    chosen = ussd.run(narrow, first.state, PHONE, f"10*{key}", PROFILE, None)
    s = chosen.state.session
    assert (s.state, s.topic, s.index) == (state, "malaria", index)
    malaria = CATALOG.language("en").topic("malaria").messages
    expected = malaria[0].detail if state is menu.State.DETAIL else malaria[1].short
    assert expected[:25] in chosen.screen


@pytest.mark.parametrize("lang", ["en", "fr", "sw", "hi"])
def test_child_protection_screens_reach_the_helpline_before_any_option(lang):
    # A key message and a helpline do not fit one screen together: the helpline must come
    # next, behind 98, and before the options a person could leave by.
    profile = menu.Profile(lang=lang, country="KE")
    topics = CATALOG.language(lang).topics
    n = next(i for i, t in enumerate(topics, 1) if t.id == "child-protection")
    path = [str(n)]
    for _ in topics[n - 1].messages:
        turn = ussd.run(ENGINE, None, PHONE, "*".join(path), profile, None)
        screens, more = [turn.screen], path[:]
        while turn.state.session.pending:
            more.append("98")
            turn = ussd.run(ENGINE, turn.state, PHONE, "*".join(more), profile, None)
            screens.append(turn.screen)
        read = "\n".join(screens)
        assert "116" in read and read.index("116") < read.index("00 "), (lang, screens)
        path.append("2")


def test_a_resume_offer_is_skipped_when_its_topic_is_gone():
    gone = menu.Session(menu.State.MESSAGE, topic="no-such-topic")
    turn = ussd.run(ENGINE, None, PHONE, "", PROFILE, gone)
    assert turn.screen.startswith("CON ") and "1 Timing births" in turn.screen


@pytest.mark.parametrize("path", ["1*²", "²", "10*①", "77*²", "10*1*²"])
def test_unicode_digits_are_not_choices(path):
    """`str.isdigit()` is true for ² and ①, which int() refuses: these once raised (a 500)."""
    turn = ussd.run(ENGINE, None, PHONE, path, PROFILE, None)
    assert turn.screen.startswith("CON ") and turn.answer.event is menu.Event.HINT, turn.screen


def test_a_private_topic_is_never_offered_to_resume_by_name():
    hiv = menu.Session(menu.State.MESSAGE, topic="hiv", index=1)
    turn = ussd.run(ENGINE, None, PHONE, "", PROFILE, hiv)
    assert "HIV" not in turn.screen and "1 Timing births" in turn.screen and turn.state.offer is None
    malaria = ussd.run(ENGINE, None, PHONE, "", PROFILE, menu.Session(menu.State.MESSAGE, topic="malaria", index=1))
    assert "Malaria tip 2" in malaria.screen


def test_a_private_topics_screen_header_is_neutral():
    topics = CATALOG.language("en").topics
    n = next(i for i, t in enumerate(topics, 1) if t.id == "hiv")
    turn = ussd.run(ENGINE, None, PHONE, str(n), PROFILE, None)
    total = len(topics[n - 1].messages)
    assert turn.screen.startswith(f"CON Tip 1/{total}: ") and "HIV" not in turn.screen.split(":")[0]
