"""factsbot export / import: state built through the real endpoints and CLI survives export, wipe, import.

The round trip compares every exported key before and after (type-aware, read independently
of bot/backup), then checks behaviour: the opted-out family is still left out of broadcasts,
the field worker is still one, the user logs in with the same password, the subscription and
the registration are still due. Then: idempotent, refuses a prefix with data, and every bad
line is named.
"""

from __future__ import annotations

import io
import json
import re

import pytest
import redis
from click.testing import CliRunner

from bot import backup, broadcasts
from bot.backup.nouns import NOUNS, Classifier
from bot.cli import main
from bot.store import Broadcasts, Subscriptions
from tests.conftest import Phone, drain
from tests.storeview import stored_keys
from tests.test_dashboard import Dashboard

FAMILY, QUIET, INVITED, WORKER = "+256712000001", "+256712000002", "+256712000003", "+256711000099"
PASSWORD = "a long backup password"


@pytest.fixture
def cli(monkeypatch, config):
    for name in ("REDIS_URL", "REDIS_PREFIX", "SMS_PROVIDER", "SMS_RECORD_PATH", "FACTSBOT_ENV", "SECRET_KEY",
                 "TWILIO_AUTH_TOKEN", "BROADCAST_QUIET_HOURS"):  # fmt: skip
        monkeypatch.setenv(name, str(config[name]))
    runner = CliRunner()

    def run(*args: str, input: str | None = None, ok: bool = True):
        result = runner.invoke(main, list(args), input=input)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return run


def build_state(client, services, cli) -> str:
    """A bit of everything, made as operators and families make it."""
    family, quiet, invited, worker = (Phone(client, n) for n in (FAMILY, QUIET, INVITED, WORKER))
    family.text("hi")
    family.text("JOIN MALARIA")
    family.text("PREGNANT 20")
    quiet.text("hi")
    cli("fieldworker", "add", WORKER, "--name", "Amina", "--groups", "gulu")
    cli("user", "add", "ops@example.org", "--role", "operator", input=PASSWORD + "\n")
    for phone in (FAMILY, QUIET, INVITED):
        worker.text(f"REG {phone} GULU")
        Phone(client, phone).text("YES")
    quiet.text("STOP")
    invited.text("MENU")
    created = cli("broadcast", "create", "--topic", "malaria", "--message", "1", "--group", "gulu").output
    drain(services)
    dash = Dashboard(client)
    dash.login("ops@example.org", PASSWORD)
    assert dash.get("/dashboard/").status_code == 200  # rolls figures up: day counters and a HyperLogLog (bytes)
    return created.split()[0].strip(":")


def snapshot(store, with_log: bool = False) -> dict:
    """Every exported key of the prefix, read type by type (not through bot/backup)."""
    r, prefix = store.redis, store.keys.prefix
    classify = Classifier(tuple(n for n in NOUNS if with_log or not n.log))
    found = {}
    for raw in stored_keys(store):
        key = raw.decode()[len(prefix) :]
        if not classify(key):
            continue
        kind = r.type(raw).decode()
        read = {"string": (r.get,), "hash": (r.hgetall,), "set": (r.smembers,), "list": (r.lrange, 0, -1),
                "zset": (r.zrange, 0, -1, True), "stream": (r.xrange,)}[kind]  # fmt: skip
        value = read[0](raw, *read[1:])
        found[key] = (kind, value, r.ttl(raw) > 0)
    return found


def wipe(store) -> None:
    keys = stored_keys(store)
    if keys:
        store.redis.delete(*keys)


def test_everything_round_trips_through_export_and_import(client, services, cli, tmp_path, config):
    store = services.store
    broadcast_id = build_state(client, services, cli)
    before = snapshot(store)
    kinds = {Classifier()(key)[0].name for key in before}
    assert kinds >= {"people", "subscriptions", "groups", "fieldworkers", "broadcasts", "registrations", "users",
                     "audit", "figures"}, kinds  # fmt: skip
    assert any(key.startswith("dash:people:") for key in before), "a binary value (HyperLogLog) is in the test"

    out = tmp_path / "backup.jsonl"
    cli("export", "--out", str(out))
    header = json.loads(out.read_text().splitlines()[0])
    assert (
        header["format"] == "factsbot-export"
        and header["version"] == 1
        and header["keys"]["people"] == sum(1 for key in before if key.startswith("profile:") or key == "optouts")
    )
    wipe(store)
    assert snapshot(store) == {}
    cli("import", str(out))
    assert snapshot(store) == before

    # Behaviour: as before the wipe.
    again = broadcasts.create(services, topic_id="malaria", number=2, groups=["gulu"], created_by="test")
    drain(services)
    info = Broadcasts(store).get(again)
    assert (info["planned"], info["sent"]) == ("2", "2"), "the opted-out family is still left out"
    assert Broadcasts(store).get(broadcast_id)["sent"] == "2", "the first broadcast's figures came back"
    assert "not a field worker" not in " ".join(Phone(client, WORKER).text("BC STATUS"))
    assert Dashboard(client).login("ops@example.org", PASSWORD).status_code == 302
    assert (FAMILY, "malaria") in [(p, t) for p, t, _ in Subscriptions(store).due(float("inf"), 100)]
    assert store.redis.exists(store.keys.family(FAMILY)), "the registration came back"


