"""Recordings: what is recorded, a placeholder, spoken or missing; stale recordings; the content check; espeak-ng."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from click.testing import CliRunner

from bot import audio, content
from bot.cli import main
from bot.settings import ROOT

CATALOG = content.load(ROOT / "messages")


def states(rows, lang: str) -> dict[str, audio.Row]:
    return {r.id: r for r in rows if r.lang == lang}


def test_every_clip_is_listed_once_per_language(folder):
    rows = audio.status(CATALOG, folder)
    for code, lang in CATALOG.languages.items():
        ids = [r.id for r in rows if r.lang == code]
        assert len(ids) == len(set(ids))
        for topic in lang.topics:
            assert f"topic-{topic.id}" in ids
            for m in topic.messages:
                assert m.id in ids and f"{m.id}-detail" in ids
        assert {"prompt-welcome", "prompt-message_hint", "prompt-goodbye", "prompt-digit_0"} <= set(ids)


def test_recorded_placeholder_speech_and_missing(folder):
    (folder / "sw" / "audio" / "malaria-1.mp3").write_bytes(b"ID3")
    fake = audio.placeholder_root(folder) / "sw"
    fake.mkdir(parents=True)
    (fake / "malaria-2.wav").write_bytes(b"RIFF")
    (fake / "malaria-1.wav").write_bytes(b"RIFF")  # a recording wins over a placeholder
    sw = states(audio.status(CATALOG, folder, "sw"), "sw")
    assert sw["malaria-1"].state == audio.State.RECORDED
    assert sw["malaria-2"].state == audio.State.PLACEHOLDER
    assert sw["malaria-3"].state == audio.State.MISSING  # no Kiswahili voice on Twilio
    fr = states(audio.status(CATALOG, folder, "fr"), "fr")
    assert fr["malaria-3"].state == audio.State.TTS
    assert audio.locate(folder, "sw", "malaria-1") == audio.Found(folder / "sw" / "audio" / "malaria-1.mp3", False)


def test_a_recording_older_than_its_text_is_stale(folder):
    texts, recorded = time.time() - 7200, time.time() - 3600
    topic, prompts = folder / "sw" / "10-malaria.yaml", folder / "sw" / "audio" / "prompts.yaml"
    for path in (topic, prompts):
        os.utime(path, (texts, texts))
    for name in ("malaria-1.mp3", "prompt-welcome.mp3"):
        (folder / "sw" / "audio" / name).write_bytes(b"ID3")
        os.utime(folder / "sw" / "audio" / name, (recorded, recorded))
    sw = states(audio.status(CATALOG, folder, "sw"), "sw")
    assert not sw["malaria-1"].stale and not sw["prompt-welcome"].stale
    topic.touch()  # the malaria texts changed after the recording
    sw = states(audio.status(CATALOG, folder, "sw"), "sw")
    assert sw["malaria-1"].stale and not sw["prompt-welcome"].stale
    prompts.touch()
    assert states(audio.status(CATALOG, folder, "sw"), "sw")["prompt-welcome"].stale


def test_check_names_each_kiswahili_clip_nobody_could_hear(folder):
    problems = audio.check(CATALOG, folder)
    sw_clips = [r for r in audio.status(CATALOG, folder, "sw")]
    assert len(problems) == len(sw_clips)
    assert all("/sw/audio/" in p for p in problems)
    for row in sw_clips:
        (folder / "sw" / "audio" / f"{row.id}.wav").write_bytes(b"RIFF")
    assert audio.check(CATALOG, folder) == []


def test_check_does_not_count_placeholders_and_needs_every_prompt(folder):
    fake = audio.placeholder_root(folder) / "sw"
    fake.mkdir(parents=True)
    for row in audio.status(CATALOG, folder, "sw"):
        (fake / f"{row.id}.wav").write_bytes(b"RIFF")
    problems = audio.check(CATALOG, folder)
    assert problems and all("only a placeholder" in p for p in problems)
    prompts = folder / "fr" / "audio" / "prompts.yaml"
    prompts.write_text(prompts.read_text(encoding="utf-8").replace("goodbye:", "# goodbye:"), encoding="utf-8")
    assert any("fr/audio/prompts.yaml: lacks goodbye" in p for p in audio.check(CATALOG, folder))


def test_content_check_fails_on_a_missing_kiswahili_recording_only_when_voice_is_enabled(folder):
    runner = CliRunner()
    off = runner.invoke(main, ["content", "check", "--dir", str(folder)], env={"VOICE_ENABLED": "false"})
    on = runner.invoke(main, ["content", "check", "--dir", str(folder)], env={"VOICE_ENABLED": "true"})
    assert "sw/audio/malaria-1.mp3: no recording" not in off.output
    assert on.exit_code == 1 and "sw/audio/malaria-1.mp3: no recording" in on.output


def test_audio_status_command(folder):
    result = CliRunner().invoke(main, ["audio", "status", "--dir", str(folder), "--lang", "sw"])
    assert result.exit_code == 1  # Kiswahili clips nobody can hear
    clips = sum(1 for r in audio.status(content.load(folder), folder) if r.lang == "sw")
    assert f"sw: {clips} clips" in result.output and "missing        prompt-welcome" in result.output
    fr = CliRunner().invoke(main, ["audio", "status", "--dir", str(folder), "--lang", "fr"])
    assert fr.exit_code == 0 and "text-to-speech on Twilio only" in fr.output
    bad = CliRunner().invoke(main, ["audio", "status", "--dir", str(folder), "--lang", "xx"])
    assert bad.exit_code == 2


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_placeholders_are_rendered_for_what_is_missing_only(folder):
    # Everything but two clips is recorded, so espeak-ng renders two files (fast).
    for row in audio.status(CATALOG, folder, "sw"):
        if row.id not in ("prompt-welcome", "malaria-1"):
            (folder / "sw" / "audio" / f"{row.id}.wav").write_bytes(b"RIFF")
    result = CliRunner().invoke(main, ["audio", "placeholder", "--dir", str(folder), "--lang", "sw"])
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in (audio.placeholder_root(folder) / "sw").iterdir())
    assert made == ["malaria-1.wav", "prompt-welcome.wav"]
    assert (audio.placeholder_root(folder) / "sw" / "malaria-1.wav").read_bytes()[:4] == b"RIFF"
    assert audio.placeholder_root(folder) == folder.parent / ".factsbot-audio-placeholders"
    sw = states(audio.status(CATALOG, folder, "sw"), "sw")
    assert sw["malaria-1"].state == audio.State.PLACEHOLDER
    again = CliRunner().invoke(main, ["audio", "placeholder", "--dir", str(folder), "--lang", "sw"])
    assert "0 placeholder(s)" in again.output  # nothing stale, nothing rendered twice


def test_the_placeholder_folder_is_ignored_by_git():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert audio.PLACEHOLDER_DIR + "/" in ignored
