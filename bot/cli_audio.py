"""`factsbot audio ...`: what the voice line can play in each language, and placeholders to try it before recording."""

from __future__ import annotations

import sys
from collections import Counter

import click

from bot import audio, settings


@click.group("audio")
def audio_group() -> None:
    """Recordings for the voice line (messages/<lang>/audio/)."""


def _catalog(folder: str):
    from bot import content

    return content.load(folder)


@audio_group.command("status")
@click.option("--lang", "only", default="", help="one language (default: all)")
@click.option("--list", "listing", is_flag=True, help="list every clip, not only those needing work")
@click.option("--dir", "folder", default=None, help="content folder (default: CONTENT_DIR)")
def audio_status(only: str, listing: bool, folder: str | None) -> None:
    """Per language: recorded, placeholder, text-to-speech, missing, and stale recordings (older than their text).

    Exits 1 when a clip has neither a recording nor a voice (Kiswahili has none on Twilio).
    """
    folder = folder or settings.from_env()["CONTENT_DIR"]
    catalog = _catalog(folder)
    if only and only not in catalog.languages:
        raise click.BadParameter(f"no language {only!r}; have {', '.join(catalog.languages)}", param_hint="--lang")
    rows = audio.status(catalog, folder, only)
    for code in catalog.languages:
        mine = [r for r in rows if r.lang == code]
        if not mine:
            continue
        counts = Counter(r.state for r in mine)
        stale = sum(r.stale for r in mine)
        states = (audio.State.RECORDED, audio.State.PLACEHOLDER, audio.State.TTS, audio.State.MISSING)
        summary = ", ".join(f"{counts[s]} {s}" for s in states)
        # Africa's Talking speaks English only: its French and Hindi callers hear only recordings.
        tts = "" if code not in audio.TWILIO_TTS or code in audio.AT_TTS else (
            " (text-to-speech on Twilio only: on Africa's Talking a clip without a recording is left out)")  # fmt: skip
        click.echo(f"{code}: {len(mine)} clips: {summary}, {stale} stale{tts}")
        for r in mine:
            if listing or r.state in (audio.State.MISSING, audio.State.PLACEHOLDER) or r.stale:
                flag = " STALE (its text changed after it was recorded)" if r.stale else ""
                click.echo(f"  {r.state:<14} {r.id}{flag}")
    missing = [r for r in rows if r.state == audio.State.MISSING]
    if missing:
        click.echo(f"{len(missing)} clip(s) no caller can hear: record them, or try the line with "
                   "`factsbot audio placeholder`", err=True)  # fmt: skip
        sys.exit(1)


@audio_group.command("placeholder")
@click.option("--lang", "only", default="", help="one language (default: all)")
@click.option("--dir", "folder", default=None, help="content folder (default: CONTENT_DIR)")
def audio_placeholder(only: str, folder: str | None) -> None:
    """Render every clip without a recording with espeak-ng, into a git-ignored placeholders folder.

    Placeholders let the line be tried end to end before the voice actors record; the app plays
    a real recording wherever one exists, and `audio status` counts placeholders as such.
    """
    folder = folder or settings.from_env()["CONTENT_DIR"]
    catalog = _catalog(folder)
    try:
        made = audio.make_placeholders(catalog, folder, only)
    except RuntimeError as e:
        click.echo(str(e), err=True)
        sys.exit(1)
    click.echo(f"{len(made)} placeholder(s) written to {audio.placeholder_root(folder)}")
