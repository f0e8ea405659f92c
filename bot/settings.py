"""Configuration: every setting, its environment variable, default and meaning, in one place.

The README's configuration table is this list. `from_env()` reads them (12-factor);
`create_app(config)` lets tests and tools override any of them by name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    kind: type = str
    secret: bool = False


SETTINGS = (
    Setting("FACTSBOT_ENV", "production", "production or development; `factsbot dev` sets development"),
    Setting("SECRET_KEY", "", "Flask secret key; required in production", secret=True),
    Setting("REDIS_URL", "", "Redis or Valkey URL; unset in dev and tests starts an embedded Valkey"),
    Setting("REDIS_PREFIX", "factsbot:", "prefix of every key factsbot writes"),
    Setting("TWILIO_AUTH_TOKEN", "", "checks X-Twilio-Signature; required in production", secret=True),
    Setting("PUBLIC_BASE_URL", "", "the address Twilio calls, e.g. https://sms.example.org (behind a proxy)"),
    Setting("SMS_SEGMENTS_PER_PART", 1, "segments one reply SMS may cost", int),
    Setting("SMS_MAX_PARTS", 3, "SMS per reply at most; the rest waits behind MORE", int),
    Setting("SMART_ENCODING", True, "replace typographic punctuation with GSM-7 before sending", bool),
    Setting("SESSION_IDLE_SECONDS", 1800, "a conversation's menu position expires after this idle time", int),
    Setting("DEDUPE_SECONDS", 172800, "how long a MessageSid is remembered to ignore redeliveries", int),
    Setting("LOG_RETENTION_DAYS", 90, "message log entries older than this are deleted", int),
    Setting("LOG_MAX_ENTRIES", 1_000_000, "the message log keeps at most about this many entries", int),
    Setting("CONTENT_DIR", str(ROOT / "messages"), "folder of topics and key messages"),
    Setting("DEFAULT_LANGUAGE", "en", "language of a new person and the fallback for missing texts"),
    Setting(
        "COUNTRY_LANGUAGES",
        "KE:sw,TZ:sw,SN:fr,CI:fr,CD:fr,CM:fr,ML:fr,BF:fr,NE:fr,FR:fr,IN:hi",
        "first-contact language by the number's country (ISO:language, comma-separated); others get DEFAULT_LANGUAGE",
    ),
    Setting(
        "TRANSLITERATE_LANGUAGES",
        "",
        "languages sent with GSM-7 look-alike letters (e.g. fr: ê -> e) so accents do not double the cost",
    ),
    Setting("DEFAULT_REGION", "", "country (ISO code, e.g. KE) for numbers sent without +country code"),
    Setting("PROGRAM_NAME", "Facts for Life", "name used in HELP and STOP replies"),
    Setting("SUPPORT_CONTACT", "your local health worker", "where HELP tells people to get help"),
    Setting("CHILD_HELPLINE", "", "child helpline for every country, overriding messages/helplines.yaml"),
    Setting("EMERGENCY_NUMBER", "", "emergency number for every country, overriding messages/helplines.yaml"),
    Setting("PORT", 5000, "port of `factsbot dev`", int),
)


def _parse(setting: Setting, raw: str) -> object:
    if setting.kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if setting.kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{setting.name} must be a whole number, not {raw!r}") from None
    return raw


def from_env(environ: Mapping[str, str] | None = None) -> dict:
    """Every setting, from the environment where set, else its default."""
    environ = os.environ if environ is None else environ
    return {s.name: _parse(s, environ[s.name]) if environ.get(s.name, "") != "" else s.default for s in SETTINGS}


def problems(config: Mapping) -> list[str]:
    """What stops this configuration from running safely."""
    found = []
    if config["FACTSBOT_ENV"] not in {"production", "development"}:
        found.append("FACTSBOT_ENV must be production or development")
    if config["FACTSBOT_ENV"] == "production":
        for name in ("TWILIO_AUTH_TOKEN", "SECRET_KEY", "REDIS_URL"):
            if not config.get(name):
                found.append(f"{name} is required in production")
    bad = [item for item in codes(config["COUNTRY_LANGUAGES"]) if ":" not in item]
    if bad:
        found.append(f"COUNTRY_LANGUAGES entries must look like KE:sw, not {', '.join(bad)}")
    if config["SMS_SEGMENTS_PER_PART"] < 1 or config["SMS_MAX_PARTS"] < 1:
        found.append("SMS_SEGMENTS_PER_PART and SMS_MAX_PARTS must be at least 1")
    return found


def codes(value: str) -> list[str]:
    """ "fr, sw" -> ["fr", "sw"]."""
    return [c.strip().lower() for c in value.split(",") if c.strip()]


def pairs(value: str) -> list[tuple[str, str]]:
    """ "KE:sw,SN:fr" -> [("KE", "sw"), ("SN", "fr")]."""
    found = []
    for item in codes(value):
        country, _, lang = item.partition(":")
        if country and lang:
            found.append((country.upper(), lang))
    return found


def is_development(config: Mapping) -> bool:
    return config["FACTSBOT_ENV"] == "development"
