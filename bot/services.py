"""The composition root's products: what every request and command is handed."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import redis
from flask import Flask, current_app
from rq import Queue

from bot import content, conversation, fieldwork, menu, phones, providers, settings, ussd
from bot.content import Catalog
from bot.store import Store

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: Mapping
    store: Store
    catalog: Catalog
    limits: menu.Limits
    context: menu.Context

    def handle(self, inbound: conversation.Inbound) -> conversation.Reply:
        """Run one inbound SMS through the conversation (or a field worker's command)."""
        region = phones.country(inbound.phone) or self.config["DEFAULT_REGION"]

        def fieldwork_for(worker: dict, text: str, pending: dict | None, profile: menu.Profile):
            lang = self.catalog.language(profile.lang or self.context.default_lang)
            command = fieldwork.parse(text, lang, pending is not None, region)
            return fieldwork.decide(self, worker, command, pending, inbound.phone, lang) if command else None

        return conversation.handle(self.store, self.catalog, inbound, limits=self.limits, context=self.context,
                                   fieldwork=fieldwork_for)  # fmt: skip

    @cached_property
    def ussd_limits(self) -> menu.Limits:
        return replace(self.limits, **ussd.limits_for(self.config))

    @cached_property
    def provider(self) -> providers.Provider:
        return providers.from_config(self.config)

    def queue(self, name: str) -> Queue:
        """An RQ queue: "replies" (one-off, first) or "bulk" (broadcasts)."""
        return Queue(queue_name(self.config, name), connection=self.store.redis)

    def record_status(self, provider_id: str, status: str, reason: str = "") -> None:
        """A delivery report from any gateway; a broadcast's figures follow its messages."""
        change = self.store.record_status(provider_id, status, reason=reason)
        if change.result == "updated" and change.broadcast:
            self.store.broadcast_moved(change.broadcast, change.before, status)

    def text(self, key: str, lang: str = "") -> str:
        """A system text with the program's name filled in (for replies outside the menu)."""
        language = self.catalog.language(lang or self.context.default_lang)
        return language.texts[key].format(program=self.context.program, contact=self.context.contact)


def queue_name(config: Mapping, name: str) -> str:
    return f"{config['REDIS_PREFIX']}{name}"


def job_id(config: Mapping, *parts: object) -> str:
    """A fixed RQ job id under this deployment's prefix (RQ allows letters, digits, - and _)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", "-".join([config["REDIS_PREFIX"], *map(str, parts)]))


def connect(url: str) -> redis.Redis:
    # Short timeouts: a webhook must answer Twilio within 15 s even when Redis is gone.
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)


def build(config: Mapping, client: redis.Redis | None = None) -> Services:
    """Everything a request, job or command needs, built once per process."""
    catalog = _catalog(config["CONTENT_DIR"], config["CHILD_HELPLINE"], config["EMERGENCY_NUMBER"])
    return Services(
        config=config,
        store=Store(client or connect(config["REDIS_URL"]), config),
        catalog=catalog,
        limits=menu.Limits(
            budget=config["SMS_SEGMENTS_PER_PART"],
            max_parts=config["SMS_MAX_PARTS"],
            smart=config["SMART_ENCODING"],
            transliterate=frozenset(settings.codes(config["TRANSLITERATE_LANGUAGES"])),
        ),
        context=menu.Context(
            program=config["PROGRAM_NAME"],
            contact=config["SUPPORT_CONTACT"],
            default_lang=config["DEFAULT_LANGUAGE"],
            country_languages=tuple(settings.pairs(config["COUNTRY_LANGUAGES"])),
            drip_days=config["DRIP_INTERVAL_DAYS"],
        ),
    )


@lru_cache(maxsize=8)
def _catalog(folder: str, child_helpline: str, emergency: str) -> Catalog:
    """Content is read once per process: restart (or redeploy) to publish an edit."""
    return content.load(folder, helpline_override=content.Helpline(child_helpline, emergency))


def init_app(app: Flask) -> None:
    app.extensions["factsbot"] = build(app.config)


def get() -> Services:
    return current_app.extensions["factsbot"]
