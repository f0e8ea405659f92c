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
