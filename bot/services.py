"""The composition root's products: what every request and command is handed."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import redis
from flask import Flask, current_app
from rq import Queue

from bot import audio, connection, content, providers, settings
from bot.audio_library import Library
from bot.content import Catalog
from bot.engine import Engine
from bot.menu import Context
from bot.persistence import Persistence
from bot.providers import voice as voice_providers
from bot.render import Renderer, Wording
from bot.render.sms import SmsRenderer
from bot.render.ussd import UssdRenderer
from bot.render.voice import VoiceRenderer
from bot.render.whatsapp import WhatsAppRenderer
from bot.store import Store
from bot.voice import VoiceEngine

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: Mapping
    store: Store
    catalog: Catalog
    sms: SmsRenderer
    ussd: UssdRenderer
    context: Context
    content_generation: int = 0
    content_checked: float = field(default_factory=time.monotonic)
    persistence: Persistence | None = None  # what the production start-up check found (bot.persistence)
    whatsapp: WhatsAppRenderer = field(default_factory=WhatsAppRenderer)
    # The voice line's engine and the content and recordings listing it was built on (see voice_engine).
    _voice: tuple[Catalog, int, VoiceEngine] | None = field(default=None, repr=False)
    _engines: dict[str, Engine] = field(default_factory=dict, repr=False)

    def refresh_content(self) -> None:
        """Read the content again if an admin has published an edit since it was read.

        Asks Redis at most every CONTENT_CHECK_SECONDS, so a message's two round trips stay two.
        """
        now = time.monotonic()
        if now - self.content_checked < int(self.config.get("CONTENT_CHECK_SECONDS", 10)):
            return
        self.content_checked = now
        try:
            generation = self.store.content_generation()
        except redis.RedisError:
            return  # the request itself will find Redis down and say so; the content can wait
        if generation == self.content_generation:
            return
        self.content_generation = generation
        try:
            folder, review = self.config["CONTENT_DIR"], require_review(self.config)
            self.catalog = _catalog(folder, helpline(self.config), review, generation)
        except content.ContentError as e:
            # The dashboard checks before it publishes, so the folder here differs from the one it checked.
            log.error("published content has %d problem(s) in this process's CONTENT_DIR; keeping the content "
                      "already loaded", len(e.problems))  # fmt: skip
        else:
            self.audio.forget()
            log.info("content generation %d loaded", generation)

    def publish_content(self) -> None:
        """Check the content folder and, if it is sound, make every process read it (raises ContentError)."""
        config, review = self.config, require_review(self.config)
        catalog = content.load(config["CONTENT_DIR"], helpline_override=helpline(config), require_review=review)
        self.content_generation = self.store.publish_content()
        self.catalog = catalog
        self.audio.forget()

    def sms_engine(self) -> Engine:
        """The menu engine as SMS shows it, on the content read last."""
        return self._engine("sms", self.sms)

    def _engine(self, channel: str, renderer: Renderer) -> Engine:
        """A channel's engine, built once per content read rather than on every message."""
        engine = self._engines.get(channel)
        stale = engine is None or not (engine.catalog is self.catalog and engine.renderer is renderer
                                       and engine.context is self.context)  # fmt: skip
        if stale:
            engine = self._engines[channel] = Engine(self.catalog, renderer, self.context)
        return engine

    @cached_property
    def audio(self) -> Library:
        """Which recording plays each clip: listed once, again on publish or every AUDIO_RESCAN_SECONDS."""
        return Library(self.config["CONTENT_DIR"], rescan=int(self.config.get("AUDIO_RESCAN_SECONDS", 60)))

    def voice_engine(self) -> VoiceEngine:
        """The voice line's engine, built once per content read and recordings listing.

        Its prompts (messages/<lang>/audio/prompts.yaml) are read with the recordings: on publish, or
        when the listing is renewed.
        """
        catalog, generation = self.catalog, self.audio.expire()
        built = self._voice
        if built is None or built[0] is not catalog or built[1] != generation:
            prompts = audio.prompts(self.config["CONTENT_DIR"], tuple(catalog.languages))  # the language menu's order
            engine = VoiceEngine(catalog, VoiceRenderer(prompts=prompts), self.context)
            built = self._voice = (catalog, generation, engine)
        return built[2]

    def ussd_engine(self) -> Engine:
        return self._engine("ussd", self.ussd)

    def whatsapp_engine(self) -> Engine:
        return self._engine("whatsapp", self.whatsapp)

    @cached_property
    def provider(self) -> providers.Provider:
        return providers.from_config(self.config)

    @cached_property
    def caller(self) -> voice_providers.Caller:
        """Who places tip calls (bot/calls.py)."""
        return voice_providers.from_config(self.config)

    @cached_property
    def whatsapp_provider(self) -> providers.Provider:
        """Twilio sends WhatsApp whatever gateway sends SMS; the local providers record or print it."""
        if self.provider.name in ("africastalking",):
            from bot.providers.twilio import TwilioProvider

            return TwilioProvider(self.config)
        return self.provider

    def queue(self, name: str) -> Queue:
        """An RQ queue: "replies" (one-off, first) or "bulk" (broadcasts)."""
        return Queue(self.store.keys.rq_queue(name), connection=self.store.redis)

    def text(self, key: str, lang: str = "") -> str:
        """A system text with the program's name filled in (for replies outside the menu)."""
        return Wording(self.catalog.language(lang or self.context.default_lang), self.context)(key)


