"""Channel edges: one blueprint per gateway, all running the same conversation."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import Response

from bot import phones


def caller(form: Mapping[str, str], id_field: str, phone_field: str, pattern: re.Pattern,
           region: str) -> tuple[str, str] | None:  # fmt: skip
    """An inbound callback's id and E.164 number, or None when either is missing or malformed."""
    ident = form.get(id_field, "").strip()
    phone = phones.normalise(form.get(phone_field, ""), region)
    return (ident, phone) if pattern.match(ident) and phone is not None else None


def plain(text: str, status: int = 200) -> Response:
    """A plain-text answer: what a gateway's webhook gets when it sent something wrong, or should retry."""
    return Response(text, status, mimetype="text/plain")