def test_import_is_idempotent_and_refuses_a_prefix_with_data(client, services, cli, tmp_path):
    build_state(client, services, cli)
    out = tmp_path / "backup.jsonl"
    cli("export", "--out", str(out))
    before = snapshot(services.store)
    refused = cli("import", str(out), ok=False)
    assert refused.exit_code != 0 and "already holds data" in refused.output and "--merge" in refused.output
    cli("import", str(out), "--merge")
    cli("import", str(out), "--merge")
    assert snapshot(services.store) == before


def test_the_log_only_with_with_log(client, services, cli, tmp_path):
    Phone(client, FAMILY).text("hi")
    plain, with_log = tmp_path / "plain.jsonl", tmp_path / "log.jsonl"
    cli("export", "--out", str(plain))
    cli("export", "--out", str(with_log), "--with-log")
    nouns = lambda path: {json.loads(line).get("noun") for line in path.read_text().splitlines()[1:-1]}  # noqa: E731
    assert "log" not in nouns(plain) and "log" in nouns(with_log)
    before = snapshot(services.store, with_log=True)
    wipe(services.store)
    cli("import", str(with_log))
    after = snapshot(services.store, with_log=True)
    assert after["log"] == before["log"] and after == before


def test_big_keys_are_written_in_chunks_and_come_back_whole(services):
    store = services.store
    phones = [f"+2567{n:08d}" for n in range(2500)]
    store.redis.sadd(store.keys.optouts(), *phones)
    store.redis.rpush(store.keys.audience("B9"), *phones)
    out = io.StringIO()
    backup.export(store, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()[1:-1]]
    parts = sorted(r["part"] for r in lines if r["key"] == "optouts")
    assert len(parts) >= 3 and parts == list(range(len(parts)))
    assert max(len(r["value"]) for r in lines) <= 1000
    wipe(store)
    backup.restore(store, io.StringIO(out.getvalue()))
    backup.restore(store, io.StringIO(out.getvalue()), merge=True)  # a list's part 0 replaces it: no doubles
    assert store.redis.smembers(store.keys.optouts()) == {p.encode() for p in phones}
    assert [p.decode() for p in store.redis.lrange(store.keys.audience("B9"), 0, -1)] == phones


HEADER = json.dumps({"format": "factsbot-export", "version": 1, "keys": {}})
END = json.dumps({"end": True, "lines": {}})
GOOD = json.dumps({"noun": "people", "key": "profile:+256700000001", "type": "hash", "value": {"lang": "en"}})


@pytest.mark.parametrize(
    "lines, error",
    [
        (["not json"], "line 1: not JSON"),
        ([json.dumps({"format": "something else", "version": 1})], "line 1: not a factsbot-export header"),
        ([json.dumps({"format": "factsbot-export", "version": 2})], "line 1: format version 2 is newer"),
        ([HEADER, GOOD, "{oops", END], "line 3: not JSON"),
        ([HEADER, json.dumps({"noun": "secrets", "key": "x", "type": "string", "value": ""}), END],
         "line 2: unknown noun 'secrets'"),
        ([HEADER, json.dumps({"noun": "people", "key": "session:+1", "type": "string", "value": "{}"}), END],
         "line 2: 'session:+1' is not a key of people"),
        ([HEADER, json.dumps({"noun": "people", "key": "optouts", "type": "list", "value": []}), END],
         "line 2: 'optouts' must be a set, not 'list'"),
        ([HEADER, json.dumps({"noun": "people", "key": "profile:+1", "type": "hash", "value": {"a": 1}}), END],
         "line 2: 'profile:+1': the value must map names to strings"),
        ([HEADER, json.dumps({"noun": "subscriptions", "key": "drip", "type": "zset", "value": [["a", "x"]]}), END],
         "line 2: 'drip': the value must be a list of [member, score]"),
        ([HEADER, GOOD], "cut short"),
        ([HEADER, GOOD, END, GOOD], "line 4: more lines after the end line"),
    ],
)  # fmt: skip
def test_every_bad_line_is_named_and_nothing_is_written(services, lines, error):
    text = "\n".join(lines) + "\n"
    with pytest.raises(backup.RestoreError, match=re.escape(error)):
        backup.validate_file(io.StringIO(text))
    with pytest.raises(backup.RestoreError, match=re.escape(error)):  # restore checks as it writes (stdin)
        backup.restore(services.store, io.StringIO(text))
    assert not services.store.redis.exists(services.store.keys.profile("+256700000001"))


def test_the_cli_names_the_bad_line(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([HEADER, GOOD, GOOD.replace('"hash"', '"set"'), END]) + "\n")
    result = cli("import", str(bad), ok=False)
    assert result.exit_code == 1 and "line 3: 'profile:+256700000001' must be a hash, not 'set'" in result.output


@pytest.mark.parametrize("key", [lambda k: k.profile("+256700000001"), lambda k: k.optouts()])  # small, big
def test_a_key_of_another_type_is_named_not_left_out(services, key):
    store = services.store
    store.redis.set(key(store.keys), "x")
    named = key(store.keys).removeprefix(store.keys.prefix)
    with pytest.raises(redis.DataError, match=re.escape(f"{named} is a string, but factsbot's export expects a")):
        backup.export(store, io.BytesIO())