def build(config: Mapping, client: redis.Redis | None = None) -> Services:
    """Everything a request, job or command needs, built once per process."""
    store = Store(client or connection.connect(config), config)
    try:
        generation = store.content_generation()
    except redis.RedisError:
        generation = 0  # the first check once Redis is back reads the published content
    smart = config["SMART_ENCODING"]
    transliterate = frozenset(settings.codes(config["TRANSLITERATE_LANGUAGES"]))
    return Services(
        config=config,
        store=store,
        catalog=_catalog(config["CONTENT_DIR"], helpline(config), require_review(config), generation),
        content_generation=generation,
        sms=SmsRenderer(
            budget=config["SMS_SEGMENTS_PER_PART"],
            max_parts=config["SMS_MAX_PARTS"],
            smart=smart,
            transliterate=transliterate,
        ),
        # The CON/END prefix counts toward a screen.
        ussd=UssdRenderer(
            screen=int(config["USSD_MAX_CHARS"]) - 4,
            screen_ucs2=int(config["USSD_MAX_CHARS_UCS2"]) - 4,
            smart=smart,
            transliterate=transliterate,
        ),
        context=Context(
            program=config["PROGRAM_NAME"],
            contact=config["SUPPORT_CONTACT"],
            default_lang=config["DEFAULT_LANGUAGE"],
            country_languages=tuple(settings.pairs(config["COUNTRY_LANGUAGES"])),
            drip_days=config["DRIP_INTERVAL_DAYS"],
            malaria_countries=frozenset(c.upper() for c in settings.codes(config["MALARIA_COUNTRIES"])),
            voice_calls=bool(config["VOICE_ENABLED"]),
            helpdesk=bool(config.get("HELPDESK")),
        ),
    )


def helpline(config: Mapping) -> content.Helpline:
    """The deployment's overrides of the helplines in messages/helplines.yaml (empty: use the file)."""
    return content.Helpline(config["CHILD_HELPLINE"], config["EMERGENCY_NUMBER"])


def require_review(config: Mapping) -> bool:
    """CONTENT_REQUIRE_REVIEW holds in production; development shows every translation as written."""
    return bool(config.get("CONTENT_REQUIRE_REVIEW")) and not settings.is_development(config)


@lru_cache(maxsize=8)
def _catalog(folder: str, overrides: content.Helpline, review: bool, generation: int) -> Catalog:
    """Content is read once per process and published generation (see Services.publish_content)."""
    return content.load(folder, helpline_override=overrides, require_review=review)


def init_app(app: Flask) -> None:
    app.extensions["factsbot"] = build(app.config)


def get() -> Services:
    svc = current_app.extensions["factsbot"]
    svc.refresh_content()
    return svc
