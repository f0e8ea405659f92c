"""The audit log (admins only): who logged in, sent, revealed or changed what, newest first."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from bot import services
from bot.dashboard.access import Role, protect, requires
from bot.dashboard.logfilter import stream_id
from bot.store import Audit

bp = protect(Blueprint("dashboard_audit", __name__, url_prefix="/dashboard"))
PAGE_SIZE = 100


@bp.get("/audit")
@requires(Role.ADMIN)
def index():
    before = stream_id(request.args.get("before", ""))
    rows = Audit(services.get().store).recent(PAGE_SIZE, before)
    older = rows[-1][0] if len(rows) == PAGE_SIZE else ""
    return render_template("dashboard/audit.html", rows=rows, older=older, before=before)
