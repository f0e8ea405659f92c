"""What a web process keeps between calls, and that it changes nothing a caller hears.

It lists the recordings once: one copied in later plays after the next listing, not before. The
listing is renewed every AUDIO_RESCAN_SECONDS and whenever content is published (in this process
or another); until then a call keeps the text-to-speech it had. Real files, real Redis.
"""

from __future__ import annotations

from tests.conftest import BASE_URL
from tests.test_voice import CALLERS, TwilioCall

RECORDING = "/audio/en/prompt-welcome.mp3"


def welcome(app) -> str:
    """What a new English call hears first: a recording's URL, or `say:<language>:<words>`."""
    return TwilioCall.played(TwilioCall(app.test_client(), CALLERS["en"]).press())[0]


def add_recording(folder) -> None:
    (folder / "en" / "audio" / "prompt-welcome.mp3").write_bytes(b"ID3 welcome")


def test_a_recording_added_after_start_plays_once_the_listing_is_renewed(make_app, folder):
    app = make_app(VOICE_ENABLED=True, CONTENT_DIR=str(folder), AUDIO_RESCAN_SECONDS=3600)
    svc = app.extensions["factsbot"]
    assert welcome(app).startswith("say:en-GB:")
    add_recording(folder)
    assert welcome(app).startswith("say:en-GB:"), "the folder is listed at most once an hour here"

    svc.audio.listed_at -= 3600  # an hour later
    assert welcome(app) == BASE_URL + RECORDING
    response = app.test_client().get(RECORDING)
    assert response.status_code == 200 and response.data == b"ID3 welcome"
    response.close()


def test_a_recording_added_after_start_plays_once_content_is_published(make_app, folder):
    settings = {"VOICE_ENABLED": True, "CONTENT_DIR": str(folder), "AUDIO_RESCAN_SECONDS": 3600}
    publisher, other = make_app(**settings), make_app(**settings, CONTENT_CHECK_SECONDS=0)  # two web processes
    assert welcome(other).startswith("say:en-GB:") and welcome(publisher).startswith("say:en-GB:")
    add_recording(folder)
    assert welcome(other).startswith("say:en-GB:")

    publisher.extensions["factsbot"].publish_content()
    assert welcome(publisher) == BASE_URL + RECORDING
    assert welcome(other) == BASE_URL + RECORDING, "the other process lists the folder again when it reads content"


def test_prompt_wording_is_read_with_the_listing_and_the_engine_built_once_per_listing(make_app, folder):
    app = make_app(VOICE_ENABLED=True, CONTENT_DIR=str(folder), AUDIO_RESCAN_SECONDS=3600)
    svc = app.extensions["factsbot"]
    engine = svc.voice_engine()
    assert svc.voice_engine() is engine, "one engine per process, not one per request"
    prompts = folder / "en" / "audio" / "prompts.yaml"
    text = prompts.read_text(encoding="utf-8")
    assert "\nwelcome: Welcome." in text
    prompts.write_text(text.replace("\nwelcome: Welcome.", "\nwelcome: Hello there."), encoding="utf-8")
    assert welcome(app).startswith("say:en-GB:Welcome."), "read with the listing, not on every call"

    svc.audio.listed_at -= 3600
    assert welcome(app).startswith("say:en-GB:Hello there.")
    assert svc.voice_engine() is not engine
