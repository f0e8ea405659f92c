"""FORGET erases the WhatsApp fallback records kept for a person (bot/store/fallbacks.py).

For two days after Twilio accepts a WhatsApp message, its number and text are kept by the
gateway's id, for an SMS should WhatsApp refuse it later. They are found by the person's index
when they text FORGET and YES; another person's records stay. Sends go through the real
`twilio` client against the local imitation of Twilio's API; FORGET comes by the SMS webhook.
"""

from __future__ import annotations

import time

import pytest

from bot import reach
from bot.store.fallbacks import KEEP_SECONDS, Fallbacks
from tests.conftest import Phone, drain
from tests.storeview import keys_holding
from tests.test_whatsapp import on_whatsapp, templated  # noqa: F401 (fixture)
from tests.test_whatsapp_refusals import callback

FORGETTING = "+256712345671"  # Uganda: English
STAYING = "+256712345672"


@pytest.fixture
def app(make_whatsapp_app):
    return make_whatsapp_app()


def accepted(svc, phone: str, text: str = "Sleep under a net.") -> str:
    """A tip Twilio accepted on WhatsApp (a template outside the window): its message SID."""
    on_whatsapp(svc, phone, 30)
    result = reach.deliver(svc, phone, text, kind="subscription", meta={"topic": "malaria", "message": "malaria-1"})
    assert result.outcome.value == "sent" and result.provider_id.startswith("SM")
    return result.provider_id


def test_forget_erases_their_whatsapp_fallback_records_and_leaves_another_persons(app, services, twilio_api):
    redis, keys, fallbacks = services.store.redis, services.store.keys, Fallbacks(services.store)
    theirs = [accepted(services, FORGETTING), accepted(services, FORGETTING, "Wash your hands.")]
    other = accepted(services, STAYING)
    assert [fallbacks.get(sid)["phone"] for sid in theirs] == [FORGETTING, FORGETTING]
    assert {i.decode() for i in redis.zrange(keys.fallback_index(FORGETTING), 0, -1)} == set(theirs)

    phone = Phone(app.test_client(), FORGETTING)
    assert "YES" in phone.text("FORGET")[0]
    assert phone.text("YES") == [services.catalog.language("en").texts["timed_forgotten"]]

    assert keys_holding(services.store, FORGETTING) == []  # no key names them, and no value: records, index, sends
    assert [fallbacks.get(sid) for sid in theirs] == [{}, {}]
    assert not redis.exists(keys.fallback_index(FORGETTING))
    kept = fallbacks.get(other)
    assert kept["phone"] == STAYING and kept["body"] == "Sleep under a net."
    assert 0 < redis.ttl(keys.fallback(other)) <= KEEP_SECONDS
    assert [i.decode() for i in redis.zrange(keys.fallback_index(STAYING), 0, -1)] == [other]
    assert 0 < redis.ttl(keys.fallback_index(STAYING)) <= KEEP_SECONDS

    # WhatsApp refusing a forgotten person's message later sends nothing by SMS: nothing is left to send.
    before = len(twilio_api.requests)
    assert callback(app.test_client(), theirs[0], "failed", "63016", to=FORGETTING).status_code == 204
    drain(services, "replies")
    assert len(twilio_api.requests) == before


def test_keeping_a_record_indexes_it_with_the_records_expiry_and_drops_expired_ids(services):
    redis, keys, fallbacks = services.store.redis, services.store.keys, Fallbacks(services.store)
    index = keys.fallback_index(STAYING)
    redis.zadd(index, {"SMgone": time.time() - 1, "SMstill": time.time() + 60})
    fallbacks.keep("SMnew", {"phone": STAYING, "body": "Sleep under a net."})  # its own round trip
    scores = dict((i.decode(), s) for i, s in redis.zrange(index, 0, -1, withscores=True))
    assert set(scores) == {"SMstill", "SMnew"}
    assert abs(scores["SMnew"] - (time.time() + KEEP_SECONDS)) < 60
    assert KEEP_SECONDS - 60 < redis.ttl(index) <= KEEP_SECONDS
    assert KEEP_SECONDS - 60 < redis.ttl(keys.fallback("SMnew")) <= KEEP_SECONDS


def test_erasing_a_person_without_records_does_nothing(services):
    fallbacks = Fallbacks(services.store)
    fallbacks.keep("SMother", {"phone": STAYING, "body": "Sleep under a net."})
    assert fallbacks.erase_person(FORGETTING) == 0
    assert fallbacks.get("SMother")["phone"] == STAYING
    assert fallbacks.erase_person(STAYING) == 1
    assert fallbacks.get("SMother") == {}
    assert not services.store.redis.exists(services.store.keys.fallback_index(STAYING))
