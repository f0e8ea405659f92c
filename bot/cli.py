"""The `factsbot` command: run the service, chat with it, check content, count SMS."""

from __future__ import annotations

import json
import logging
import os
import sys

import click

from bot import segments, settings
from bot.cli_audio import audio_group
from bot.cli_backup import export_command, import_command
from bot.cli_content import content_group
from bot.cli_schedule import schedule_group
from bot.cli_shared import deployment_services as _services


@click.group()
def main() -> None:
    """factsbot: Facts for Life over SMS and USSD."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s")


# --- content ----------------------------------------------------------------------------

main.add_command(content_group)  # check, publish, and the review sheet: bot/cli_content.py
main.add_command(audio_group)  # the voice line's recordings: status, placeholders (bot/cli_audio.py)
main.add_command(export_command)  # backups: bot/cli_backup.py
main.add_command(import_command)
main.add_command(schedule_group)  # timed messages: tick (bot/cli_schedule.py)


# --- segments ---------------------------------------------------------------------------


@main.command("segments")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.argument("text")
def segments_command(text: str, as_json: bool) -> None:
    """Encoding, units and segments of TEXT, exactly as typed (no smart encoding)."""
    count = segments.count(text)
    smart = segments.count(segments.smart_encode(text))
    if as_json:
        click.echo(json.dumps({**count.as_dict(), "smart_encoded": smart.as_dict()}))
        return
    unit = "septets" if count.encoding == segments.GSM7 else "UTF-16 units"
    click.echo(f"encoding: {count.encoding}\nunits: {count.units} {unit}\nsegments: {count.segments}")
    outside = segments.non_gsm7(text)
    if outside:
        click.echo("not GSM-7: " + " ".join(repr(c) for c in outside))
    if smart != count:
        click.echo(f"with smart encoding: {smart.encoding}, {smart.units} units, {smart.segments} segments")


# --- running ----------------------------------------------------------------------------


@main.command("dev")
@click.option("--port", type=int, default=None, help="port (default: PORT, 5000)")
@click.option("--host", default="127.0.0.1", show_default=True)
def dev(port: int | None, host: str) -> None:
    """Run the service locally: development mode, embedded Valkey if REDIS_URL is unset."""
    import signal

    from bot import embedded
    from bot.app import create_app

    # Stopped with SIGTERM (a process manager, `kill`): exit normally, so the embedded
    # Valkey and the worker are stopped too instead of being left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    os.environ["FACTSBOT_ENV"] = "development"
    url = embedded.ensure_redis_url(share=True)
    app = create_app()
    port = port or app.config["PORT"]
    click.secho(
        "\n  factsbot DEVELOPMENT server\n"
        f"  Twilio webhook: http://{host}:{port}/sms/twilio\n"
        f"  Redis: {url}\n"
        + (
            "  Twilio signatures are NOT checked (TWILIO_AUTH_TOKEN unset).\n"
            if not app.config["TWILIO_AUTH_TOKEN"]
            else ""
        )
        + "  Try it in a terminal: factsbot chat\n",
        fg="yellow",
        err=True,
    )
    import subprocess

    # One worker beside the dev server, so "send me by SMS" and broadcasts happen (on the console).
    worker_process = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=os.environ.copy())
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False)
    finally:
        worker_process.terminate()
        worker_process.wait(timeout=10)


@main.command("chat")
@click.option("--from", "phone", default="+254700000001", show_default=True, help="the phone you pretend to be")
@click.option("--whatsapp", is_flag=True, help="write as a WhatsApp user (one message per reply, no SMS parts)")
def chat(phone: str, whatsapp: bool) -> None:
    """A terminal phone: talk to the same engine and store as the webhook."""
    from bot import conversation, embedded, services, sms

    number = _phone(phone)
    config = {**settings.from_env(), "REDIS_URL": embedded.redis_url()}
    svc = services.build(config)
    medium = "whatsapp" if whatsapp else "sms"
    click.echo(f"You are {number} on {'WhatsApp' if whatsapp else 'SMS'}. Type MENU to start, a blank line or "
               "Ctrl-D to quit.", err=True)  # fmt: skip
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            break
        if not text:
            break
        reply = sms.handle(svc, conversation.Inbound(number, text, "chat", medium=medium))
        for part in reply.parts:
            count = segments.count(part)
            sms_size = f"{count.encoding}, {count.units} units, {count.segments} SMS"
            size = f"{len(part)} characters" if whatsapp else sms_size
            click.secho(f"[{size}]", fg="cyan", err=True)
            click.echo(part)
        if not reply.parts:
            click.secho("[no reply]", fg="cyan", err=True)


def _phone(value: str) -> str:
    from bot import phones

    number = phones.normalise(value, settings.from_env()["DEFAULT_REGION"])
    if number is None:
        raise click.BadParameter(f"{value!r} is not a phone number in +country format")
    return number


# --- field workers ----------------------------------------------------------------------


@main.group("fieldworker")
def fieldworker_group() -> None:
    """Community health workers who may invite families and send broadcasts by SMS."""


@fieldworker_group.command("add")
@click.argument("phone")
@click.option("--name", required=True)
@click.option("--groups", required=True, help="comma-separated, e.g. kisumu,siaya")
def fieldworker_add(phone: str, name: str, groups: str) -> None:
    """Register (or update) a field worker."""
    from bot.fieldwork import group_names
    from bot.store import FieldWorkers

    try:
        names = group_names(groups)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--groups") from None
    number = _phone(phone)
    FieldWorkers(_services().store).add(number, name.strip(), names)
    click.echo(f"{name.strip()} ({number}) may reach: {', '.join(names)}")


@fieldworker_group.command("list")
def fieldworker_list() -> None:
    from bot.store import FieldWorkers

    svc = _services()
    workers = FieldWorkers(svc.store)
    for w in workers.all():
        sizes = ", ".join(f"{g} ({workers.group_size(g)})" for g in w["groups"])
        click.echo(f"{w['phone']}  {w['name']}  {sizes}")


@fieldworker_group.command("remove")
@click.argument("phone")
def fieldworker_remove(phone: str) -> None:
    from bot.store import FieldWorkers

    if not FieldWorkers(_services().store).remove(_phone(phone)):
        raise click.ClickException(f"{phone} is not a field worker")
    click.echo(f"removed {phone}")


# --- broadcasts -------------------------------------------------------------------------


@main.group("broadcast")
def broadcast_group() -> None:
    """Send a key message to groups of subscribed families (delivered by `factsbot worker`)."""


@broadcast_group.command("create")
@click.option("--topic", required=True, help="topic id or keyword, e.g. malaria")
@click.option("--message", "number", type=int, required=True, help="key message number in the topic")
@click.option("--group", "groups", multiple=True, help="a group (repeat for several)")
@click.option("--all", "everyone", is_flag=True, help="every group")
@click.option("--at", "at", default=None, help="start time, ISO 8601 (e.g. 2026-12-01T09:00, UTC unless an offset)")
@click.option("--age-months", "months", default=None, help="only members with a registered child this old, e.g. 8-10")
@click.option("--pregnancy-weeks", "weeks", help="only members so far into a registered pregnancy, e.g. 28-40")
def broadcast_create(topic: str, number: int, groups: tuple[str, ...], everyone: bool, at: str | None,
                     months: str | None, weeks: str | None) -> None:  # fmt: skip
    from datetime import datetime, timezone

    from bot import broadcasts, content, reading, stages
    from bot.schedule import Series

    if months and weeks:
        raise click.UsageError("choose --age-months or --pregnancy-weeks, not both")
    stage = None
    if months or weeks:
        series = Series.BABY if months else Series.PREGNANCY
        stage = stages.parse_target(months or weeks, series)
        if stage is None:
            hint, top = ("--age-months" if months else "--pregnancy-weeks"), stages.HIGHEST[series]
            raise click.BadParameter(f"{months or weeks!r}: give a range like 8-10, from 0 to {top}", param_hint=hint)
    svc = _services()
    found = reading.find_topic(content.normalise_keyword(topic), svc.catalog.language("en"))
    if found is None:
        raise click.BadParameter(f"no topic {topic!r}", param_hint="--topic")
    from bot.store import FieldWorkers

    names = FieldWorkers(svc.store).groups() if everyone else [g.lower() for g in groups]
    when = None
    if at:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(f"{at!r} is not an ISO 8601 time", param_hint="--at") from None
        when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    try:
        bid = broadcasts.create(svc, topic_id=found.id, number=number, groups=names, created_by="cli", at=when,
                                stage=stage)  # fmt: skip
    except broadcasts.BroadcastError as e:
        raise click.ClickException(str(e)) from None
    click.echo(broadcasts.describe(broadcasts.Broadcasts(svc.store).get(bid)))


@broadcast_group.command("status")
@click.argument("broadcast_id", required=False)
def broadcast_status(broadcast_id: str | None) -> None:
    """One broadcast's progress, or the latest twenty."""
    from bot import broadcasts

    store = broadcasts.Broadcasts(_services().store)
    rows = [store.get(broadcast_id)] if broadcast_id else store.recent(20)
    if broadcast_id and not rows[0]:
        raise click.ClickException(f"no broadcast {broadcast_id}")
    for info in rows:
        click.echo(broadcasts.describe(info))


