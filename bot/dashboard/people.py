"""People: subscribers per topic, group and language; one person's conversation; revealing a number."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bot import phones, services, upcoming
from bot.dashboard.access import Role, protect, requires
from bot.dashboard.forms import FindPersonForm
from bot.dashboard.logfilter import id_key, older_than, stream_id
from bot.dashboard.privacy import ref_for
from bot.store import Audiences, Audit, LogQuery, PersonRefs

bp = protect(Blueprint("dashboard_people", __name__, url_prefix="/dashboard"))

COUNTS_TTL = 300
"""Seconds the counts are kept: they scan every subscription and profile, so not on every view."""
SCAN_BUDGET = 500_000
"""Subscriptions or profiles read at most for one count; beyond, the page says the count is partial."""
THREAD_SIZE = 50
UPCOMING_DAYS = 120
UPCOMING_SHOWN = 40


def per_topic(members: list[tuple[str, str]]) -> dict[str, int]:
    """Subscriptions (phone, topic) -> subscriptions per topic, biggest first."""
    counts = Counter(topic for _, topic in members)
    return dict(counts.most_common())


def counts(audiences: Audiences) -> dict:
    cached = audiences.cached("audiences")
    if cached:
        return cached
    members, all_members = audiences.subscriptions(SCAN_BUDGET)
    languages, all_profiles = audiences.languages(SCAN_BUDGET)
    found = {"topics": per_topic(members), "languages": dict(sorted(languages.items(), key=lambda kv: -kv[1])),
             "subscribers": len({phone for phone, _ in members}), "people": sum(languages.values()),
             "complete": all_members and all_profiles}  # fmt: skip
    audiences.cache("audiences", found, COUNTS_TTL)
    return found


@bp.get("/people")
def index():
    svc = services.get()
    audiences = Audiences(svc.store)
    labels = {t.id: t.label for t in svc.catalog.language("en").topics}
    return render_template("dashboard/people.html", counts=counts(audiences), groups=audiences.groups(),
                           opted_out=audiences.opted_out(), labels=labels, form=FindPersonForm())  # fmt: skip


@bp.post("/people/find")
def find():
    """A number typed by the operator (POSTed, so it stays out of URLs and server logs)."""
    form = FindPersonForm()
    number = phones.normalise(form.number.data or "", services.get().config["DEFAULT_REGION"])
    if not form.validate_on_submit() or number is None:
        flash("That is not a phone number: type it with its country code, e.g. +254712345678.", "error")
        return redirect(url_for(".index"))
    ref = ref_for(current_app.secret_key, number)
    PersonRefs(services.get().store).remember({ref: number})
    return redirect(url_for(".person", ref=ref))


def _thread(ref: str, revealed: bool):
    svc = services.get()
    phone = PersonRefs(svc.store).phone(ref)
    if phone is None:
        abort(404)
    before = stream_id(request.values.get("before", ""))
    query = LogQuery(svc.store)
    before_ms = str(id_key(before)[0]) if before else "+inf"
    rows = older_than(query.person(phone, THREAD_SIZE + 1, before_ms), before)
    rows = rows[:THREAD_SIZE]
    profile = svc.store.profile_fields(phone)
    return render_template("dashboard/conversation.html", ref=ref, phone=phone, revealed=revealed, rows=rows,
                           profile=profile, total=query.person_length(phone), before=before,
                           older=rows[-1][0] if len(rows) == THREAD_SIZE else "",
                           coming=coming(svc, phone), coming_days=UPCOMING_DAYS)  # fmt: skip


def coming(svc, phone: str) -> list[dict]:
    """The person's timed messages for the next UPCOMING_DAYS, as `factsbot schedule preview` lists them;
    texts only for operators and admins (a viewer reads figures, not what a family is told)."""
    until = datetime.now(timezone.utc).date() + timedelta(days=UPCOMING_DAYS)
    items = upcoming.preview(svc, phone, until)[:UPCOMING_SHOWN]
    if not current_user.role.allows(Role.OPERATOR):
        items = [{**i, "text": ""} for i in items]
    return items


@bp.get("/people/<ref>")
def person(ref: str):
    return _thread(ref, revealed=False)


@bp.post("/people/<ref>/reveal")
@requires(Role.ADMIN)
def reveal(ref: str):
    phone = PersonRefs(services.get().store).phone(ref)
    if phone is None:
        abort(404)
    Audit(services.get().store).add(current_user.email, "reveal_number", number=phones.mask(phone), ref=ref)
    return _thread(ref, revealed=True)
