"""The inbox: families' questions, answered by operators on the person's channel; canned answers.

Only operators and admins see what people asked (a question can say more about someone than
anything else we keep); viewers see how many are open and the figures. Every answer is
audited, sent through the queue like any message we start (bot/reach.py: WhatsApp inside
its 24-hour window, SMS otherwise) and logged with the kind `answer`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from bot import jobs, phones, reach, segments, services, whatsapp
from bot.dashboard.access import Role, protect, requires
from bot.store import Audit
from bot.store.questions import Asker, Questions

bp = protect(Blueprint("dashboard_inbox", __name__, url_prefix="/dashboard"))
SHOWN = 50  # open questions on the page
HISTORY = 8  # entries of each asker's recent conversation
ANSWER_MAX = 1600  # Twilio's ceiling for one message on any channel
CANNED_NAME_MAX = 60


def _questions() -> Questions:
    svc = services.get()
    return Questions(svc.store, svc.config["QUESTION_RETENTION_DAYS"])


def channel_for(phone: str, profile: dict[str, str]) -> str:
    """The channel an answer goes on right now: WhatsApp inside the window, SMS otherwise."""
    route, _ = reach.route_for(services.get(), profile, "answer", time.time())
    return whatsapp.WHATSAPP if route is whatsapp.Route.TEXT else whatsapp.SMS


def page_items(shown: list[dict], askers: Mapping[str, Asker]) -> list[dict]:
    """Each open question as the page shows it: the asker's language, the answer's channel, their conversation."""
    catalog, items = services.get().catalog, []
    for q in shown:
        asker = askers[q["phone"]]
        lang = catalog.language(q.get("lang") or asker.profile.get("lang"))
        items.append({**q, "language": lang.name, "answer_channel": channel_for(q["phone"], asker.profile),
                      "history": asker.history})  # fmt: skip
    return items


@bp.get("/inbox")
def index():
    questions = _questions()
    figures = questions.figures()
    if not current_user.role.allows(Role.OPERATOR):
        return render_template("dashboard/inbox.html", figures=figures, items=None, canned={})
    svc = services.get()
    shown = questions.open(SHOWN)
    items = page_items(shown, questions.askers((q["phone"] for q in shown), HISTORY))
    messages = [(f"{t.id}/{m.id}", f"{t.label} {n}: {m.short}") for t in svc.catalog.language("en").topics
                for n, m in enumerate(t.messages, 1)]  # fmt: skip
    return render_template("dashboard/inbox.html", figures=figures, items=items, canned=questions.canned(),
                           key_messages=messages)  # fmt: skip


def _key_message_text(choice: str, lang_code: str) -> str:
    """A key message (short and detail) in the asker's language, chosen as "topic/message"."""
    topic_id, _, message_id = choice.partition("/")
    lang = services.get().catalog.language(lang_code)
    topic = next((t for t in lang.topics if t.id == topic_id), None)
    message = topic.message(message_id) if topic else None
    return f"{message.short}\n{message.detail}" if message else ""


@bp.post("/inbox/<question_id>/answer")
@requires(Role.OPERATOR)
def answer(question_id: str):
    svc = services.get()
    questions = _questions()
    question = questions.get(question_id)
    if question is None or question.get("status") != "open":
        flash("That question is gone or was answered already.", "error")
        return redirect(url_for(".index"))
    text = (request.form.get("text") or "").strip()
    if not text and request.form.get("key_message"):
        text = _key_message_text(request.form["key_message"], question.get("lang", ""))
    if not text or len(text) > ANSWER_MAX:
        flash(f"Write an answer (at most {ANSWER_MAX} characters) or pick a key message.", "error")
        return redirect(url_for(".index") + f"#q-{question_id}")
    channel = channel_for(question["phone"], svc.store.profile_fields(question["phone"]))
    if questions.close(question_id, answer=text, by=current_user.email, channel=channel) is None:
        flash("Another operator answered it first.", "error")
        return redirect(url_for(".index"))
    jobs.enqueue_text(svc, question["phone"], text, "answer")
    urgent = "yes" if question.get("urgent") else ""
    Audit(svc.store).add(current_user.email, "question_answered", question=question_id, channel=channel,
                         number=phones.mask(question["phone"]), urgent=urgent)  # fmt: skip
    flash(f"Answer queued by {'WhatsApp' if channel == whatsapp.WHATSAPP else 'SMS'}; the question is closed.", "ok")
    return redirect(url_for(".index"))


@bp.post("/api/inbox/count")
@requires(Role.OPERATOR)
def count():
    """An answer's length as the person's channel counts it: characters on WhatsApp, segments by SMS."""
    data = request.get_json(silent=True) or {}
    text = str(data.get("text", ""))[:ANSWER_MAX]
    if data.get("channel") == whatsapp.WHATSAPP:
        return jsonify(channel="whatsapp", characters=len(text), limit=ANSWER_MAX)
    return jsonify(channel="sms", characters=len(text), limit=ANSWER_MAX,
                   **segments.count(segments.smart_encode(text)).as_dict())  # fmt: skip


@bp.post("/inbox/canned")
@requires(Role.ADMIN)
def save_canned():
    name = (request.form.get("name") or "").strip()[:CANNED_NAME_MAX]
    text = (request.form.get("text") or "").strip()
    questions, store = _questions(), services.get().store
    if request.form.get("delete"):
        if questions.delete_canned(name):
            Audit(store).add(current_user.email, "canned_answer_deleted", name=name)
        return redirect(url_for(".index"))
    if not name or not text or len(text) > ANSWER_MAX:
        flash(f"A canned answer needs a name and a text of at most {ANSWER_MAX} characters.", "error")
        return redirect(url_for(".index"))
    questions.save_canned(name, text)
    Audit(store).add(current_user.email, "canned_answer_saved", name=name)
    flash(f"Saved the canned answer {name!r}.", "ok")
    return redirect(url_for(".index"))
