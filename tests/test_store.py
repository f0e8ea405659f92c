"""The Redis store: round trips per message, compare-and-set, retention bounds."""

from __future__ import annotations

from bot import conversation, services, sms
from bot.menu import Profile
from bot.store import CountingConnection, Keys, LogEntry, Sends, Store, Write, counting_client
from tests.storeview import log_entries, person_log, sent_fields


def test_an_inbound_message_costs_two_round_trips(config):
    svc = services.build(config, counting_client(config["REDIS_URL"]))

    def send(text, sid):
        inbound = conversation.Inbound("+256712345678", text, "sms", sid)
        return sms.handle(svc, inbound)

    send("hi", "SMwarm")  # loads the Lua script into the server once
    trips = []
    for n, text in enumerate(["10", "MORE", "NEXT", "BACK", "MENU", "malaria", "HELP", "STOP", "START"]):
        before = CountingConnection.sends
        send(text, f"SM{n}")
        trips.append(CountingConnection.sends - before)
    assert trips == [2] * len(trips)
    before = CountingConnection.sends
    send("NEXT", "SM3")  # a redelivery: answered from the dedupe marker alone
    assert CountingConnection.sends - before == 1


def test_a_stale_write_is_refused(services):
    store: Store = services.store
    phone = "+254700000009"
    key = store.keys.session(phone)
    a = store.load(phone, key, store.keys.dedupe("sms", "SMa"))
    b = store.load(phone, key, store.keys.dedupe("sms", "SMb"))
    moved = {"state": "menu", "page": 1}
    first = store.commit(phone, a, Profile(lang="en"), [Write(key, moved, 60)], [],
                         dedupe_key=store.keys.dedupe("sms", "SMa"), parts=("x",))  # fmt: skip
    assert first == ("ok", ("x",))
    second = store.commit(phone, b, Profile(lang="en"), [Write(key, None)], [],
                          dedupe_key=store.keys.dedupe("sms", "SMb"), parts=("y",))  # fmt: skip
    assert second == ("conflict", ())
    assert store.load(phone, key).state == moved
    # The same message id again is a duplicate, answered with what was sent the first time.
    again = store.load(phone, key, store.keys.dedupe("sms", "SMa"))
    assert again.duplicate == ("x",)


def test_profile_is_kept_and_session_expires(config):
    # The session's expiry is the one an SMS turn gives it from SESSION_IDLE_SECONDS, not one the test passes.
    svc = services.build({**config, "SESSION_IDLE_SECONDS": 1234})
    phone = "+254700000010"
    sms.handle(svc, conversation.Inbound(phone, "10", "sms", "SMkept"))
    store: Store = svc.store
    key, r = store.keys.session(phone), store.redis
    assert r.exists(key) and r.exists(store.keys.profile(phone))
    assert r.ttl(store.keys.profile(phone)) == -1
    assert 1200 < r.ttl(key) <= 1234
    phone = "+254700000012"
    key = store.keys.session(phone)
    loaded = store.load(phone, key)
    profile = Profile(lang="en", country="KE", opted_out=True)
    store.commit(phone, loaded, profile, [Write(key, {"state": "menu"}, 60)], [], now=1_700_000_000.0)
    assert r.ttl(store.keys.profile(phone)) == -1
    fields = store.profile_fields(phone)
    assert fields["opted_out"] == "1" and fields["country"] == "KE" and fields["first_seen"] == "1700000000.000"
    assert fields["opted_out_at"] == "1700000000.000" and fields["rev"] == "1"
    assert store.load(phone, key).profile == profile


def test_log_is_bounded_by_length_and_age(config):
    svc = services.build({**config, "LOG_MAX_ENTRIES": 100, "LOG_RETENTION_DAYS": 1})
    store = svc.store
    phone = "+254700000011"
    for n in range(300):
        loaded = store.load(phone, store.keys.session(phone))
        store.commit(phone, loaded, Profile(), [], [LogEntry("in", "sms", phone, f"m{n}")])
    assert store.redis.xlen(store.keys.log()) <= 200  # the cap, plus at most a stream node of slack


def test_log_entries_older_than_retention_are_trimmed(config):
    svc = services.build({**config, "LOG_RETENTION_DAYS": 1})
    store = svc.store
    for n in range(1, 301):  # three days ago, in whole stream nodes
        store.redis.xadd(store.keys.log(), {"text": "old"}, id=f"{1_700_000_000_000 + n}-0")
    phone = "+254700000012"
    loaded = store.load(phone, store.keys.session(phone))
    store.commit(phone, loaded, Profile(), [], [LogEntry("in", "sms", phone, "new")])
    old = [f for _, f in log_entries(store, 1000) if f.get("text") == "old"]
    assert len(old) < 100  # approximate trimming keeps at most one partly old node
    assert log_entries(store, 1)[0][1]["text"] == "new"