def _control(action: str, broadcast_id: str) -> None:
    from bot import broadcasts

    svc = _services()
    if not getattr(broadcasts, action)(svc, broadcast_id):
        info = broadcasts.Broadcasts(svc.store).get(broadcast_id)
        raise click.ClickException(f"cannot {action} {broadcast_id} ({info.get('status', 'no such broadcast')})")
    click.echo(broadcasts.describe(broadcasts.Broadcasts(svc.store).get(broadcast_id)))


@broadcast_group.command("pause")
@click.argument("broadcast_id")
def broadcast_pause(broadcast_id: str) -> None:
    _control("pause", broadcast_id)


@broadcast_group.command("resume")
@click.argument("broadcast_id")
def broadcast_resume(broadcast_id: str) -> None:
    _control("resume", broadcast_id)


@broadcast_group.command("cancel")
@click.argument("broadcast_id")
def broadcast_cancel(broadcast_id: str) -> None:
    _control("cancel", broadcast_id)


# --- workers ----------------------------------------------------------------------------


@main.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
def worker(burst: bool) -> None:
    """An RQ worker for replies (first) and broadcasts; recovers broadcasts a crash interrupted."""
    from bot import broadcasts, subscriptions, timed, workers

    svc = _services()  # this worker's composition root: the services every job it runs is handed
    if not settings.is_development(svc.config):
        from bot import persistence

        try:
            svc.persistence = persistence.check(svc.store.redis, svc.config)
        except persistence.VolatileRedis as e:
            raise click.ClickException(str(e)) from None

    def prepare() -> None:  # at every start, the first and after Redis went away (bot/workers.py)
        recovered = broadcasts.recover(svc)
        if recovered:
            click.echo(f"requeued unfinished batches of {', '.join(recovered)}", err=True)
        subscriptions.schedule_ticks(svc)
        timed.schedule_ticks(svc)  # timed messages: a tick a minute, like subscriptions

    names = ("replies", "bulk")
    queues = [svc.queue(name) for name in names]
    click.echo(f"worker on {', '.join(svc.store.keys.rq_queue(name) for name in names)}", err=True)
    workers.run(svc, queues, prepare, burst=burst)


