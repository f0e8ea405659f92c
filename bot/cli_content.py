"""`factsbot content ...`: check, publish, and the review sheet that goes out to reviewers and comes back signed."""

from __future__ import annotations

import datetime
import io
import sys

import click

from bot import segments, settings


@click.group("content")
def content_group() -> None:
    """Topics and key messages in messages/."""


def _folder(folder: str | None) -> str:
    return folder or settings.from_env()["CONTENT_DIR"]


@content_group.command("check")
@click.option("--dir", "folder", default=None, help="content folder (default: CONTENT_DIR)")
@click.option("--texts", is_flag=True, help="also list every text's encoding and SMS cost (and transliterated)")
def content_check(folder: str | None, texts: bool) -> None:
    """Validate every file; print each problem with file and place; exit 1 if any.

    Per language it says what falls back to English, how many key messages a reviewer has
    signed off, and what review the files still need; warnings do not fail the check.
    """
    from bot import content

    catalog, problems = content.check(_folder(folder))
    if catalog and settings.from_env()["VOICE_ENABLED"]:
        from bot import audio  # a clip no caller could hear (no recording, no voice): bot/audio.py

        problems = [*problems, *audio.check(catalog, _folder(folder))]
    if catalog:
        from bot import timed  # the timed messages' schedule (schedules.yaml or SCHEDULE_FILE) against this content

        config = {**settings.from_env(), "CONTENT_DIR": str(_folder(folder))}
        problems = [*problems, *timed.schedule_problems(config, catalog)]
    for problem in problems:
        click.echo(str(problem), err=True)
    if catalog:
        for code, lang in catalog.languages.items():
            _summary(code, lang, texts)
        countries = [country for country, _ in settings.pairs(settings.from_env()["COUNTRY_LANGUAGES"])]
        for warning in content.warnings(catalog, countries):
            click.echo(f"warning: {warning}")
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        sys.exit(1)
    click.echo("content OK")


def _summary(code: str, lang, texts: bool) -> None:
    messages = [m for t in lang.topics for m in t.messages]
    unconfirmed = sum(m.confidence == "unconfirmed" for m in messages)
    notes = sum(bool(m.review_note) for m in messages)
    click.echo(
        f"{code} ({lang.name}): {len(lang.topics)} topics, {len(messages)} key messages "
        f"({unconfirmed} unconfirmed, {notes} with clinical review notes)"
    )
    reviewed, total = lang.review_progress()
    click.echo(f"  signed off: {reviewed}/{total} key messages")
    if lang.fallbacks:
        shown = ", ".join(lang.fallbacks[:12]) + (" ..." if len(lang.fallbacks) > 12 else "")
        click.echo(f"  from English ({len(lang.fallbacks)}): {shown}")
    reviews = sorted({t.review for t in lang.topics if t.review})
    for review in reviews:
        count = sum(t.review == review for t in lang.topics)
        click.echo(f"  review: {review} ({count} topic files)")
    if texts:
        for line in _text_costs(lang):
            click.echo(line)


@content_group.command("publish")
def content_publish() -> None:
    """Check CONTENT_DIR and, if it is sound, have every web process and worker read it again."""
    from bot import content
    from bot.cli_shared import deployment_services as _services

    svc = _services()
    try:
        svc.publish_content()
    except content.ContentError as e:
        for problem in e.problems:
            click.echo(str(problem), err=True)
        click.echo(f"not published: {len(e.problems)} problem(s); the running service keeps its content", err=True)
        sys.exit(1)
    seconds = svc.config["CONTENT_CHECK_SECONDS"]
    click.echo(f"published content generation {svc.content_generation}: in use everywhere within {seconds} s")


def _text_costs(lang) -> list[str]:
    """Each text's encoding and SMS count, and what transliteration would make of it."""
    rows = []
    items = [(f"system.{k}", v) for k, v in lang.texts.items()]
    items += [(f"{m.id}.{f}", getattr(m, f)) for t in lang.topics for m in t.messages for f in ("short", "detail")]
    for place, text in items:
        sent = segments.smart_encode(text)
        count = segments.count(sent)
        line = f"  {place}: {count.encoding} {count.units} units, {count.segments} SMS"
        translit = segments.count(segments.transliterate(sent))
        if translit != count:
            line += f" (transliterated: {translit.encoding} {translit.units} units, {translit.segments} SMS)"
        rows.append(line)
    return rows


# --- the review sheet ---------------------------------------------------------------------


def _catalog(folder: str, code: str):
    from bot import content

    catalog, _ = content.check(folder)
    if catalog is None or code not in catalog.languages:
        known = ", ".join(catalog.languages) if catalog else "none"
        raise click.BadParameter(f"no language {code!r} in {folder} (there are: {known})", param_hint="LANG")
    return catalog


@content_group.command("sheet")
@click.argument("code", metavar="LANG")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None, help="CSV file (default: standard output)")
@click.option("--dir", "folder", default=None, help="content folder (default: CONTENT_DIR)")
def content_sheet(code: str, out: str | None, folder: str | None) -> None:
    """Write LANG's review sheet: one CSV row per key message, English beside it (UTF-8 with a BOM).

    A reviewer fills in reviewed_by (and reviewed_on, else the day it is signed off) for each
    text they approve; `factsbot content signoff` records them.
    """
    from bot.content import sheet

    catalog = _catalog(_folder(folder), code)
    if out:
        with open(out, "w", encoding=sheet.ENCODING, newline="") as f:
            count = sheet.write(catalog, code, f)
        click.echo(f"{count} key messages written to {out}", err=True)
        return
    buffer = io.StringIO(newline="")
    sheet.write(catalog, code, buffer)
    sys.stdout.buffer.write(buffer.getvalue().encode(sheet.ENCODING))  # bytes: the BOM whatever the terminal
    sys.stdout.flush()


@content_group.command("signoff")
@click.argument("code", metavar="LANG")
@click.option("--sheet", "path", type=click.Path(exists=True, dir_okay=False), required=True, help="returned sheet")
@click.option("--dir", "folder", default=None, help="content folder (default: CONTENT_DIR)")
def content_signoff(code: str, path: str, folder: str | None) -> None:
    """Record a returned sheet's reviewed_by/reviewed_on in LANG's topic files.

    Only rows whose short and detail are still the files' text are recorded; a text changed
    since the sheet was made is refused (exit 1) and needs a new sheet. Rows without
    reviewed_by are skipped.
    """
    from bot.content import sheet

    folder = _folder(folder)
    catalog = _catalog(folder, code)
    try:
        rows = sheet.read(path)
    except (ValueError, UnicodeDecodeError) as e:
        raise click.ClickException(str(e)) from None
    decided = sheet.plan(catalog, code, rows, datetime.date.today())
    try:
        changed = sheet.apply(folder, catalog, code, decided.record)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    for refused in decided.refused:
        click.echo(f"refused {refused}", err=True)
    files = ", ".join(str(p) for p in changed) or "no file changed"
    click.echo(f"{code}: {len(decided.record)} sign-off(s) recorded ({files}); "
               f"{decided.skipped} row(s) without reviewed_by skipped")  # fmt: skip
    if decided.refused:
        click.echo(f"{len(decided.refused)} row(s) refused", err=True)
        sys.exit(1)
