"""Dashboard users (admins only): add, change role, remove."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from bot import services
from bot.dashboard import accounts
from bot.dashboard.access import Role, protect, requires
from bot.dashboard.forms import RoleForm, UserForm
from bot.store import Audit, Users

bp = protect(Blueprint("dashboard_users", __name__, url_prefix="/dashboard"))


@bp.get("/users")
@requires(Role.ADMIN)
def index():
    return render_template("dashboard/users.html", users=Users(services.get().store).all(), form=UserForm(),
                           role_form=RoleForm())  # fmt: skip


@bp.post("/users")
@requires(Role.ADMIN)
def add():
    store = services.get().store
    form = UserForm()
    if not form.validate_on_submit():
        flash("Give an email, a role and a password.", "error")
        return redirect(url_for(".index"))
    try:
        user = accounts.create(store, form.email.data, form.role.data, form.password.data, by=current_user.email)
    except accounts.AccountError as e:
        flash(str(e), "error")
        return redirect(url_for(".index"))
    Audit(store).add(current_user.email, "user_saved", user=user["email"], role=user["role"])
    flash(f"Saved {user['email']} ({user['role']}).", "ok")
    return redirect(url_for(".index"))


@bp.post("/users/<email>/role")
@requires(Role.ADMIN)
def role(email: str):
    store = services.get().store
    form = RoleForm()
    if email == current_user.email:
        flash("You cannot change your own role: ask another admin.", "error")
    elif form.validate_on_submit():
        try:
            accounts.set_role(store, email, form.role.data)
        except accounts.AccountError as e:
            flash(str(e), "error")
        else:
            Audit(store).add(current_user.email, "user_role_changed", user=email, role=form.role.data)
            flash(f"{email} is now {form.role.data}.", "ok")
    return redirect(url_for(".index"))


@bp.post("/users/<email>/remove")
@requires(Role.ADMIN)
def remove(email: str):
    store = services.get().store
    if email == current_user.email:
        flash("You cannot remove yourself: ask another admin.", "error")
    elif Users(store).remove(email):
        Audit(store).add(current_user.email, "user_removed", user=email)
        flash(f"Removed {email}.", "ok")
    return redirect(url_for(".index"))
