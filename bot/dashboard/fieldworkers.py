"""Field workers: list, add, edit and remove them; their groups and the broadcasts they sent."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from bot import fieldwork, phones, services
from bot.dashboard.access import Role, protect, requires
from bot.dashboard.forms import FieldWorkerForm, NewFieldWorkerForm
from bot.store import Audiences, Audit, Broadcasts, FieldWorkers, PersonRefs

bp = protect(Blueprint("dashboard_fieldworkers", __name__, url_prefix="/dashboard"))
HISTORY_SCAN = 500
"""Recent broadcasts searched for a worker's history."""


def _groups(value: str) -> list[str]:
    try:
        return fieldwork.group_names(value)
    except ValueError as e:
        flash(f"Not saved: {e}.", "error")
        return []


@bp.get("/fieldworkers")
def index():
    store = services.get().store
    return render_template("dashboard/fieldworkers.html", workers=FieldWorkers(store).all(),
                           sizes=Audiences(store).groups(), form=NewFieldWorkerForm())  # fmt: skip


@bp.post("/fieldworkers")
@requires(Role.OPERATOR)
def add():
    svc = services.get()
    form = NewFieldWorkerForm()
    phone = phones.normalise(form.phone.data or "", svc.config["DEFAULT_REGION"])
    groups = _groups(form.groups.data or "")
    if not groups:
        return redirect(url_for(".index"))
    if not form.validate_on_submit() or phone is None:
        flash("A field worker needs a phone number with its country code and a name.", "error")
        return redirect(url_for(".index"))
    FieldWorkers(svc.store).add(phone, form.name.data.strip(), groups)
    Audit(svc.store).add(current_user.email, "fieldworker_added", number=phones.mask(phone),
                         name=form.name.data.strip(), groups=",".join(groups))  # fmt: skip
    flash(f"Added {form.name.data.strip()}.", "ok")
    return redirect(url_for(".index"))


def _worker(ref: str) -> dict:
    store = services.get().store
    phone = PersonRefs(store).phone(ref)
    worker = FieldWorkers(store).get(phone) if phone else None
    if worker is None:
        abort(404)
    return worker


@bp.get("/fieldworkers/<ref>")
def detail(ref: str):
    store = services.get().store
    worker = _worker(ref)
    history = [b for b in Broadcasts(store).recent(HISTORY_SCAN) if b.get("created_by") == worker["phone"]]
    form = FieldWorkerForm(name=worker["name"], groups=", ".join(worker["groups"]))
    return render_template("dashboard/fieldworker.html", worker=worker, ref=ref, history=history, form=form,
                           sizes=Audiences(store).groups())  # fmt: skip


@bp.post("/fieldworkers/<ref>")
@requires(Role.OPERATOR)
def edit(ref: str):
    store = services.get().store
    worker = _worker(ref)
    form = FieldWorkerForm()
    groups = _groups(form.groups.data or "")
    if not groups:
        return redirect(url_for(".detail", ref=ref))
    if not form.validate_on_submit():
        flash("A field worker needs a name.", "error")
        return redirect(url_for(".detail", ref=ref))
    FieldWorkers(store).add(worker["phone"], form.name.data.strip(), groups)
    Audit(store).add(current_user.email, "fieldworker_changed", number=phones.mask(worker["phone"]),
                     name=form.name.data.strip(), groups=",".join(groups))  # fmt: skip
    flash("Saved.", "ok")
    return redirect(url_for(".detail", ref=ref))


@bp.post("/fieldworkers/<ref>/remove")
@requires(Role.OPERATOR)
def remove(ref: str):
    store = services.get().store
    worker = _worker(ref)
    FieldWorkers(store).remove(worker["phone"])
    Audit(store).add(current_user.email, "fieldworker_removed", number=phones.mask(worker["phone"]),
                     name=worker["name"])  # fmt: skip
    flash(f"Removed {worker['name']}.", "ok")
    return redirect(url_for(".index"))
