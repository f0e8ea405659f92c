"""Configuration: every setting, its environment variable, default and meaning, in one place.

The README's configuration table is this list. `from_env()` reads them (12-factor);
`create_app(config)` lets tests and tools override any of them by name.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot import connection, quiet

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    kind: type = str


SETTINGS = (
    Setting("FACTSBOT_ENV", "production", "production or development; `factsbot dev` sets development"),
    Setting("SECRET_KEY", "", "Flask secret key; required in production"),
    Setting("REDIS_URL", "", "Redis or Valkey URL; unset in dev and tests starts an embedded Valkey"),
    Setting("REDIS_PREFIX", "factsbot:", "prefix of every key factsbot writes"),
    Setting("REDIS_SENTINELS", "", "Sentinels (host:port,host:port,...): find the primary through them, not REDIS_URL"),
    Setting("REDIS_SENTINEL_MASTER", "factsbot", "the name the Sentinels know the primary by"),
    Setting("REDIS_SENTINEL_PASSWORD", "", "password of the Sentinels themselves (when they require one)"),
    Setting("REDIS_USERNAME", "", "with Sentinels: the primary's ACL user (REDIS_URL carries it otherwise)"),
    Setting("REDIS_PASSWORD", "", "with Sentinels: the primary's password (REDIS_URL carries it otherwise)"),
    Setting("REDIS_DB", 0, "with Sentinels: the database number (REDIS_URL carries it otherwise)", int),
    Setting("REDIS_TLS", False, "with Sentinels: TLS to the Sentinels and the primary (rediss:// otherwise)", bool),
    Setting("REDIS_TLS_CA_CERTS", "", "with REDIS_TLS: the CA bundle that signed the servers' certificates"),
    Setting(
        "REDIS_WAIT_REPLICAS", 0, "replies, opt-outs and broadcast claims wait until this many replicas have them", int
    ),
    Setting("REDIS_WAIT_MS", 500, "longest such a write waits for its replicas; then it goes on and is counted", int),
    Setting(
        "ALLOW_VOLATILE_REDIS", False, "production: start even though Redis keeps nothing on disk (demos only)", bool
    ),
    Setting("TWILIO_AUTH_TOKEN", "", "checks X-Twilio-Signature; required in production"),
    Setting("TWILIO_ACCOUNT_SID", "", "Twilio account that sends SMS (SMS_PROVIDER=twilio)"),
    Setting("TWILIO_FROM", "", "sender number or short code for outbound SMS"),
    Setting("TWILIO_MESSAGING_SERVICE_SID", "", "Messaging Service used instead of TWILIO_FROM"),
    Setting("TWILIO_API_BASE", "", "another address for Twilio's API (tests point it at a local server)"),
    Setting(
        "SMS_PROVIDER", "", "outbound SMS: twilio, africastalking, console or record; default twilio (console in dev)"
    ),
    Setting("SMS_RECORD_PATH", "sent.jsonl", "file the record provider appends one JSON line per SMS to"),
    Setting("SMS_MPS", 10, "provider's rate in segments per second, shared by all workers", int),
    Setting("SEND_MAX_ATTEMPTS", 5, "tries of one outbound SMS on transient errors (429, 5xx, timeouts)", int),
    Setting("SEND_RETRY_SECONDS", 10, "first wait before retrying a send; each later wait is 3 times longer", int),
    Setting("AT_USERNAME", "", "Africa's Talking username (SMS_PROVIDER=africastalking)"),
    Setting("AT_API_KEY", "", "Africa's Talking API key"),
    Setting("AT_SENDER_ID", "", "Africa's Talking sender id or short code (optional)"),
    Setting("AT_API_BASE", "https://api.africastalking.com", "Africa's Talking API address (sandbox or a test server)"),
    Setting("AT_CALLBACK_TOKEN", "", "when set, Africa's Talking callbacks must carry ?token=<this>"),
    Setting("AT_ALLOWED_IPS", "", "when set, callbacks only from these addresses or networks (comma-separated)"),
    Setting("PROXY_COUNT", 0, "reverse proxies in front of the app, trusted for client address and scheme", int),
    Setting("USSD_MAX_CHARS", 182, "characters per USSD screen, CON/END prefix included (GSM-7 text)", int),
    Setting("USSD_MAX_CHARS_UCS2", 80, "characters per USSD screen when the text needs UCS-2 (e.g. Hindi)", int),
    Setting("USSD_SESSION_SECONDS", 300, "how long a USSD session's state is kept", int),
    Setting(
        "USSD_RESUME_SECONDS", 600, "a number that dials again within this time may continue where it left off", int
    ),
    Setting(
        "VOICE_ENABLED",
        False,
        "answer calls at /voice/twilio and /voice/africastalking; recordings become required",
        bool,
    ),
    Setting(
        "VOICE_RESUME_SECONDS", 600, "a number that calls again within this time may go on where its call dropped", int
    ),
    Setting(
        "AUDIO_BASE_URL",
        "",
        "where recordings are served from (a CDN mirroring messages/<lang>/audio/); default the app",
    ),
    Setting(
        "AUDIO_RESCAN_SECONDS",
        60,
        "a process lists the recordings again after this many seconds (and on publish): a new one plays by then",
        int,
    ),
    Setting(
        "VOICE_PROVIDER",
        "",
        "outbound calls (tips by phone): twilio, africastalking, console or record; default as SMS_PROVIDER",
    ),
    Setting("VOICE_CPS", 1, "calls per second the voice provider allows, shared by all workers", int),
    Setting("VOICE_CALL_ATTEMPTS", 3, "tries of one tip call when the phone is busy or not answered", int),
    Setting("VOICE_RETRY_SECONDS", 3600, "wait before calling again after busy or no answer", int),
    Setting("TWILIO_VOICE_FROM", "", "the number tip calls come from (Twilio); default TWILIO_FROM"),
    Setting("AT_VOICE_FROM", "", "the Africa's Talking number tip calls come from"),
    Setting("AT_VOICE_API_BASE", "https://voice.africastalking.com", "Africa's Talking voice API address"),
    Setting("DRIP_INTERVAL_DAYS", 7, "days between a subscription's tips", int),
    Setting("DRIP_FIRST_DELAY_SECONDS", 3600, "when a new subscription's first tip is due", int),
    Setting("QUIET_HOURS", "21-8", "no subscription or timed tips between these local hours (start-end, 24h clock)"),
    Setting("SCHEDULE_FILE", "", "timed messages' schedule (a country's own); empty: schedules.yaml in CONTENT_DIR"),
    Setting("BROADCAST_QUIET_HOURS", "21-8", "broadcast batches wait out these local hours (0-0: send at any hour)"),
    Setting("TIMEZONE", "", "one timezone for every recipient (e.g. Africa/Nairobi); default: from the number"),
    Setting("BROADCAST_BATCH_SIZE", 500, "recipients per RQ job of a broadcast", int),
    Setting("FIELDWORKER_DAILY_BROADCASTS", 5, "broadcasts one field worker may send per day", int),
    Setting("PUBLIC_BASE_URL", "", "the address Twilio calls, e.g. https://sms.example.org (behind a proxy)"),
    Setting("SMS_SEGMENTS_PER_PART", 1, "segments one reply SMS may cost", int),
    Setting("SMS_MAX_PARTS", 3, "SMS per reply at most; the rest waits behind MORE", int),
    Setting("SMART_ENCODING", True, "replace typographic punctuation with GSM-7 before sending", bool),
    Setting("SESSION_IDLE_SECONDS", 1800, "a conversation's menu position expires after this idle time", int),
    Setting("DEDUPE_SECONDS", 172800, "how long a MessageSid is remembered to ignore redeliveries", int),
    Setting("LOG_RETENTION_DAYS", 90, "message log entries older than this are deleted", int),
    Setting("LOG_MAX_ENTRIES", 1_000_000, "the message log keeps at most about this many entries", int),
    Setting("CONTENT_DIR", str(ROOT / "messages"), "folder of topics and key messages"),
    Setting("CONTENT_CHECK_SECONDS", 10, "seconds between a process's checks for content an admin published", int),
    Setting(
        "CONTENT_REQUIRE_REVIEW",
        False,
        "production: a translated key message nobody has signed off (reviewed_by) is sent in English",
        bool,
    ),
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
    Setting("SUPPORT_CONTACT", "", "where HELP tells people to get help (empty: each language's support_contact)"),
    Setting("CHILD_HELPLINE", "", "child helpline for every country, overriding messages/helplines.yaml"),
    Setting("EMERGENCY_NUMBER", "", "emergency number for every country, overriding messages/helplines.yaml"),
    Setting(
        "MALARIA_COUNTRIES",
        "AO,BF,BI,BJ,CD,CF,CG,CI,CM,ET,GA,GH,GM,GN,GQ,GW,IN,KE,LR,MG,ML,MW,MZ,NE,NG,RW,SD,SL,SN,SO,SS,TD,TG,TZ,UG,ZM,ZW",
        "where malaria is endemic (ISO codes): FEVER leads to the malaria tip there, general fever advice elsewhere",
    ),
    Setting(
        "TWILIO_WHATSAPP_FROM", "", "WhatsApp sender (whatsapp:+E164) for messages we start; empty: no WhatsApp sends"
    ),
    Setting(
        "HELPDESK", False, "questions get 'a health worker will reply' and are answered from the dashboard inbox", bool
    ),
    Setting("QUESTION_RETENTION_DAYS", 90, "questions (and their answers) older than this are deleted", int),
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
        provider = sms_provider(config)
        # A deployment entirely on Africa's Talking has no Twilio token (its Twilio webhook then refuses all).
        required = ("SECRET_KEY",) + (() if provider == "africastalking" else ("TWILIO_AUTH_TOKEN",))
        for name in required:
            if not config.get(name):
                found.append(f"{name} is required in production")
        if not (config.get("REDIS_URL") or config.get("REDIS_SENTINELS")):
            found.append("REDIS_URL (or REDIS_SENTINELS) is required in production")
        has_sender = config.get("TWILIO_FROM") or config.get("TWILIO_MESSAGING_SERVICE_SID")
        if provider == "twilio" and not (config.get("TWILIO_ACCOUNT_SID") and has_sender):
            found.append("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID and TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
        if provider == "africastalking" and not (config.get("AT_USERNAME") and config.get("AT_API_KEY")):
            found.append("SMS_PROVIDER=africastalking needs AT_USERNAME and AT_API_KEY")
    try:
        connection.sentinel_addresses(str(config.get("REDIS_SENTINELS") or ""))
    except ValueError as e:
        found.append(str(e))
    for name, chosen in (("SMS_PROVIDER", sms_provider(config)), ("VOICE_PROVIDER", config.get("VOICE_PROVIDER"))):
        if chosen and chosen not in PROVIDERS:
            found.append(f"{name} must be one of {', '.join(PROVIDERS)}, not {chosen!r}")
    bad = [item for item in codes(config["COUNTRY_LANGUAGES"]) if ":" not in item]
    if bad:
        found.append(f"COUNTRY_LANGUAGES entries must look like KE:sw, not {', '.join(bad)}")
    if config["SMS_SEGMENTS_PER_PART"] < 1 or config["SMS_MAX_PARTS"] < 1:
        found.append("SMS_SEGMENTS_PER_PART and SMS_MAX_PARTS must be at least 1")
    for item in codes(config["AT_ALLOWED_IPS"]):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            found.append(f"AT_ALLOWED_IPS: {item!r} is not an address or network (e.g. 196.201.214.0/24)")
    for name in ("QUIET_HOURS", "BROADCAST_QUIET_HOURS"):
        try:
            quiet.parse_hours(config[name], name)
        except ValueError as e:
            found.append(str(e))
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


PROVIDERS = ("twilio", "africastalking", "console", "record", "null")


def sms_provider(config: Mapping) -> str:
    return config.get("SMS_PROVIDER") or ("console" if is_development(config) else "twilio")


def voice_provider(config: Mapping) -> str:
    """Who places tip calls: VOICE_PROVIDER, else the SMS provider (a deployment uses one gateway)."""
    return config.get("VOICE_PROVIDER") or sms_provider(config)


def is_development(config: Mapping) -> bool:
    return config["FACTSBOT_ENV"] == "development"