# --- dashboard users --------------------------------------------------------------------


@main.group("user")
def user_group() -> None:
    """People who may use the operator dashboard (/dashboard)."""


@user_group.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "operator", "viewer"]),
    required=True,
    help="viewer reads; operator also runs broadcasts and field workers; admin also manages users",
)
def user_add(email: str, role: str) -> None:
    """Create a user, or give an existing one a new password and role (which signs them out).

    The password is prompted for, or read from the first line of standard input when it is not a terminal.
    """
    from bot.dashboard import accounts
    from bot.store import Audit

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    store = _services().store
    try:
        user = accounts.create(store, email, role, password, by="cli")
    except accounts.AccountError as e:
        raise click.ClickException(str(e)) from None
    Audit(store).add("cli", "user_saved", user=user["email"], role=user["role"])
    click.echo(f"{user['email']} may log in to /dashboard as {user['role']}")


@user_group.command("list")
def user_list() -> None:
    from bot.store import Users

    for user in Users(_services().store).all():
        click.echo(f"{user['email']}  {user['role']}")


@user_group.command("remove")
@click.argument("email")
def user_remove(email: str) -> None:
    from bot.store import Audit, Users

    store = _services().store
    if not Users(store).remove(email.strip().lower()):
        raise click.ClickException(f"{email} is not a dashboard user")
    Audit(store).add("cli", "user_removed", user=email.strip().lower())
    click.echo(f"removed {email}")


if __name__ == "__main__":
    main()
