"""The factsbot command: segments for editors and tools, and the terminal phone."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import main


@pytest.mark.parametrize(
    "text, encoding, units, segments",
    [
        ("Hello", "GSM-7", 5, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("It\u2019s", "UCS-2", 4, 1),
        ("\U0001f600" * 36, "UCS-2", 72, 2),
    ],
)
def test_segments_json(text, encoding, units, segments):
    result = CliRunner().invoke(main, ["segments", "--json", text])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert (data["encoding"], data["units"], data["segments"]) == (encoding, units, segments)


def test_segments_for_editors_mentions_smart_encoding():
    result = CliRunner().invoke(main, ["segments", "It\u2019s fine"])
    assert "encoding: UCS-2" in result.output and "with smart encoding: GSM-7" in result.output


def test_chat_talks_to_the_engine_and_store(monkeypatch, redis_url, prefix):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_PREFIX", prefix)
    result = CliRunner().invoke(main, ["chat", "--from", "+256700000001"], input="hi\n10\nMORE\nSTOP\nhello\n\n")
    assert result.exit_code == 0, result.output
    assert "Welcome to Facts for Life" in result.output
    assert "Mosquitoes spread malaria" in result.output
    assert "unsubscribed" in result.output
    assert "[no reply]" in result.output


def test_chat_rejects_a_bad_number():
    result = CliRunner().invoke(main, ["chat", "--from", "12"])
    assert result.exit_code != 0 and "not a phone number" in result.output


def test_fieldworker_and_broadcast_commands(monkeypatch, redis_url, prefix, tmp_path):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_PREFIX", prefix)
    monkeypatch.setenv("SMS_PROVIDER", "record")
    monkeypatch.setenv("SMS_RECORD_PATH", str(tmp_path / "sent.jsonl"))
    cli = CliRunner()
    added = cli.invoke(main, ["fieldworker", "add", "+256700000002", "--name", "Amina", "--groups", "kisumu,siaya"])
    assert added.exit_code == 0 and "kisumu, siaya" in added.output
    assert "Amina" in cli.invoke(main, ["fieldworker", "list"]).output
    created = cli.invoke(main, ["broadcast", "create", "--topic", "malaria", "--message", "1", "--group", "kisumu"])
    assert created.exit_code == 0, created.output
    bid = created.output.split()[0]
    assert bid.startswith("B") and "done" in created.output  # nobody in the group yet: finished at once
    later = cli.invoke(main, ["broadcast", "create", "--topic", "hygiene", "--message", "2", "--all",
                              "--at", "2099-01-01T09:00"])  # fmt: skip
    assert later.exit_code == 0 and "scheduled" in later.output
    later_id = later.output.split()[0]
    assert "paused" in cli.invoke(main, ["broadcast", "pause", later_id]).output
    assert "cancelled" in cli.invoke(main, ["broadcast", "cancel", later_id]).output
    refused = cli.invoke(main, ["broadcast", "resume", later_id])
    assert refused.exit_code != 0 and "cannot resume" in refused.output
    assert later_id in cli.invoke(main, ["broadcast", "status"]).output
    bad = cli.invoke(main, ["broadcast", "create", "--topic", "malaria", "--message", "99", "--group", "kisumu"])
    assert bad.exit_code != 0 and "key messages 1 to 4" in bad.output
    assert cli.invoke(main, ["fieldworker", "remove", "+256700000002"]).exit_code == 0
    assert cli.invoke(main, ["fieldworker", "remove", "+256700000002"]).exit_code != 0


def test_commands_that_keep_data_refuse_a_server_that_would_vanish(monkeypatch, tmp_path):
    from bot import embedded

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(embedded, "SHARED", tmp_path / "no-dev-server")
    monkeypatch.setattr(embedded, "_server", None)
    for args in (["fieldworker", "add", "+256700000002", "--name", "A", "--groups", "x"], ["user", "list"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "no Redis to use" in result.output, result.output


def test_fieldworker_add_refuses_a_group_that_cannot_be_texted(monkeypatch, redis_url, prefix):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_PREFIX", prefix)
    result = CliRunner().invoke(main, ["fieldworker", "add", "+256700000002", "--name", "A", "--groups", "a b"])
    assert result.exit_code == 2 and "'a b'" in result.output
