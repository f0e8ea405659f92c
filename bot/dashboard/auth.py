"""Logging in and out: flask-login over accounts in Redis, with failed attempts rate-limited."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from bot import services
from bot.dashboard import accounts
from bot.dashboard.access import Role, protect, public, refuse_anonymous
from bot.dashboard.forms import LoginForm
from bot.store import Audit, LoginFailures, Users

bp = protect(Blueprint("dashboard_auth", __name__, url_prefix="/dashboard"))
login_manager = LoginManager()

WINDOW_SECONDS = 15 * 60
"""Failed logins are counted over this window, which starts at the first failure."""
MAX_PER_EMAIL = 5
"""Failed logins allowed per email per window: enough for typos, too few for guessing."""
MAX_PER_ADDRESS = 20
"""Failed logins allowed per client address per window (a ministry office shares one address)."""


class User(UserMixin):
    def __init__(self, record: dict):
        self.email = record["email"]
        self.role = Role(record["role"])
        self.token = record["token"]

    def get_id(self) -> str:
        # The token changes with the password, which signs out every old session.
        return f"{self.email}|{self.token}"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    email, _, token = user_id.partition("|")
    record = Users(services.get().store).get(email)
    if record is None or record.get("token") != token:
        return None
    return User(record)


@login_manager.unauthorized_handler
def unauthorized():
    return refuse_anonymous()


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard_overview.index"))
    form = LoginForm()
    error = ""
    if form.validate_on_submit():
        store = services.get().store
        email = form.email.data.strip().lower()[:254]
        subjects = [("email", email), ("address", request.remote_addr or "?")]
        failures = LoginFailures(store)
        per_email, per_address = failures.counts(subjects)
        if per_email >= MAX_PER_EMAIL or per_address >= MAX_PER_ADDRESS:
            Audit(store).add(email, "login_blocked", address=request.remote_addr or "")
            return render_template("dashboard/login.html", form=form,
                                   error="Too many failed attempts. Wait 15 minutes and try again."), 429  # fmt: skip
        record = accounts.check(store, email, form.password.data)
        if record is None:
            failures.add(subjects, WINDOW_SECONDS)
            Audit(store).add(email, "login_failed", address=request.remote_addr or "")
            error = "Wrong email or password."
        else:
            failures.clear("email", email)
            login_user(User(record))
            Audit(store).add(record["email"], "login", address=request.remote_addr or "")
            return redirect(_safe_next(request.args.get("next", "")))
    status = 401 if error else 200
    return render_template("dashboard/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    Audit(services.get().store).add(current_user.email, "logout")
    logout_user()
    return redirect(url_for("dashboard_auth.login"))


def _safe_next(target: str) -> str:
    """Only back into the dashboard: never to another site (an open redirect)."""
    if target.startswith("/dashboard") and not target.startswith("/dashboard/login") and "\\" not in target:
        return target
    return url_for("dashboard_overview.index")


def init_app(app) -> None:
    login_manager.init_app(app)
