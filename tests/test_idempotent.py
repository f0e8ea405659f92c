"""Scripts that count or log run safely twice: redis-py resends a command whose answer was lost.

The script already ran on the server; without a guard the resend would count a broadcast's
figures twice, log a message twice, or turn its own claim into a 'skip'.
"""

from __future__ import annotations

import pytest

from bot.store import Broadcasts, LogEntry, LogQuery, RecipientState, Sends, Settled, Store
from tests.faults import LostAnswerConnection, client
from tests.storeview import recipient_states, sent_fields

PHONES = ["+256700000101", "+256700000102"]


@pytest.fixture
def lossy(config):
    """A store whose client loses the answer of the next script it runs, once armed."""
    redis_client = client(config["REDIS_URL"], LostAnswerConnection)
    LostAnswerConnection.armed, LostAnswerConnection.lost = False, 0
    yield Store(redis_client, config)
    LostAnswerConnection.armed = False
    redis_client.close()


def lose_next_answer() -> None:
    LostAnswerConnection.armed = True


def sending_broadcast(store: Store) -> str:
    store.redis.sadd(store.keys.group("lira"), *PHONES)
    broadcasts = Broadcasts(store)
    bid = broadcasts.create({"topic": "malaria", "message": "malaria-1", "groups": "lira", "status": "sending"})
    broadcasts.snapshot(bid, ["lira"], 10)
    return bid


def sent_entry(phone: str, bid: str) -> LogEntry:
    return LogEntry("out", "sms", phone, "", "broadcast", "malaria", "malaria-1", message_id="SM1", status="sent",
                    broadcast=bid)  # fmt: skip


def test_a_broadcast_step_whose_answer_was_lost_claims_and_counts_once(lossy):
    broadcasts = Broadcasts(lossy)
    bid = sending_broadcast(lossy)
    lose_next_answer()
    run = broadcasts.new_run()
    assert broadcasts.step(bid, ["lira"], None, PHONES[0], run=run) == ("go", "")  # not "skip": its own claim
    assert LostAnswerConnection.lost == 1
    assert broadcasts.get(bid)["inflight"] == "1"

    settled = Settled(PHONES[0], RecipientState.SENT.value, "sent", "SM1", sent_entry(PHONES[0], bid))
    lose_next_answer()
    assert broadcasts.step(bid, ["lira"], settled, PHONES[1], run=run) == ("go", "")
    assert LostAnswerConnection.lost == 2
    info = broadcasts.get(bid)
    assert (info["sent"], info["inflight"]) == ("1", "1")
    assert recipient_states(lossy, bid) == {PHONES[0]: "s", PHONES[1]: "i"}
    assert len(LogQuery(lossy).person(PHONES[0])) == 1
    assert sent_fields(lossy, "SM1")["broadcast"] == bid


def test_a_broadcast_step_run_twice_answers_the_same_and_counts_once(services):
    store = services.store
    broadcasts = Broadcasts(store)
    bid = sending_broadcast(store)
    assert broadcasts.step(bid, ["lira"], None, PHONES[0], run="r1") == ("go", "")
    settled = Settled(PHONES[0], RecipientState.SENT.value, "sent", "SM1", sent_entry(PHONES[0], bid))
    first = broadcasts.step(bid, ["lira"], settled, PHONES[1], run="r1")
    again = broadcasts.step(bid, ["lira"], settled, PHONES[1], run="r1")
    assert first == again == ("go", "")
    assert broadcasts.step(bid, ["lira"], None, PHONES[1], run="r2") == ("skip", "")  # another run's claim
    info = broadcasts.get(bid)
    assert (info["sent"], info["inflight"], info["excluded"]) == ("1", "1", "0")
    assert len(LogQuery(store).person(PHONES[0])) == 1
    broadcasts.step(bid, ["lira"], None, "", run="r1")  # the run ends: its claim field goes
    assert not [f for f in broadcasts.get(bid) if f.startswith("claim:")]


def test_a_send_record_whose_answer_was_lost_logs_once(lossy):
    phone = PHONES[0]
    lose_next_answer()
    Sends(lossy).record(phone, LogEntry("out", "sms", phone, "hi", "reply", status="sent"), "SM2")
    assert LostAnswerConnection.lost == 1
    assert len(LogQuery(lossy).person(phone)) == 1
    assert LogQuery(lossy).length() == 1


@pytest.mark.parametrize("provider_id", ["SM3", ""])  # a gateway id, or none (a refusal, a simulator)
def test_a_send_record_run_twice_logs_and_opts_out_once(services, provider_id):
    store, phone = services.store, PHONES[1]
    entry = LogEntry("out", "sms", phone, "tip", "subscription", status="opted_out")
    for _ in range(2):
        Sends(store).record(phone, entry, provider_id, opted_out=True, token="send-1")
    assert len(LogQuery(store).person(phone)) == 1
    assert store.profile_fields(phone)["rev"] == "1"  # the opt-out moved the profile's revision once
