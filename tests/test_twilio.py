"""POST /sms/twilio over the Flask test client against a real Redis."""

from __future__ import annotations

import threading

import pytest

from bot.app import ConfigurationError, create_app
from tests.conftest import BASE_URL, Phone, replies, sign
from tests.storeview import log_entries, stored_keys


def test_a_conversation_end_to_end(phone, services):
    first = phone.text("Hi")
    assert "Welcome to Facts for Life" in first[0]
    assert "1 Timing births" in "\n".join(first)
    malaria = phone.text("10")
    assert services.catalog.language("en").topic("malaria").messages[0].short in malaria[0]
    detail = phone.text("MORE")
    assert services.catalog.language("en").topic("malaria").messages[0].detail[:40] in " ".join(detail)


def test_replies_are_twiml(phone):
    response = phone.post(phone.form("menu"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response><Message>')


def test_unsigned_and_forged_requests_are_refused_and_leave_no_trace(client, services):
    form = Phone(client).form("hi")
    assert client.post("/sms/twilio", data=form).status_code == 403
    forged = client.post(
        "/sms/twilio", data=form, headers={"X-Twilio-Signature": sign(BASE_URL + "/sms/twilio", form, "wrong-token")}
    )
    assert forged.status_code == 403
    tampered = dict(form, Body="STOP")
    good_sig = sign(BASE_URL + "/sms/twilio", form)
    assert client.post("/sms/twilio", data=tampered, headers={"X-Twilio-Signature": good_sig}).status_code == 403
    other_url = sign("https://evil.example.org/sms/twilio", form)
    assert client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": other_url}).status_code == 403
    assert stored_keys(services.store) == []


def test_signature_covers_the_query_string(client):
    phone = Phone(client)
    form = phone.form("hi")
    path = "/sms/twilio?campaign=radio"
    ok = client.post(path, data=form, headers={"X-Twilio-Signature": sign(BASE_URL + path, form)})
    assert ok.status_code == 200
    wrong = client.post(path, data=form, headers={"X-Twilio-Signature": sign(BASE_URL + "/sms/twilio", form)})
    assert wrong.status_code == 403


def test_without_public_base_url_the_request_url_is_checked(config):
    client = create_app({**config, "PUBLIC_BASE_URL": ""}).test_client()
    form = Phone(client).form("hi")
    ok = client.post(
        "/sms/twilio", data=form, headers={"X-Twilio-Signature": sign("http://localhost/sms/twilio", form)}
    )
    assert ok.status_code == 200


def test_a_redelivered_message_neither_advances_nor_changes_the_reply(phone, services):
    phone.text("10")
    form = phone.form("MORE", sid="SM" + "d" * 32)
    first = replies(phone.post(form))
    again = replies(phone.post(form))
    assert first == again
    assert services.store.load(phone.number, services.store.keys.session(phone.number)).state["state"] == "detail"
    following = phone.text("MORE")
    assert "Malaria 2/" in following[0]  # one step on from the detail, not two
    inbound = [f for _, f in log_entries(services.store) if f["direction"] == "in"]
    assert len(inbound) == 3


def test_every_message_is_logged_in_and_out(phone, services):
    phone.text("malaria")
    entries = [f for _, f in reversed(log_entries(services.store))]
    assert entries[0]["direction"] == "in" and entries[0]["text"] == "malaria" and entries[0]["channel"] == "sms"
    assert entries[0]["phone"] == "+256712345678" and entries[0]["message_id"].startswith("SM")
    outs = entries[1:]
    assert outs and all(
        e["direction"] == "out" and e["topic"] == "malaria" and e["message"] == "malaria-1" for e in outs
    )


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "\n\t",
        "😀😀😀",
        "a" * 1600,
        "b " * 5000,
        "MENU\x00\x01\x02",
        "\x00" * 50,
        "\u202e\u200b",
        "<Response>&</Response>",
    ],
)
def test_odd_bodies_get_a_helpful_reply(phone, body):
    phone.text("hi")
    parts = phone.text(body)
    assert parts and all(p.strip() for p in parts)


