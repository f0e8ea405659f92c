"""`factsbot export` and `factsbot import`: the deployment's data as versioned JSON lines (bot/backup/)."""

from __future__ import annotations

import sys

import click

from bot.cli_shared import deployment_services


@click.command("export")
@click.option("--out", "out", type=click.Path(dir_okay=False), default="-", help="file to write (default: stdout)")
@click.option("--with-log", is_flag=True, help="also the message log (large)")
def export_command(out: str, with_log: bool) -> None:
    """Write everything factsbot cannot rebuild (people, opt-outs, subscriptions, groups, field workers,
    broadcasts, registrations, questions, users, audit log) as JSON lines."""
    from bot import backup

    store = deployment_services().store
    if out == "-":
        written = backup.export(store, sys.stdout.buffer, with_log=with_log)
    else:
        with open(out, "wb") as f:
            written = backup.export(store, f, with_log=with_log)
    click.echo("exported " + _summary(written), err=True)


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, allow_dash=True))
@click.option("--merge", is_flag=True, help="import into a prefix that holds data (the file wins for its keys)")
def import_command(file: str, merge: bool) -> None:
    """Read an export into this deployment's prefix (empty unless --merge). Safe to run twice."""
    from bot import backup

    store = deployment_services().store
    try:
        if file == "-":
            written = backup.restore(store, sys.stdin, merge=merge)
        else:
            with open(file, encoding="utf-8") as f:
                backup.validate_file(f)  # the whole file first: a bad line 900,000 writes nothing
            with open(file, encoding="utf-8") as f:
                written = backup.restore(store, f, merge=merge, checked=True)
    except backup.RestoreError as e:
        raise click.ClickException(f"{file}: {e}") from None
    click.echo("imported " + _summary(written), err=True)


def _summary(written) -> str:
    return ", ".join(f"{noun} {n:,}" for noun, n in sorted(written.items())) or "nothing"
