"""Redis replies as Python values: bytes to str, stream rows, JSON documents, a reply's parts."""

from __future__ import annotations

import json
from collections.abc import Mapping

from bot.store.keys import PARTS_SEPARATOR


def decoded(raw: Mapping[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def rows(raw) -> list[tuple[str, dict[str, str]]]:
    """Stream entries as (id, fields)."""
    return [(i.decode(), decoded(f)) for i, f in raw]


def flat(fields: Mapping[str, str]) -> list[str]:
    """A mapping as Redis takes it in a command or a script's ARGV: name, value, name, value..."""
    return [x for kv in fields.items() for x in kv]


def document(raw: bytes | None) -> dict | None:
    """A JSON object stored under a key, or None (absent, or not a JSON object)."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def parts(raw: bytes) -> tuple[str, ...]:
    """A reply's SMS parts as a dedupe marker keeps them."""
    text = raw.decode()
    return tuple(text.split(PARTS_SEPARATOR)) if text else ()
