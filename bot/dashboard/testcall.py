"""The simulator's test call: the tip call a family would get, played in the browser, never placed."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from bot import audio, calls, services
from bot.dashboard.access import Role, protect, requires
from bot.dashboard.privacy import test_number

bp = protect(Blueprint("dashboard_testcall", __name__, url_prefix="/dashboard"))


@bp.route("/simulator/call", methods=["GET", "POST"])
@requires(Role.OPERATOR)
def index():
    """Pick a key message and language; the page shows each clip's words with its recording, if any."""
    svc = services.get()
    lang = svc.catalog.language(request.values.get("lang", "en"))
    message_id = request.values.get("message", "")
    found = lang.message(message_id) if message_id else None
    if request.method == "POST" and found is None:
        abort(400)
    clips = []
    if found is not None:
        topic, message = found
        phone = test_number(current_app.secret_key, current_user.email)
        # Logged as the simulator's, like its messages: the call goes to no gateway.
        calls.place(svc, phone, topic.id, message.id, kind="test_call", profile={"lang": lang.code})
        folder = svc.config["CONTENT_DIR"]
        for clip in calls.tip_clips(svc, lang.code, topic.id, message.id) or ():
            clips.append((clip, audio.clip_url(folder, clip, "") if svc.config["VOICE_ENABLED"] else ""))
    return render_template("dashboard/testcall.html", languages=svc.catalog.languages.values(), lang=lang,
                           chosen=message_id, clips=clips, voice=svc.config["VOICE_ENABLED"])  # fmt: skip