@pytest.mark.parametrize(
    "raw",
    [
        "MessageSid=SM123abc&From=%2B254712345678&Body=%ZZ%E0%A4%&To=%2B1",
        "MessageSid=SM123abd&From=%2B254712345678&Body=%FF%FE%00&&=&%",
    ],
)
def test_invalid_percent_encoding_is_answered(config, client, raw):
    # A forged request with broken encoding is refused like any other...
    response = client.post(
        "/sms/twilio",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "bogus"},
    )
    assert response.status_code == 403
    # ...and where signatures are not checked, the garbled body still gets a reply.
    dev = create_app({**config, "FACTSBOT_ENV": "development", "TWILIO_AUTH_TOKEN": ""}).test_client()
    response = dev.post("/sms/twilio", data=raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and replies(response)


@pytest.mark.parametrize(
    "change",
    [{"From": ""}, {"MessageSid": ""}, {"From": "not a number"}, {"MessageSid": "SM../../etc"}, {"From": "+1"}],
)
def test_missing_or_malformed_fields_are_a_400(phone, change, services):
    form = {k: v for k, v in {**phone.form("hi"), **change}.items() if v != ""}
    response = phone.post(form)
    assert response.status_code == 400
    assert stored_keys(services.store) == []


def test_an_oversized_request_is_refused_not_crashed(phone):
    form = phone.form("x" * 300_000)
    assert phone.post(form).status_code == 413


def test_concurrent_messages_from_one_number_lose_no_update(app, services):
    """Ten MOREs at once from one phone: each must move the conversation one step."""
    setup = Phone(app.test_client())
    setup.text("emergencies")  # 10 key messages: room for every step
    n = 10
    barrier = threading.Barrier(n)
    results, errors = [], []

    def send():
        phone = Phone(app.test_client())
        form = phone.form("MORE")
        try:
            barrier.wait()
            results.append(replies(phone.post(form)))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=send) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    state = services.store.load(setup.number, services.store.keys.session(setup.number)).state
    # Start: message 1 shown. Ten steps alternate detail / next message: message 6 now shown.
    assert (state["state"], state["index"]) == ("message", 5)
    assert len({tuple(r) for r in results}) == n, "each racer saw a different step"
    inbound = [f for _, f in log_entries(services.store, 200) if f["direction"] == "in"]
    assert len(inbound) == n + 1


def test_redis_down_still_answers_with_an_apology(config):
    app = create_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    client = app.test_client()
    parts = Phone(client).text("hi")
    assert "cannot answer right now" in parts[0]
    assert client.get("/healthz").status_code == 503


def test_healthz_is_200_with_redis_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["redis"] == "up"


@pytest.mark.parametrize("missing", ["TWILIO_AUTH_TOKEN", "SECRET_KEY", "REDIS_URL"])
def test_production_refuses_to_start_without_secrets(config, missing):
    with pytest.raises(ConfigurationError, match=missing):
        create_app({**config, missing: ""})


def test_development_runs_without_a_token(config):
    app = create_app({**config, "FACTSBOT_ENV": "development", "TWILIO_AUTH_TOKEN": "", "SECRET_KEY": ""})
    response = app.test_client().post(
        "/sms/twilio", data={"MessageSid": "SMdev1", "From": "+256712345678", "Body": "hi"}
    )
    assert response.status_code == 200


def test_a_production_deployment_without_twilio_refuses_the_twilio_webhook(config):
    app = create_app({**config, "TWILIO_AUTH_TOKEN": "", "SMS_PROVIDER": "africastalking", "AT_USERNAME": "u",
                      "AT_API_KEY": "k"})  # fmt: skip
    form = {"MessageSid": "SM1", "From": "+256712345678", "Body": "STOP"}
    assert app.test_client().post("/sms/twilio", data=form).status_code == 403
