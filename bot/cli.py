"""The `factsbot` command: run the service, chat with it, check content, count SMS."""

from __future__ import annotations

import json
import logging
import os
import sys

import click

from bot import segments, settings


@click.group()
def main() -> None:
    """factsbot: Facts for Life over SMS and USSD."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s")


# --- content ----------------------------------------------------------------------------


@main.group("content")
def content_group() -> None:
    """Topics and key messages in messages/."""


@content_group.command("check")
@click.option("--dir", "folder", default=None, help="content folder (default: CONTENT_DIR)")
def content_check(folder: str | None) -> None:
    """Validate every topic file; print each problem with file and place; exit 1 if any."""
    from bot import content

    folder = folder or settings.from_env()["CONTENT_DIR"]
    catalog, problems = content.check(folder)
    for problem in problems:
        click.echo(str(problem), err=True)
    if catalog:
        for code, lang in catalog.languages.items():
            messages = sum(len(t.messages) for t in lang.topics)
            unconfirmed = sum(m.confidence == "unconfirmed" for t in lang.topics for m in t.messages)
            notes = sum(bool(m.review_note) for t in lang.topics for m in t.messages)
            click.echo(
                f"{code}: {len(lang.topics)} topics, {messages} key messages "
                f"({unconfirmed} unconfirmed, {notes} with review notes)"
            )
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        sys.exit(1)
    click.echo("content OK")


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
    from bot import embedded
    from bot.app import create_app

    os.environ["FACTSBOT_ENV"] = "development"
    url = embedded.ensure_redis_url()
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
    app.run(host=host, port=port, debug=False, use_reloader=False)


@main.command("chat")
@click.option("--from", "phone", default="+254700000001", show_default=True, help="the phone you pretend to be")
def chat(phone: str) -> None:
    """A terminal phone: talk to the same engine and store as the webhook."""
    from bot import conversation, embedded, phones, services

    number = phones.normalise(phone)
    if number is None:
        raise click.BadParameter(f"{phone!r} is not a phone number in +country format", param_hint="--from")
    config = {**settings.from_env(), "REDIS_URL": embedded.redis_url()}
    svc = services.build(config)
    click.echo(f"You are {number}. Type MENU to start, a blank line or Ctrl-D to quit.", err=True)
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            break
        if not text:
            break
        reply = svc.handle(conversation.Inbound(number, text, "chat"))
        for part in reply.parts:
            count = segments.count(part)
            click.secho(f"[{count.encoding}, {count.units} units, {count.segments} SMS]", fg="cyan", err=True)
            click.echo(part)
        if not reply.parts:
            click.secho("[no reply]", fg="cyan", err=True)


if __name__ == "__main__":
    main()
