"""The hot path's shortcuts give exactly what the plain code gives.

An inbound SMS reuses what the process already worked out (SMS splits, normalised words, rendered
replies). Each shortcut is compared here with the reference it replaces: the straightforward
normaliser, the uncached splitter, the renderer.
"""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import content, segments
from bot.content import normalise_keyword

ODD = ["", "&", "<b>", "a & b < c > d", "\"quoted\" 'single'", "line\nbreak\r\n", "\x01\x1f", "é ñ ü ç",
       "हिंदी में।", "\U0001f600 \U0001f1f0\U0001f1ea", "\ud800 lone surrogate", "]]>", "&amp; already"]  # fmt: skip


def reference_normalise(text: str) -> str:
    """bot/content/words.normalise_keyword as it was first written: one character at a time."""
    text = unicodedata.normalize("NFC", text).upper()
    punctuation = lambda c: not c.isascii() and unicodedata.category(c).startswith("P")  # noqa: E731
    text = "".join(" " if c in string.punctuation or c.isspace() or punctuation(c) else c for c in text)
    return " ".join(text.split())


@pytest.mark.parametrize("text", [*ODD, "  more!! ", "Ça va?", "e\u0301", "a\u00a0b\u2003c", "x\x1cy\x1dz",
                                  "«NON»", "mtoto—ana homa…", "ﬁ ß", "STOP.", "1", "¿Qué?"])  # fmt: skip
def test_normalised_words_are_what_the_plain_normaliser_gives(text):
    assert normalise_keyword(text) == reference_normalise(text)
    assert normalise_keyword(text) == reference_normalise(text)  # and again, remembered


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_normalised_words_match_for_any_text(text):
    assert normalise_keyword(text) == reference_normalise(text)


LIMITS = [
    dict(max_parts=3, more_marker="MORE"),  # SMS, one segment per part
    dict(budget=2, max_parts=2, more_marker="ZAIDI"),
    dict(limits={segments.GSM7: 182, segments.UCS2: 80}, max_parts=1, more_marker="98 More", marker_sep="\n"),
    dict(limits={segments.UCS2: 67}, max_parts=2, more_marker="और"),
]


def test_remembered_splits_are_the_splits_of_every_text_we_send():
    """Every short text and detail of every language, as SMS and USSD cut them, twice: remembered = computed."""
    catalog = content.load("messages")
    texts = [m.short for lang in catalog.languages.values() for t in lang.topics for m in t.messages]
    texts += [m.detail for lang in catalog.languages.values() for t in lang.topics for m in t.messages]
    for text in texts:
        for kw in LIMITS:
            limits = kw.get("limits") or {enc: segments.capacity(enc, kw.get("budget", 1))
                                          for enc in (segments.GSM7, segments.UCS2)}  # fmt: skip
            computed = segments.compute_split(text, limits, kw["max_parts"], kw["more_marker"],
                                              kw.get("marker_sep", " "))  # fmt: skip
            assert segments.split(text, **kw) == computed
            assert segments.split(text, **kw) == computed


def test_a_remembered_split_depends_on_every_argument():
    text = "Wash hands with soap and water before food and after the toilet. " * 4
    one, three = segments.split(text, max_parts=1, more_marker="MORE"), segments.split(text, max_parts=3)
    assert len(one.parts) == 1 and one.rest and one.parts[0].endswith(" MORE")
    assert len(three.parts) == 2 and not three.rest
    assert segments.split(text, max_parts=1, more_marker="ZAIDI").parts[0].endswith(" ZAIDI")
    ussd = segments.split(text, limits={segments.GSM7: 182}, max_parts=1, more_marker="98 More", marker_sep="\n")
    assert ussd.parts[0].endswith("\n98 More") and len(ussd.parts[0]) <= 182


def test_a_part_too_small_is_still_refused_every_time():
    for _ in range(2):
        with pytest.raises(ValueError):
            segments.split("word " * 20, limits={segments.GSM7: 10}, more_marker="MORE")


URLS = ["https://bot.example.org/sms/twilio", "https://bot.example.org:443/sms/twilio", "http://127.0.0.1:8000/sms/twilio",
        "http://localhost/voice/twilio?step=2&x=%20y", "https://bot.example.org:8443/sms/twilio?a=1"]  # fmt: skip


