"""The application factory: reads like a table of contents of the service."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import dashboard, health, persistence, services, settings
from bot.channels import africastalking, twilio, voice

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    pass


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app from the environment, with `config` overriding any setting by name."""
    app = Flask(__name__)
    app.config.from_mapping(settings.from_env())
    if config:
        app.config.update(config)
    found = settings.problems(app.config)
    if found:
        raise ConfigurationError("factsbot cannot start: " + "; ".join(found))
    if settings.is_development(app.config) and not app.config["TWILIO_AUTH_TOKEN"]:
        log.warning("DEVELOPMENT MODE: Twilio signatures are NOT checked. Never expose this server.")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # Twilio's largest inbound form is far smaller

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)

    services.init_app(app)
    if not settings.is_development(app.config):
        svc = app.extensions["factsbot"]
        try:
            svc.persistence = persistence.check(svc.store.redis, app.config)
        except persistence.VolatileRedis as e:
            raise ConfigurationError(str(e)) from None
    app.register_blueprint(health.bp)
    app.register_blueprint(twilio.bp)
    app.register_blueprint(africastalking.bp)
    app.register_blueprint(voice.bp)  # /voice/... and /audio/... (404 unless VOICE_ENABLED)
    dashboard.init_app(app)
    return app
