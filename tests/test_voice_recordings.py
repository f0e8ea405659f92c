"""What a web process keeps between calls, and that it changes nothing a caller hears.

It lists the recordings once: one copied in later plays after the next listing, not before. The
listing is renewed every AUDIO_RESCAN_SECONDS and whenever content is published (in this process
or another); until then a call keeps the text-to-speech it had. Real files, real Redis. Its TwiML
is written directly, byte for byte as the twilio package writes it.
"""

from __future__ import annotations

import shutil

import pytest
from flask import Flask
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.audio import TWILIO_TTS, Piece
from bot.channels.voice import GATHER_SECONDS, twiml
from bot.settings import ROOT
from tests.conftest import BASE_URL
from tests.test_voice import CALLERS, TwilioCall

RECORDING = "/audio/en/prompt-welcome.mp3"


@pytest.fixture
def folder(tmp_path):
    copy = tmp_path / "messages"
    shutil.copytree(ROOT / "messages", copy)
    return copy


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


def twilio_package(found: list[Piece], hangup: bool, path: str) -> str:
    """The same TwiML built with the twilio package's VoiceResponse."""
    response = VoiceResponse()
    target = response
    if not hangup:
        target = Gather(input="dtmf", num_digits=1, timeout=GATHER_SECONDS, action=path, method="POST",
                        action_on_empty_result=True)  # fmt: skip
    for piece in found:
        if piece.url:
            target.play(piece.url)
        else:
            language, name = TWILIO_TTS[piece.lang]
            target.say(piece.text, language=language, voice=name)
    if hangup:
        response.hangup()
    else:
        response.append(target)
    return str(response)


PIECES = [
    Piece(text='Welcome. Fever & cough? Press <1> "now".\nThen\t2.', lang="en"),
    Piece(url='https://cdn.example.org/fb/en/prompt-welcome.mp3?a=1&b="2"'),
    Piece(text="Bienvenue. L'eau propre évite la diarrhée.", lang="fr"),
    Piece(text="नमस्ते। बुखार हो तो आज ही जाँच कराएँ।", lang="hi"),
    Piece(url="http://localhost/audio/sw/placeholder/prompt-welcome.wav"),
]


@pytest.mark.parametrize("hangup", [False, True])
@pytest.mark.parametrize("found", [PIECES, PIECES[:1], []])
def test_the_twiml_is_the_twilio_packages_byte_for_byte(hangup, found):
    with Flask(__name__).test_request_context("/voice/twilio"):
        assert twiml(found, hangup).get_data(as_text=True) == twilio_package(found, hangup, "/voice/twilio")
