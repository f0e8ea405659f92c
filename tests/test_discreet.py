"""Private topics on shared phones (issue 9 §4): no reply about HIV or child protection, or
about the message on violence against women, names the topic, by SMS or USSD, in any language.

Each walk reads a whole private topic: every key message and its detail, a number out of
range, the topic's end, JOIN, YES, LEAVE (and the same by the topic's menu number, which the
neutral texts give instead of its name). What a reply says apart from the topic's own key
messages and the helpline line must hold none of the topic's label, title or keywords.
"""

from __future__ import annotations

import pytest

from bot import content, jobs, segments, ussd
from bot.content import normalise_keyword
from bot.engine import Engine
from bot.menu import Event, Profile, Session, State
from bot.render.sms import SmsRenderer
from bot.render.ussd import UssdRenderer
from bot.settings import ROOT
from tests.conftest import recorded

CATALOG = content.load(ROOT / "messages")
LANGS = list(CATALOG.languages)
SMS = Engine(CATALOG, SmsRenderer())
USSD = Engine(CATALOG, UssdRenderer())
PRIVATE = ["hiv", "child-protection"]
NEUTRAL = ("joined_discreet", "left_discreet", "topic_end_discreet", "pick_message_discreet",
           "ussd_join_discreet_confirm", "ussd_joined_discreet", "ussd_topic_end_discreet",
           "ussd_pick_message_discreet")  # fmt: skip


def flat(text: str) -> str:
    return " ".join(segments.smart_encode(text).split())


class Walk:
    """One person's replies on one channel; each reply about the topic is checked as it comes."""

    def __init__(self, engine: Engine, lang: str, topic_id: str, country: str = "KE"):
        self.engine, self.on_ussd = engine, engine is USSD
        self.lang = CATALOG.language(lang)
        self.topic = self.lang.topic(topic_id)
        self.number = str(self.lang.topics.index(self.topic) + 1)  # its place in the menu
        self.profile = Profile(lang=lang, country=country)
        self.session = Session(State.MENU)
        self.checked = 0

    def at(self, index: int) -> None:
        self.session = Session(State.MESSAGE, topic=self.topic.id, index=index)

    def answer(self, session: Session, text: str):
        if self.on_ussd:
            return self.engine.answer(session, self.profile, ussd.read_input(text, session, self.profile, CATALOG))
        return self.engine.answer_text(session, self.profile, text)

    def send(self, text: str, *, check: bool = True):
        answer = self.answer(self.session, text)
        self.profile = answer.profile
        said = self.whole(answer)
        if check:
            self.check(said)
        return answer

    def whole(self, answer) -> str:
        """The reply as one text: its parts without their "1/2 " numbers, and all that waited behind MORE."""
        marker = self.lang.texts["more_marker"] if self.on_ussd else self.lang.word("more")
        texts = []
        while True:
            text = " ".join(p.split(" ", 1)[1] if p[:1].isdigit() and "/" in p[:4] else p for p in answer.parts)
            self.session = answer.session
            if not answer.session.pending:
                return flat(" ".join([*texts, text]))
            texts.append(text.rstrip().removesuffix(marker))
            answer = self.answer(answer.session, "98" if self.on_ussd else "MORE")

    def check(self, said: str) -> None:
        rest = said
        for m in self.topic.messages:  # the key messages' own words may say HIV: that is the tip
            rest = rest.replace(flat(m.short), " ").replace(flat(m.detail), " ")
        for key in ("helpline", "helpline_no_number"):  # the helpline line, up to its first number
            rest = rest.replace(flat(self.lang.texts[key].split("{")[0]), " ")
        words = normalise_keyword(rest).split()
        for name in (self.topic.label, self.topic.title, *self.topic.keywords):
            phrase = tuple(normalise_keyword(str(name)).split())
            named = any(tuple(words[i : i + len(phrase)]) == phrase for i in range(len(words)))
            assert not named, (self.lang.code, self.topic.id, name, said)
        self.checked += 1

    def read_every_message(self, why: str, next_tip: str) -> None:
        first = self.send(self.number)
        assert (first.event, first.topic) == (Event.MESSAGE, self.topic.id)
        for index in range(len(self.topic.messages)):
            if index:
                self.at(index - 1)
                shown = self.send(next_tip)
                assert (shown.event, shown.session.index) == (Event.MESSAGE, index)
            self.at(index)
            assert self.send(why).event is Event.DETAIL
        self.at(len(self.topic.messages) - 1)


