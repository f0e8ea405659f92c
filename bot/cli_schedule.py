"""`factsbot schedule`: timed messages from the command line (cron's tick, one family's preview, the stage counts)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import click

from bot.cli_shared import deployment_services


@click.group("schedule")
def schedule_group() -> None:
    """Timed messages: pregnancy weeks, the child's age, vaccination reminders (messages/schedules.yaml)."""


@schedule_group.command("tick")
@click.option("--now", "at", default=None, help="the time to tick at, ISO 8601 (default: now; UTC unless an offset)")
def schedule_tick(at: str | None) -> None:
    """Queue sends for every family due now (workers send them). `factsbot worker` ticks every minute
    by itself; this is for cron, or to catch up by hand."""
    from bot import timed

    families = timed.tick(deployment_services(), now=_when(at))
    click.echo(f"{families} famil{'y' if families == 1 else 'ies'} due: queued for the workers")


@schedule_group.command("recount")
def schedule_recount() -> None:
    """Count every family's stage afresh for the overview's figures: after `factsbot import` over existing
    families, or a repair. Reads every family (a scan); families registering meanwhile may need another run."""
    from bot.store import Registrations

    families = Registrations(deployment_services().store).recount()
    click.echo(f"{families} famil{'y' if families == 1 else 'ies'} counted by stage")


@schedule_group.command("preview")
@click.argument("phone")
@click.option("--until", "until", required=True, help="the last day to show, YYYY-MM-DD (the family's own day)")
@click.option("--json", "as_json", is_flag=True, help="one JSON array: due, kind, id, text")
@click.option("--now", "at", default=None, help="preview as of this time, ISO 8601 (default: now)")
def schedule_preview(phone: str, until: str, as_json: bool, at: str | None) -> None:
    """What PHONE will receive until then, in order, as it would be sent (quiet hours, one a day, STOP).
    Nothing is sent and nothing changes."""
    from bot import phones, upcoming

    svc = deployment_services()
    number = phones.normalise(phone, svc.config["DEFAULT_REGION"])
    if number is None:
        raise click.BadParameter(f"{phone!r} is not a phone number", param_hint="PHONE")
    try:
        last = date.fromisoformat(until)
    except ValueError:
        raise click.BadParameter(f"{until!r} is not a date (YYYY-MM-DD)", param_hint="--until") from None
    items = upcoming.preview(svc, number, last, _when(at))
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False))
        return
    if not items:
        click.echo(f"nothing for {phones.mask(number)} until {last}")
    for item in items:
        click.echo(f"{item['due'][:16].replace('T', ' ')}  {item['kind']:<8} {item['id']}: {item['text']}")


def _when(at: str | None) -> datetime | None:
    """--now: ISO 8601, UTC unless it has an offset; None for the real time."""
    if not at:
        return None
    try:
        now = datetime.fromisoformat(at)
    except ValueError:
        raise click.BadParameter(f"{at!r} is not an ISO 8601 time", param_hint="--now") from None
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)