def test_each_persons_entries_are_indexed(client, services):
    from tests.conftest import Phone

    a, b = Phone(client, "+256700000021"), Phone(client, "+256700000022")
    a.text("hi")
    b.text("hi")
    a.text("malaria")
    mine = person_log(services.store, "+256700000021")
    assert [f["direction"] for _, f in mine] == ["out", "in", "out", "in"]
    assert {f["phone"] for _, f in mine} == {"+256700000021"}
    assert mine[1][1]["text"] == "malaria"


def test_an_opt_out_from_a_gateway_wins_over_a_message_answered_from_the_old_profile(services):
    store: Store = services.store
    phone = "+254700000019"
    key = store.keys.session(phone)
    store.commit(phone, store.load(phone, key), Profile(lang="en"), [], [])
    answering = store.load(phone, key)  # an inbound message is being answered...
    entry = LogEntry("out", "sms", phone, "tip", "subscription", status="opted_out")
    Sends(store).record(phone, entry, "SM" + "9" * 32, opted_out=True)  # ...when the gateway reports STOP
    assert store.commit(phone, answering, Profile(lang="en"), [], [])[0] == "conflict"
    assert store.profile_fields(phone)["opted_out"] == "1"
    assert store.redis.sismember(store.keys.optouts(), phone) and store.profile_fields(phone)["opted_out_at"]


def test_recording_a_send_is_one_round_trip_and_indexes_the_log_with_an_expiry(config):
    svc = services.build(config, counting_client(config["REDIS_URL"]))
    phone = "+254700000029"
    entry = LogEntry("out", "sms", phone, "hello", "reply", status="sent")
    sends = Sends(svc.store)
    sends.record(phone, entry, "SM" + "8" * 32)  # loads the script once
    before = CountingConnection.sends
    sends.record(phone, entry, "SM" + "7" * 32)
    assert CountingConnection.sends - before == 1
    assert svc.store.redis.pttl(svc.store.keys.log_index(phone)) > 0
    assert len(person_log(svc.store, phone)) == 2
    # The delivery record keeps what a report needs, not the number: FORGET could not find it there.
    assert sent_fields(svc.store, "SM" + "7" * 32) == {"status": "sent"}


def test_key_names_are_kept_for_the_data_already_stored_under_them():
    """Renaming a key orphans what deployed servers hold under it: these strings are a contract."""
    from bot.store import Keys

    k = Keys("p:")
    assert (k.session("+1"), k.profile("+1"), k.dedupe("sms", "SM1"), k.log(), k.log_index("+1")) == (
        "p:session:+1", "p:profile:+1", "p:seen:sms:SM1", "p:log", "p:log:by:+1")  # fmt: skip
    assert (k.subscriptions_due(), k.subscription_positions(), k.subscription_member("+1", "malaria")) == (
        "p:drip", "p:drip:position", "+1|malaria")  # fmt: skip
    assert k.subscription_of("+1|malaria") == ("+1", "malaria")
    assert (k.broadcast("B1"), k.recipients("B1"), k.sent("SM1"), k.user("a@b")) == (
        "p:broadcast:B1", "p:broadcast:B1:recipients", "p:sent:SM1", "p:dash:user:a@b")  # fmt: skip


def test_key_names_are_exact():
    keys = Keys("factsbot:")
    assert keys.session("+256712345678") == "factsbot:session:+256712345678"
    assert keys.profile("+256712345678") == "factsbot:profile:+256712345678"
    assert keys.dedupe("sms", "SM1") == "factsbot:seen:sms:SM1"
    assert keys.log() == "factsbot:log"
    assert keys.fallback("SM1") == "factsbot:sent:SM1:sms"  # records already kept stay readable
    assert keys.fallback_index("+256712345678") == "factsbot:fallback:by:+256712345678"
    assert (keys.rq_queue("replies"), keys.rq_queue("bulk")) == ("factsbot:replies", "factsbot:bulk")


def test_rq_queues_are_named_by_keys_under_the_prefix(config):
    """Jobs already queued on a deployed server wait under these names: the worker must keep serving them."""
    svc = services.build(config)
    prefix = config["REDIS_PREFIX"]
    assert [svc.queue(name).name for name in ("replies", "bulk")] == [f"{prefix}replies", f"{prefix}bulk"]