@pytest.mark.parametrize("url", URLS)
def test_signatures_are_judged_as_the_twilio_package_judges_them(url):
    from urllib.parse import urlparse

    from twilio.request_validator import RequestValidator, add_port, remove_port
    from werkzeug.datastructures import MultiDict

    from bot.channels.twilio import signed_by

    form = MultiDict([("From", "+254712345678"), ("Body", "MORE é &"), ("MediaUrl0", "b"), ("MediaUrl0", "a")])
    package = RequestValidator("token")
    signed = [package.compute_signature(u, form) for u in (url, remove_port(urlparse(url)), add_port(urlparse(url)))]
    others = [RequestValidator("other").compute_signature(url, form), "", "x", signed[0][:-1]]
    for signature in [*signed, *others]:
        for token in ("token", "other"):
            assert signed_by(token, url, form, signature) == RequestValidator(token).validate(url, form, signature)
    assert all(signed_by("token", url, form, s) for s in signed)
    assert not any(signed_by("token", url, form, s) for s in others)


def moves(lang, helplines):
    """A reply of every kind for a language: each key message and detail (with each helpline), menu pages, texts."""
    from bot.menu import Event, Profile, Session
    from bot.navigation import Line, Move, Show

    s, p = Session(), Profile(lang=lang.code)
    for topic in lang.topics:
        for index in range(len(topic.messages)):
            for show in (Show.MESSAGE, Show.DETAIL):
                for helpline in (None, *helplines):
                    yield Move(show, s, p, Event.MESSAGE, lang, topic=topic, index=index, helpline=helpline)
    for page in range(2):
        yield Move(Show.MENU, s, p, Event.MENU, lang, lines=(Line.of("welcome"),), page=page)
    yield Move(Show.TEXT, s, p, Event.HELP, lang, lines=(Line.of("help"),), footer=(Line.of("language_hint"),))
    yield Move(Show.PENDING, s, p, Event.MESSAGE, lang, text="what waited behind MORE " * 20)


def test_remembered_replies_are_the_rendered_replies():
    """Every channel's reply for every kind of move in every language: remembered (twice) = rendered now."""
    from bot.content import Helpline
    from bot.menu import Context
    from bot.render import rendered
    from bot.render.sms import SmsRenderer
    from bot.render.ussd import UssdRenderer
    from bot.render.whatsapp import WhatsAppRenderer

    catalog = content.load("messages")
    helplines = (Helpline("116", "999"), Helpline("", ""))
    for renderer in (SmsRenderer(), SmsRenderer(budget=2, max_parts=2), UssdRenderer(), WhatsAppRenderer()):
        for context in (Context(), Context(program="Afya", contact="the clinic", drip_days=3)):
            for lang in catalog.languages.values():
                for move in moves(lang, helplines):
                    if move.show.value == "menu" and move.page >= len(renderer.menu_layout(lang, context)):
                        continue
                    expected = renderer.render(move, context)
                    assert rendered(renderer, move, context) == expected
                    assert rendered(renderer, move, context) == expected


def test_content_published_anew_is_rendered_anew():
    """A new catalog's language, with the same move otherwise, renders its own words (the old one kept alive)."""
    from dataclasses import replace

    from bot.menu import Context, Event, Profile, Session
    from bot.navigation import Move, Show
    from bot.render import rendered
    from bot.render.sms import SmsRenderer

    old = content.load("messages").language("en")
    topic = old.topics[0]
    edited = replace(topic.messages[0], short="An edited first tip.")
    new_topic = replace(topic, messages=(edited, *topic.messages[1:]))
    new = replace(old, topics=(new_topic, *old.topics[1:]), texts={**old.texts, "menu_header": "EDITED HEADER"})
    renderer, context, s, p = SmsRenderer(), Context(), Session(), Profile(lang="en")
    before = rendered(renderer, Move(Show.MESSAGE, s, p, Event.MESSAGE, old, topic=topic), context)
    after = rendered(renderer, Move(Show.MESSAGE, s, p, Event.MESSAGE, new, topic=new_topic), context)
    assert "An edited first tip." in after.parts[0] and "An edited first tip." not in before.parts[0]
    menu = [rendered(renderer, Move(Show.MENU, s, p, Event.MENU, lang), context).parts[0] for lang in (old, new)]
    assert "EDITED HEADER" not in menu[0] and menu[1].startswith("EDITED HEADER")
    # The same language object with a topic object from elsewhere is not mistaken for its own.
    crossed = rendered(renderer, Move(Show.MESSAGE, s, p, Event.MESSAGE, old, topic=new_topic), context)
    assert "An edited first tip." in crossed.parts[0]
