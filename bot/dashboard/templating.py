"""What templates may call: masks, times, links to people, the navigation for the user's role."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask, current_app, g, url_for
from flask_login import current_user

from bot import phones, services
from bot.dashboard.access import Role
from bot.dashboard.privacy import ref_for
from bot.store import PersonRefs

NAV = (  # (endpoint, label, role needed)
    ("dashboard_overview.index", "Overview", Role.VIEWER),
    ("dashboard_messages.index", "Messages", Role.VIEWER),
    ("dashboard_people.index", "Subscribers", Role.VIEWER),
    ("dashboard_broadcasts.index", "Broadcasts", Role.VIEWER),
    ("dashboard_fieldworkers.index", "Field workers", Role.VIEWER),
    ("dashboard_content.index", "Content", Role.VIEWER),
    ("dashboard_inbox.index", "Inbox", Role.VIEWER),
    ("dashboard_simulator.index", "Simulator", Role.OPERATOR),
    ("dashboard_queues.index", "Queues", Role.VIEWER),
    ("dashboard_users.index", "Users", Role.ADMIN),
    ("dashboard_audit.index", "Audit", Role.ADMIN),
)


def when(value: str) -> str:
    """A stream id ("1700000000000-0") or a Unix time ("1700000000.5") as UTC text."""
    if not value:
        return ""
    try:
        seconds = int(value.split("-")[0]) / 1000 if "-" in value else float(value)
    except ValueError:
        return value
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def person_ref(phone: str) -> str:
    """The reference for a number, remembered (at the end of the request) so its link resolves."""
    ref = ref_for(current_app.secret_key, phone)
    g.setdefault("person_refs", {})[ref] = phone
    return ref


def person_url(phone: str) -> str:
    return url_for("dashboard_people.person", ref=person_ref(phone))


def nav() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    return [(endpoint, label) for endpoint, label, role in NAV if current_user.role.allows(role)]


def remember_refs(response):
    refs = g.pop("person_refs", None)
    if refs:
        PersonRefs(services.get().store).remember(refs)
    return response


def init_app(app: Flask) -> None:
    app.add_template_filter(phones.mask, "mask")
    app.add_template_filter(when, "when")
    app.add_template_global(person_url)
    app.add_template_global(person_ref)
    app.add_template_global(nav)
    app.add_template_global(Role)
    app.after_request(remember_refs)
