"""The voice line over HTTP: signed Twilio calls and Africa's Talking calls, real Redis, the recordings served.

Kiswahili has no text-to-speech voice, so a content folder with a (fake) placeholder for every
clip is built once; a test that needs a real recording adds one to its own copy.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest

from bot import audio, content
from bot.settings import ROOT
from tests.conftest import BASE_URL, drain, recorded, sign
from tests.storeview import log_entries, stored_keys

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "  # enough to be served; nobody listens in a test
# A number per language, so that the first-contact language comes from the country.
CALLERS = {"en": "+256712345678", "sw": "+254712345678", "fr": "+221771234567", "hi": "+919812345678"}
CATALOG = content.load(ROOT / "messages")


@pytest.fixture(scope="session")
def voiced(tmp_path_factory) -> Path:
    """A copy of the content with a placeholder for every clip of every language."""
    folder = tmp_path_factory.mktemp("voiced") / "messages"
    shutil.copytree(ROOT / "messages", folder)
    for row in audio.status(CATALOG, folder):
        target = audio.placeholder_root(folder) / row.lang / f"{row.id}.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(WAV)
    return folder


@pytest.fixture(scope="session")
def plain(tmp_path_factory) -> Path:
    """A copy of the content with no recordings and no placeholders (whatever this machine has rendered)."""
    folder = tmp_path_factory.mktemp("plain") / "messages"
    shutil.copytree(ROOT / "messages", folder)
    return folder


@pytest.fixture
def voice_app(make_app, plain):
    """Voice on, no recordings: English, French and Hindi are spoken by Twilio, Kiswahili is silent."""
    return make_app(VOICE_ENABLED=True, CONTENT_DIR=str(plain))


@pytest.fixture
def voiced_app(make_app, voiced):
    """Voice on, a placeholder for every clip."""
    return make_app(VOICE_ENABLED=True, CONTENT_DIR=str(voiced))


@pytest.fixture
def svc(voice_app):
    return voice_app.extensions["factsbot"]


class TwilioCall:
    """A phone calling the Twilio voice webhook, signed as Twilio signs it."""

    path = "/voice/twilio"

    def __init__(self, client, number: str):
        self.client, self.number, self.sid = client, number, "CA" + uuid.uuid4().hex

    def post(self, digits: str | None = None, signature: str | None = None, **extra):
        form = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.number, "To": "+15005550006",
                "CallStatus": "in-progress", "Direction": "inbound", **extra}  # fmt: skip
        if digits is not None:
            form["Digits"] = digits
        headers = {"X-Twilio-Signature": signature if signature is not None else sign(BASE_URL + self.path, form)}
        return self.client.post(self.path, data=urlencode(form), content_type="application/x-www-form-urlencoded",
                                headers=headers)  # fmt: skip

    def press(self, digits: str | None = None) -> ElementTree.Element:
        response = self.post(digits)
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/xml"
        root = ElementTree.fromstring(response.data)
        assert root.tag == "Response"
        gather = root.find("Gather")
        if gather is not None:
            assert gather.get("action") == self.path and gather.get("input") == "dtmf"
            assert gather.get("numDigits") == "1" and gather.get("actionOnEmptyResult") == "true"
        return root

    @staticmethod
    def played(root) -> list[str]:
        """URLs played and words said, in order (`say:<language>:<words>`)."""
        verbs = root.find("Gather") if root.find("Gather") is not None else root
        return [v.text if v.tag == "Play" else f"say:{v.get('language')}:{v.text}" for v in verbs
                if v.tag in ("Play", "Say")]  # fmt: skip


class AfricasTalkingCall:
    path = "/voice/africastalking"

    def __init__(self, client, number: str, token: str = ""):
        self.client, self.number, self.id = client, number, "ATVId_" + uuid.uuid4().hex
        self.query = f"?token={token}" if token else ""

    def post(self, digits: str | None = None, **extra):
        form = {"isActive": "1", "sessionId": self.id, "direction": "Inbound", "callerNumber": self.number,
                "destinationNumber": "+254711082000", **extra}  # fmt: skip
        if digits is not None:
            form["dtmfDigits"] = digits
        return self.client.post(self.path + self.query, data=form)

    def press(self, digits: str | None = None) -> ElementTree.Element:
        response = self.post(digits)
        assert response.status_code == 200, response.data
        root = ElementTree.fromstring(response.data)
        assert root.tag == "Response"
        get = root.find("GetDigits")
        if get is not None:
            url = "http://localhost" + self.path + self.query
            assert get.get("callbackUrl") in (url, BASE_URL + self.path + self.query)
            assert get.get("finishOnKey") == "#" and get.get("numDigits") == "1"
            assert root.find("Redirect").text == get.get("callbackUrl")  # no key: back with none
        return root

    @staticmethod
    def played(root) -> list[str]:
        verbs = root.find("GetDigits") if root.find("GetDigits") is not None else root
        return [v.get("url") if v.tag == "Play" else f"say:en:{v.text}" for v in verbs if v.tag in ("Play", "Say")]


# -- walking every topic ------------------------------------------------------------------------


def walk(call, lang: str) -> int:
    """Every topic of the menu, every key message and its detail; returns how many requests it took."""
    topics = CATALOG.language(lang).topics
    root = call.press()
    requests = 1
    for number, topic in enumerate(topics, 1):
        page, key = divmod(number - 1, 5)
        call.press("9")
        for _ in range(page):
            call.press("8")
        root = call.press(str(key + 1))
        for m in topic.messages:
            heard = call.played(root)
            assert any(f"/{m.id}.wav" in p for p in heard), (lang, m.id, heard)
            detail = call.played(call.press("1"))
            assert any(f"/{m.id}-detail.wav" in p for p in detail)
            root = call.press("2")
            requests += 2
        assert any("prompt-topic_end" in p for p in call.played(root))
        requests += 2 + page
    return requests


@pytest.mark.parametrize("lang", list(CALLERS))
def test_twilio_walks_every_topic_in_every_language(voiced_app, lang):
    call = TwilioCall(voiced_app.test_client(), CALLERS[lang])
    walk(call, lang)
    store = voiced_app.extensions["factsbot"].store
    assert store.profile_fields(call.number)["lang"] == lang  # from the number's country


@pytest.mark.parametrize("lang", list(CALLERS))
def test_africastalking_walks_every_topic_in_every_language(voiced_app, lang):
    walk(AfricasTalkingCall(voiced_app.test_client(), CALLERS[lang]), lang)


def test_a_placeholder_or_recording_plays_and_text_to_speech_fills_in_only_where_a_voice_exists(make_app, tmp_path):
    folder = tmp_path / "messages"
    shutil.copytree(ROOT / "messages", folder)
    (folder / "en" / "audio" / "prompt-welcome.mp3").write_bytes(b"ID3")
    app = make_app(VOICE_ENABLED=True, CONTENT_DIR=str(folder), AUDIO_BASE_URL="https://cdn.example.org/fb/")
    heard = TwilioCall.played(TwilioCall(app.test_client(), CALLERS["en"]).press())
    assert heard[0] == "https://cdn.example.org/fb/en/prompt-welcome.mp3"
    assert heard[1].startswith("say:en-GB:Choose a topic.")
    hindi = TwilioCall.played(TwilioCall(app.test_client(), CALLERS["hi"]).press())
    assert hindi and all(p.startswith("say:hi-IN:") for p in hindi)
    # Kiswahili has no voice: with no recording nothing English is read in its place.
    assert TwilioCall.played(TwilioCall(app.test_client(), CALLERS["sw"]).press()) == []
    # Africa's Talking speaks English only: French without recordings is left out, not read in English.
    assert AfricasTalkingCall.played(AfricasTalkingCall(app.test_client(), CALLERS["fr"]).press()) == []


def test_kiswahili_plays_placeholders_served_by_the_app(voiced_app):
    heard = TwilioCall.played(TwilioCall(voiced_app.test_client(), CALLERS["sw"]).press())
    assert heard and all(p.startswith(f"{BASE_URL}/audio/sw/placeholder/") for p in heard)
    response = voiced_app.test_client().get(heard[0].removeprefix(BASE_URL))
    body = response.data
    response.close()  # a file response holds the file open until closed
    assert response.status_code == 200 and body == WAV


# -- the call's own behaviour ---------------------------------------------------------------------


def test_no_key_prompts_once_more_then_says_goodbye_and_hangs_up(voice_app):
    call = TwilioCall(voice_app.test_client(), CALLERS["en"])
    menu = call.played(call.press())
    again = call.played(call.press(""))
    assert again[0].startswith("say:en-GB:We did not hear a key.") and menu[0].split(":", 2)[2] in again[0]
    bye = call.press("")
    assert bye.find("Gather") is None and bye.find("Hangup") is not None
    assert call.played(bye) == ["say:en-GB:Thank you for calling. Goodbye."]


@pytest.mark.parametrize("digits", ["²", "①", "12", "abc", "#", "\x00", "😀", "1" * 5000, " ", "5 5"])
def test_garbage_keys_get_the_prompt_again(voice_app, digits):
    call = TwilioCall(voice_app.test_client(), CALLERS["en"])
    first = call.played(call.press())
    heard = call.played(call.press(digits))
    words = first[0].split(":", 2)[2]
    assert words in heard[-1] or words in heard[0]


def test_a_huge_body_is_refused_before_anything_runs(voice_app, svc):
    response = voice_app.test_client().post("/voice/twilio", data={"CallSid": "CA1", "Digits": "1" * 100_000})
    assert response.status_code in (403, 413)
    assert stored_keys(svc.store) == []


def test_a_forged_signature_is_refused_and_writes_nothing(voice_app, svc):
    call = TwilioCall(voice_app.test_client(), CALLERS["en"])
    assert call.post(signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert call.post(signature="").status_code == 403
    good = sign(BASE_URL + "/voice/twilio", {"CallSid": call.sid, "From": call.number})
    assert call.post("1", signature=good).status_code == 403  # signed for other fields
    assert stored_keys(svc.store) == []


def test_missing_fields_are_a_400(voice_app):
    client = voice_app.test_client()
    form = {"From": "+256712345678"}
    signature = sign(BASE_URL + "/voice/twilio", form)
    assert client.post("/voice/twilio", data=form, headers={"X-Twilio-Signature": signature}).status_code == 400
    assert client.post("/voice/africastalking", data={"isActive": "1"}).status_code == 400


def test_a_call_id_cannot_be_taken_over_by_another_number(voice_app):
    call = TwilioCall(voice_app.test_client(), CALLERS["en"])
    call.press()
    call.number = CALLERS["fr"]
    assert call.post("1").status_code == 400


def test_voice_is_off_unless_enabled(make_app, voiced):
    client = make_app(CONTENT_DIR=str(voiced)).test_client()
    assert TwilioCall(client, CALLERS["en"]).post().status_code == 404
    assert client.get("/audio/sw/placeholder/prompt-welcome.wav").status_code == 404


def test_the_call_is_logged_as_voice_with_keys_and_what_was_played(voice_app, svc):
    call = TwilioCall(voice_app.test_client(), CALLERS["en"])
    call.press()
    call.press("1")
    entries = [f for _, f in reversed(log_entries(svc.store))]
    assert {e["channel"] for e in entries} == {"voice"}
    assert [(e["direction"], e["text"][:12]) for e in entries][::2] == [("in", "(call)"), ("in", "1")]
    assert "[prompt-welcome]" in entries[1]["text"] and "[timing-births-1]" in entries[3]["text"]
    assert entries[3]["message"] == "timing-births-1"


def test_state_is_kept_per_call_with_an_expiry(voice_app, svc):
    call = TwilioCall(voice_app.test_client(), CALLERS["en"])
    call.press()
    key = svc.store.keys.voice_call("twilio", call.sid)
    assert key == f"{svc.store.keys.prefix}voicecall:twilio:{call.sid}"
    assert 0 < svc.store.redis.ttl(key) <= 2 * 3600


def test_a_dropped_call_is_resumed_when_the_number_calls_back(voice_app, svc):
    client = voice_app.test_client()
    first = TwilioCall(client, CALLERS["en"])
    first.press()
    first.press("2")  # safe motherhood
    first.press("2")  # its second key message; then the line drops
    again = TwilioCall(client, CALLERS["en"])
    assert again.played(again.press())[0].startswith("say:en-GB:Welcome back.")
    heard = again.played(again.press("1"))
    assert "Safe motherhood" in heard[0]
    tip = CATALOG.language("en").topic("safe-motherhood").messages[1].short
    assert tip.split()[0] in heard[0]
    third = TwilioCall(client, CALLERS["en"])
    third.press()
    assert not third.played(third.press("2"))[0].startswith("say:en-GB:Welcome back")  # 2: start again


def test_no_resume_after_the_window(make_app, plain):
    client = make_app(VOICE_ENABLED=True, CONTENT_DIR=str(plain)).test_client()
    first = TwilioCall(client, CALLERS["en"])
    first.press()
    first.press("2")
    store = client.application.extensions["factsbot"].store
    store.redis.delete(store.keys.voice_resume(CALLERS["en"]))  # what the expiry does
    again = TwilioCall(client, CALLERS["en"])
    assert again.played(again.press())[0].startswith("say:en-GB:Welcome.")


def test_press_3_sends_the_key_message_by_sms(voice_app, svc, config):
    call = TwilioCall(voice_app.test_client(), CALLERS["en"])
    call.press()
    call.press("9")
    call.press("8")
    call.press("5")  # malaria: the 10th topic
    assert "by SMS" in call.played(call.press("3"))[0]
    drain(svc, "replies")
    sent = recorded(config)
    assert [s["to"] for s in sent] == [CALLERS["en"]]
    assert CATALOG.language("en").topic("malaria").messages[0].short in sent[0]["body"]


def test_the_language_chosen_on_a_call_is_the_sms_language_too(voice_app, svc, client):
    call = TwilioCall(voice_app.test_client(), CALLERS["en"])
    call.press()
    call.press("7")
    heard = call.played(call.press(str(list(CATALOG.languages).index("fr") + 1)))
    assert heard[0].startswith("say:fr-FR:Vous entendrez maintenant")
    assert svc.store.profile_fields(CALLERS["en"])["lang"] == "fr"


def test_africastalking_is_guarded_like_its_other_callbacks(make_app, voiced):
    app = make_app(VOICE_ENABLED=True, CONTENT_DIR=str(voiced), AT_CALLBACK_TOKEN="s3cret", AT_ALLOWED_IPS="")
    client = app.test_client()
    assert AfricasTalkingCall(client, CALLERS["sw"]).post().status_code == 403
    assert AfricasTalkingCall(client, CALLERS["sw"], token="wrong").post().status_code == 403
    call = AfricasTalkingCall(client, CALLERS["sw"], token="s3cret")
    root = call.press()
    assert root.find("GetDigits").get("callbackUrl").endswith("/voice/africastalking?token=s3cret")
    assert call.post(isActive="0", durationInSeconds="42").status_code == 200


def test_africastalking_says_english_and_plays_other_languages(voice_app, voiced_app):
    english = AfricasTalkingCall(voice_app.test_client(), CALLERS["en"])
    assert AfricasTalkingCall.played(english.press())[0].startswith("say:en:Welcome.")
    played = AfricasTalkingCall(voiced_app.test_client(), CALLERS["en"])
    assert AfricasTalkingCall.played(played.press())[0].endswith("/audio/en/placeholder/prompt-welcome.wav")
    hindi = AfricasTalkingCall(voiced_app.test_client(), CALLERS["hi"])
    assert all(p.startswith("http") for p in AfricasTalkingCall.played(hindi.press()))


def test_redis_down_apologises_and_hangs_up(make_app, plain):
    app = make_app(VOICE_ENABLED=True, CONTENT_DIR=str(plain), REDIS_URL="redis://127.0.0.1:1/0")
    root = TwilioCall(app.test_client(), CALLERS["en"]).press()
    assert root.find("Hangup") is not None and "cannot answer" in TwilioCall.played(root)[0]


# -- the recordings, served -----------------------------------------------------------------------


def test_recordings_are_served_with_caching_headers(make_app, tmp_path):
    folder = tmp_path / "messages"
    shutil.copytree(ROOT / "messages", folder)
    (folder / "sw" / "audio" / "prompt-welcome.mp3").write_bytes(b"ID3 karibu")
    client = make_app(VOICE_ENABLED=True, CONTENT_DIR=str(folder)).test_client()
    response = client.get("/audio/sw/prompt-welcome.mp3")
    body = response.data
    response.close()
    assert response.status_code == 200 and body == b"ID3 karibu"
    assert "max-age=86400" in response.headers["Cache-Control"]
    again = client.get("/audio/sw/prompt-welcome.mp3", headers={"If-None-Match": response.headers["ETag"]})
    again.close()
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/audio/sw/../../bot/app.py", "/audio/xx/prompt-welcome.mp3",
                                  "/audio/sw/prompt-welcome.ogg", "/audio/sw/%2e%2e%2fsystem.yaml",
                                  "/audio/sw/placeholder/nothing.wav", "/audio/sw/Prompt.mp3"])  # fmt: skip
def test_only_recordings_are_served(voice_app, path):
    assert voice_app.test_client().get(path).status_code == 404


def test_the_key_names_are_fixed(svc):
    k = svc.store.keys
    assert k.voice_resume("+254712345678") == f"{k.prefix}voiceresume:+254712345678"


def test_a_call_request_costs_two_redis_round_trips(make_app, plain, config):
    from bot import services
    from bot.store import CountingConnection, counting_client

    app = make_app(VOICE_ENABLED=True, CONTENT_DIR=str(plain), CONTENT_CHECK_SECONDS=3600)
    app.extensions["factsbot"].store.redis.close()
    app.extensions["factsbot"] = services.build(app.config, counting_client(config["REDIS_URL"]))
    call = TwilioCall(app.test_client(), CALLERS["en"])
    call.press()  # loads the commit script once
    for digits in ("1", "1", "2", "*", "", "0"):
        before = CountingConnection.sends
        call.press(digits)
        assert CountingConnection.sends - before == 2, digits
