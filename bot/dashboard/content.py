"""Content as families see it: topics and key messages per language, with cost badges and problems."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bot import content, segments, services, settings
from bot.dashboard.access import Role, protect, requires
from bot.store import Audit

bp = protect(Blueprint("dashboard_content", __name__, url_prefix="/dashboard"))


def badges(lang: content.Language) -> dict[str, segments.Count]:
    """Each key message's cost as sent (smart-encoded), by message id."""
    return {m.id: segments.count(segments.smart_encode(m.short)) for t in lang.topics for m in t.messages}


def problems(folder: str) -> list[content.Problem]:
    """The content check's findings; rerun only when a file in the folder changed (it takes ~0.3 s)."""
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    stamp = max((p.stat().st_mtime_ns for p in files), default=0), len(files)
    return _check(folder, stamp)


@lru_cache(maxsize=4)
def _check(folder: str, stamp: tuple[int, int]) -> list[content.Problem]:
    return content.check(folder)[1]


@bp.get("/content")
def index():
    svc = services.get()
    catalog = svc.catalog
    code = request.args.get("lang", "en")
    lang = catalog.languages.get(code) or catalog.language("en")
    countries = [country for country, _ in settings.pairs(svc.config["COUNTRY_LANGUAGES"])]
    progress = {code: one.review_progress() for code, one in catalog.languages.items()}  # (signed off, total)
    return render_template("dashboard/content.html", catalog=catalog, lang=lang, badges=badges(lang),
                           problems=problems(svc.config["CONTENT_DIR"]), warnings=content.warnings(catalog, countries),
                           progress=progress)  # fmt: skip


@bp.post("/content/reload")
@requires(Role.ADMIN)
def reload():
    """Check the content folder and publish it to every web process and worker."""
    svc = services.get()
    try:
        svc.publish_content()
    except content.ContentError as e:
        flash(f"Not reloaded: {len(e.problems)} problem(s) in the content. The previous content stays.", "error")
        return redirect(url_for(".index"))
    Audit(svc.store).add(current_user.email, "content_reloaded")
    seconds = svc.config["CONTENT_CHECK_SECONDS"]
    flash(f"Content reloaded. Every web process and worker reads it within {seconds} seconds.", "ok")
    return redirect(url_for(".index"))