@pytest.mark.parametrize("country", ["KE", "NG"])  # a helpline with numbers, and none
@pytest.mark.parametrize("topic", PRIVATE)
@pytest.mark.parametrize("lang", LANGS)
def test_sms_never_names_a_private_topic(lang, topic, country):
    walk = Walk(SMS, lang, topic, country)
    yes, no, join, leave = (walk.lang.word(w) for w in ("opt_in", "decline", "join", "leave"))
    walk.read_every_message("MORE", "NEXT")
    assert walk.send("99").event is Event.HINT  # "tips 1 to 8", without the topic's name
    walk.at(len(walk.topic.messages) - 1)
    assert walk.send("NEXT").event is Event.TOPIC_END
    asked = walk.send(join)  # right after the last tip, JOIN alone means this topic
    assert asked.event is Event.JOIN_CONFIRM and asked.session.join_pending == topic
    joined = walk.send(yes)
    assert joined.event is Event.JOINED and joined.profile.subscriptions == (topic,)
    left = walk.send(f"{leave} {walk.number}")  # the number the neutral texts give
    assert left.event is Event.LEFT and left.profile.subscriptions == ()
    assert walk.send(f"{join} {walk.number}").event is Event.JOIN_CONFIRM
    assert walk.send(no, check=False).event is Event.MENU  # the menu lists every topic, this one too
    assert walk.profile.subscriptions == ()
    assert walk.checked == 2 * len(walk.topic.messages) + 6


@pytest.mark.parametrize("topic", PRIVATE)
@pytest.mark.parametrize("lang", LANGS)
def test_ussd_never_names_a_private_topic_and_asks_with_numbers(lang, topic):
    walk = Walk(USSD, lang, topic)
    walk.read_every_message("1", "2")
    assert walk.send("3").event is Event.SEND_SMS  # "send me by SMS"
    walk.at(len(walk.topic.messages) - 1)
    assert walk.send("2").event is Event.TOPIC_END
    asked = walk.send("4")  # the end screen's "4 A tip every N days", not the menu's topic 4
    assert asked.event is Event.JOIN_CONFIRM and asked.session.join_pending == topic
    assert not asked.session.pending, "1 Yes / 0 No must be on the screen, not behind 98"
    options = asked.parts[0].splitlines()[-2:]
    assert options[0].startswith("1 ") and options[1].startswith("0 "), options
    declined = walk.send("0", check=False)  # the menu
    assert declined.event is Event.MENU and declined.profile.subscriptions == ()
    walk.at(0)
    assert walk.send("4").event is Event.JOIN_CONFIRM  # "4 Weekly" on a key message
    joined = walk.send("1")
    assert joined.event is Event.JOINED and joined.profile.subscriptions == (topic,)
    left = walk.send(f"{walk.lang.word('leave')} {walk.number}")
    assert left.event is Event.LEFT and left.profile.subscriptions == ()


@pytest.mark.parametrize("lang", LANGS)
def test_a_private_message_in_an_open_topic_is_not_named_either(lang):
    """safe-motherhood-8 (violence against women): its screens and the hint shown on it are neutral."""
    for engine, why in ((SMS, "MORE"), (USSD, "1")):
        walk = Walk(engine, lang, "safe-motherhood")
        index = next(i for i, m in enumerate(walk.topic.messages) if m.discreet)
        walk.at(index)
        assert walk.send(why).event is Event.DETAIL
        assert walk.send("0" if engine is USSD else "BACK").event is Event.MESSAGE
        if engine is SMS:
            walk.at(index)
            assert walk.send("99").event is Event.HINT


@pytest.mark.parametrize("lang", LANGS)
def test_an_open_topic_still_names_itself(lang):
    """The neutral texts are for private topics only: the end of Malaria and JOIN still say Malaria."""
    walk = Walk(SMS, lang, "malaria")
    walk.at(len(walk.topic.messages) - 1)
    end = walk.send("NEXT", check=False)
    assert end.event is Event.TOPIC_END and flat(walk.topic.label) in flat(" ".join(end.parts))
    joined = walk.send(walk.lang.word("join"), check=False)
    assert joined.event is Event.JOINED and joined.profile.subscriptions == ("malaria",)
    assert flat(walk.topic.label) in flat(" ".join(joined.parts))


@pytest.mark.parametrize("lang", LANGS)
def test_the_neutral_texts_are_each_languages_own(lang):
    texts = CATALOG.language(lang).texts
    for key in NEUTRAL:
        assert "{label}" not in texts[key] and "{keyword}" not in texts[key], key
        if lang != "en":
            assert texts[key] != CATALOG.language("en").texts[key], (lang, key)


def test_a_private_tip_sent_by_sms_carries_no_header(services, config):
    """USSD's "3 Send me by SMS" sends the key message's own words, with no header naming the topic
    (subscription tips, bot/subscriptions.py, send the short text alone likewise)."""
    topic = CATALOG.language("en").topic("hiv")
    message = topic.messages[1]
    jobs.send_key_message(services, "+254712345670", "hiv", message.id)
    body = flat(recorded(config)[-1]["body"])
    assert body == flat(f"{message.short} {message.detail}")
    assert not body.startswith(flat(topic.label))
