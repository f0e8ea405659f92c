"""Malformed and forged requests to every gateway endpoint: a 4xx (or a 200 with help), never a 500."""

from __future__ import annotations

import io
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import conversation

ENDPOINTS = ["/sms/twilio", "/sms/twilio/status", "/sms/africastalking", "/sms/africastalking/delivery",
             "/ussd/africastalking"]  # fmt: skip
MULTIPART = "multipart/form-data; boundary=B"
FORM = "application/x-www-form-urlencoded"

BODIES = {
    # werkzeug cannot read a field name with a CR or LF in it and names the field None
    "field name with CR/LF": (b'--B\r\nContent-Disposition: form-data; name="From\r\nX"\r\n\r\nv\r\n--B--\r\n',
                              MULTIPART),
    "field name with LF": (b'--B\r\nContent-Disposition: form-data; name="Body\nX"\r\n\r\nv\r\n--B--\r\n', MULTIPART),
    "multipart without boundary": (b"xxx", "multipart/form-data"),
    "multipart cut short": (b"--B\r\nfoo\r\n", MULTIPART),
    "multipart with a file": (b'--B\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nv\r\n--B--\r\n',
                              MULTIPART),
    "not UTF-8": (b"Body=\xff\xfe&From=%2B256712345678&MessageSid=SM1&id=1&from=%2B256712345678", FORM),
    "not UTF-8, escaped": (b"Body=%FF%FE&From=%2B256712345678&text=%FF&id=1&from=%2B256712345678", FORM),
    "NUL": (b"Body=%00&From=%00&MessageSid=%00&id=%00&text=%00&sessionId=%00&phoneNumber=%00", FORM),
    "UTF-16 declared": (b"Body=a", FORM + "; charset=utf-16"),
    "JSON": (b'{"Body": "hi"}', "application/json"),
    "oversized": (b"Body=" + b"a" * 100_000, FORM),
}  # fmt: skip


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("name", BODIES)
def test_malformed_bodies_are_refused_not_crashed_on(client, path, name):
    data, content_type = BODIES[name]
    response = client.post(path, data=data, content_type=content_type, headers={"X-Twilio-Signature": "forged"})
    assert 400 <= response.status_code < 500 or response.status_code == 200, response.data[:200]


@pytest.mark.parametrize("path", ["/sms/twilio", "/sms/twilio/status"])
def test_a_field_name_with_a_line_break_is_a_forgery(client, path):
    data, content_type = BODIES["field name with CR/LF"]
    response = client.post(path, data=data, content_type=content_type, headers={"X-Twilio-Signature": "forged"})
    assert response.status_code == 403


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_without_a_length_is_still_bounded(client, path):
    """gunicorn passes chunked bodies on without a Content-Length: the limit must still hold."""
    response = client.post(path, input_stream=io.BytesIO(b"Body=" + b"a" * 200_000), content_type=FORM,
                           environ_overrides={"wsgi.input_terminated": True})  # fmt: skip
    assert 400 <= response.status_code < 500


def _clean_reference(text: str) -> str:
    """What conversation.clean must give: every category-C character but a tab or line feed becomes a space."""
    text = text[: conversation.LOG_TEXT_MAX]
    return "".join(c if c in "\n\t" or unicodedata.category(c)[0] != "C" else " " for c in text).strip()


@given(st.text(alphabet=st.characters(), max_size=40))
def test_clean_matches_its_definition_for_any_text(text):
    """clean's shortcut for printable text must give what the character-by-character rule gives."""
    assert conversation.clean(text) == _clean_reference(text)


@pytest.mark.parametrize("text", ["hi", " habari ", "नमस्ते", "a\u200bb", "a\x85b", "a\u2028b", "1\t2\n3", "\x00STOP"])
def test_clean_drops_control_and_format_characters(text):
    assert conversation.clean(text) == _clean_reference(text)
