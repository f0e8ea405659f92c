"""Who may do what: roles, the login check every dashboard route gets, and the answers when refused."""

from __future__ import annotations

import functools
from enum import Enum

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

csrf = CSRFProtect()

# Dashboard pages hold people's messages: never cached, never framed, no script but our own.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Role(str, Enum):
    VIEWER = "viewer"  # reads logs and figures
    OPERATOR = "operator"  # also creates and controls broadcasts, manages field workers, uses the simulator
    ADMIN = "admin"  # also manages users, reveals full numbers, reloads content

    def allows(self, needed: Role) -> bool:
        return _RANK[self] >= _RANK[needed]


_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def wants_json() -> bool:
    """JSON endpoints live under /dashboard/api/: they answer errors in JSON, never a redirect."""
    return request.path.startswith("/dashboard/api/")


def requires(role: Role):
    """A view only users of `role` or above may use (everyone else: 403)."""

    def wrap(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.role.allows(role):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return wrap


def public(view):
    """A view an anonymous visitor may open (the login page)."""
    view.public = True
    return view


def protect(bp: Blueprint) -> Blueprint:
    """Every route of `bp` needs a login (unless @public), CSRF on writes, and the security headers."""

    @bp.before_request
    def check():
        view = current_app.view_functions.get(request.endpoint)
        if not getattr(view, "public", False) and not current_user.is_authenticated:
            return refuse_anonymous()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        return None

    @bp.after_request
    def headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @bp.errorhandler(403)
    def forbidden(_):
        if wants_json():
            return jsonify(error="your role does not allow this"), 403
        return render_template("dashboard/error.html", title="Not allowed",
                               message="Your role does not allow this. Ask an administrator."), 403  # fmt: skip

    @bp.errorhandler(CSRFError)
    def bad_token(e):
        if wants_json():
            return jsonify(error=e.description), 400
        return render_template("dashboard/error.html", title="Form expired",
                               message="The form was too old or not sent from this site: go back, reload "
                                       "the page and try again."), 400  # fmt: skip

    return bp


def refuse_anonymous():
    if wants_json():
        return jsonify(error="login required"), 401
    return redirect(url_for("dashboard_auth.login", next=request.full_path.rstrip("?")))
