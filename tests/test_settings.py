"""Configuration: parsed from the environment, documented in one place."""

from __future__ import annotations

import pytest

from bot import settings
from bot.settings import ROOT, SETTINGS


def test_every_setting_is_documented_in_readme_and_env_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for s in SETTINGS:
        assert f"| `{s.name}` |" in readme, s.name
        assert f"\n{s.name}=" in example, s.name


def test_environment_values_are_parsed_by_kind():
    config = settings.from_env({"SMS_MAX_PARTS": "2", "SMART_ENCODING": "no", "PROGRAM_NAME": "Afya"})
    assert config["SMS_MAX_PARTS"] == 2 and config["SMART_ENCODING"] is False and config["PROGRAM_NAME"] == "Afya"
    assert settings.from_env({})["SMS_MAX_PARTS"] == 3


def test_a_bad_number_is_a_clear_error():
    with pytest.raises(ValueError, match="SMS_MAX_PARTS must be a whole number"):
        settings.from_env({"SMS_MAX_PARTS": "three"})


def test_list_settings():
    assert settings.pairs("KE:sw, sn:FR ,bogus") == [("KE", "sw"), ("SN", "fr")]
    assert settings.codes(" fr, SW ,") == ["fr", "sw"]
    config = {**settings.from_env({}), "COUNTRY_LANGUAGES": "KE-sw", "REDIS_URL": "x", "SECRET_KEY": "s",
              "TWILIO_AUTH_TOKEN": "t"}  # fmt: skip
    assert any("COUNTRY_LANGUAGES" in p for p in settings.problems(config))


def test_a_malformed_allowlist_is_refused_at_start_up():
    config = {**settings.from_env({}), "REDIS_URL": "x", "SECRET_KEY": "s", "TWILIO_AUTH_TOKEN": "t",
              "AT_ALLOWED_IPS": "196.201.214.0/24, 10.0.0.0/33"}  # fmt: skip
    assert [p for p in settings.problems(config) if "AT_ALLOWED_IPS" in p and "10.0.0.0/33" in p]


@pytest.mark.parametrize(
    "change, problem",
    [({"SMS_PROVIDER": "twillio"}, "SMS_PROVIDER must be one of"),
     ({"SMS_PROVIDER": "twilio", "TWILIO_FROM": "+15005550006"}, "TWILIO_ACCOUNT_SID")],
)  # fmt: skip
def test_a_provider_that_cannot_send_is_refused_at_start_up(change, problem):
    config = {**settings.from_env({}), "REDIS_URL": "x", "SECRET_KEY": "s", "TWILIO_AUTH_TOKEN": "t", **change}
    assert any(problem in p for p in settings.problems(config)), settings.problems(config)
