"""Broadcasts: the list with live progress, the create form with preview and confirmation, controls."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from bot import broadcasts, services, stages
from bot.dashboard.access import Role, protect, requires
from bot.dashboard.forms import BroadcastForm
from bot.dashboard.preview import FINAL, percent, preview
from bot.schedule import Series
from bot.store import Audiences, Audit, Broadcasts

bp = protect(Blueprint("dashboard_broadcasts", __name__, url_prefix="/dashboard"))
ACTIONS = {"pause": broadcasts.pause, "resume": broadcasts.resume, "cancel": broadcasts.cancel}


def progress_of(info: dict[str, str]) -> dict:
    f = broadcasts.figures(info)
    return {"id": info["id"], "status": info.get("status", ""), "figures": f,
            "percent": percent(f, info.get("status", "")), "final": info.get("status") in FINAL,
            "waiting": bool(broadcasts.waiting_until(info))}  # fmt: skip


@bp.get("/broadcasts")
def index():
    rows = [(info, progress_of(info)) for info in Broadcasts(services.get().store).recent(50)]
    return render_template("dashboard/broadcasts.html", rows=rows)


@bp.get("/api/broadcasts/<broadcast_id>")
def progress(broadcast_id: str):
    info = Broadcasts(services.get().store).get(broadcast_id)
    if not info:
        return jsonify(error="no such broadcast"), 404
    return jsonify(progress_of(info))


def _form() -> BroadcastForm:
    """The form, its choices (plain values) from the English topics and the groups that exist."""
    svc = services.get()
    topics = svc.catalog.language("en").topics
    form = BroadcastForm()
    form.topic.choices = [t.id for t in topics]
    form.number.choices = [str(n) for n in range(1, max(len(t.messages) for t in topics) + 1)]
    form.groups.choices = list(Audiences(svc.store).groups())
    return form


def _form_page(form: BroadcastForm, status: int = 200):
    svc = services.get()
    topics = [(t.id, t.label) for t in svc.catalog.language("en").topics]
    return render_template("dashboard/broadcast_new.html", form=form, topics=topics, messages=_messages(),
                           sizes=Audiences(svc.store).groups()), status  # fmt: skip


def _stage(kind: str, text: str) -> stages.Target | None | str:
    """The stage a broadcast targets: None for whole groups, a Target, or why the range cannot be read."""
    if not kind:
        return None
    series = Series.BABY if kind == "baby" else Series.PREGNANCY
    found = stages.parse_target(text, series)
    what = "age in months" if series is Series.BABY else "weeks of pregnancy"
    return found or f"Give the {what} as a range like 8-10 (0 to {stages.HIGHEST[series]})."


def _chosen(form: BroadcastForm) -> dict | None:
    """The preview of a valid form, or None (with the reason flashed)."""
    svc = services.get()
    topic = svc.catalog.language("en").topic(form.topic.data)
    number = int(form.number.data)
    if not 1 <= number <= len(topic.messages):
        form.number.errors = [f"{topic.label} has key messages 1 to {len(topic.messages)}"]
        return None
    stage = _stage(form.stage.data, form.stage_range.data)
    if isinstance(stage, str):
        form.stage_range.errors = [stage]
        return None
    plan = preview(svc.catalog, topic.id, number, broadcasts.audience_size(svc, form.groups.data, stage))
    return {**plan, "stage": stage}


@bp.route("/broadcasts/new", methods=["GET", "POST"])
@requires(Role.OPERATOR)
def new():
    svc = services.get()
    form = _form()
    if not form.validate_on_submit():
        return _form_page(form, 400 if request.method == "POST" else 200)
    plan = _chosen(form)
    if plan is None:
        return _form_page(form, 400)
    at = form.at.data.replace(tzinfo=timezone.utc) if form.at.data else None
    if at and at < datetime.now(timezone.utc) - timedelta(minutes=1):
        form.at.errors = ["That time has passed: leave it empty to send now."]
        return _form_page(form, 400)
    if not form.confirmed.data:  # the confirmation step: show exactly what will go out
        return render_template("dashboard/broadcast_confirm.html", form=form, plan=plan, at=at,
                               topic=svc.catalog.language("en").topic(form.topic.data))  # fmt: skip
    try:
        bid = broadcasts.create(svc, topic_id=form.topic.data, number=int(form.number.data),
                                groups=list(form.groups.data), created_by=f"dashboard:{current_user.email}",
                                at=at, stage=plan["stage"])  # fmt: skip
    except broadcasts.BroadcastError as e:
        flash(str(e), "error")
        return _form_page(form, 400)
    Audit(svc.store).add(current_user.email, "broadcast_created", broadcast=bid, topic=form.topic.data,
                         message=form.number.data, groups=",".join(form.groups.data), audience=plan["audience"],
                         at=at.isoformat() if at else "",
                         stage=plan["stage"].stored if plan["stage"] else "")  # fmt: skip
    flash(f"Broadcast {bid} created.", "ok")
    return redirect(url_for(".index"))


@bp.get("/api/broadcasts/preview")
@requires(Role.OPERATOR)
def preview_json():
    svc = services.get()
    try:
        topic = svc.catalog.language("en").topic(request.args.get("topic", ""))
        number = int(request.args.get("number", "1"))
    except (StopIteration, ValueError):
        return jsonify(error="choose a topic and a key message"), 400
    if not 1 <= number <= len(topic.messages):
        return jsonify(error=f"{topic.label} has key messages 1 to {len(topic.messages)}"), 400
    groups = [g for g in request.args.getlist("group") if g]
    stage = _stage(request.args.get("stage", ""), request.args.get("range", ""))
    if isinstance(stage, str):
        return jsonify(error=stage), 400
    return jsonify(preview(svc.catalog, topic.id, number, broadcasts.audience_size(svc, groups, stage)))


@bp.post("/broadcasts/<broadcast_id>/<action>")
@requires(Role.OPERATOR)
def control(broadcast_id: str, action: str):
    if action not in ACTIONS:
        abort(404)
    svc = services.get()
    if not Broadcasts(svc.store).get(broadcast_id):
        abort(404)
    if ACTIONS[action](svc, broadcast_id):
        Audit(svc.store).add(current_user.email, f"broadcast_{action}", broadcast=broadcast_id)
        flash(f"Broadcast {broadcast_id}: {action} done.", "ok")
    else:
        status = Broadcasts(svc.store).get(broadcast_id).get("status", "")
        flash(f"Cannot {action} broadcast {broadcast_id}: it is {status}.", "error")
    return redirect(url_for(".index"))


def _messages() -> list[dict]:
    """Every topic's key messages, for the pickers (a plain list the page's script filters)."""
    return [{"topic": t.id, "number": n, "text": m.short}
            for t in services.get().catalog.language("en").topics for n, m in enumerate(t.messages, 1)]  # fmt: skip
