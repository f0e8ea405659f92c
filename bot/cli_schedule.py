"""`factsbot schedule`: timed messages from the command line (cron's tick; more to come, e.g. preview)."""

from __future__ import annotations

from datetime import datetime, timezone

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

    now = None
    if at:
        try:
            now = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(f"{at!r} is not an ISO 8601 time", param_hint="--now") from None
        now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    families = timed.tick(deployment_services(), now=now)
    click.echo(f"{families} famil{'y' if families == 1 else 'ies'} due: queued for the workers")
