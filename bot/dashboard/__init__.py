"""The operator dashboard under /dashboard: one blueprint per page group, all behind a login."""

from __future__ import annotations

import logging
import secrets

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from bot import settings
from bot.dashboard import (
    access,
    audit,
    auth,
    broadcasts,
    content,
    fieldworkers,
    inbox,
    messages,
    overview,
    people,
    queues,
    simulator,
    templating,
    testcall,
    users,
)

log = logging.getLogger(__name__)

BLUEPRINTS = (auth, overview, messages, people, broadcasts, fieldworkers, inbox, simulator, queues, content, users,
              audit, testcall)  # fmt: skip


class DashboardSessions(SecureCookieSessionInterface):
    """Cookie sessions under /dashboard only: the gateways' webhooks need none and are never sent one."""

    def open_session(self, app, request):
        if not request.path.startswith("/dashboard"):
            return None  # Flask then uses a null session, which refuses to be written
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Register the dashboard: sessions, login, CSRF, template helpers, blueprints."""
    if not app.config.get("SECRET_KEY"):
        # Only development runs without a SECRET_KEY (production refuses to start): sessions
        # then last as long as this process.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        log.warning("SECRET_KEY unset: dashboard sessions end when this process stops")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = not settings.is_development(app.config)
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.session_interface = DashboardSessions()
    # Other blueprints (the gateways' webhooks) authenticate by signature, not CSRF tokens:
    # the dashboard checks CSRF itself, in access.protect.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    access.csrf.init_app(app)
    auth.init_app(app)
    templating.init_app(app)
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
