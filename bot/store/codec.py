"""Redis replies as Python values: bytes to str, stream rows, JSON documents, a reply's parts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import chain

from bot.store.keys import PARTS_SEPARATOR


# decoded and flat run on every message: map/zip/chain keep their loops in C.
def decoded(raw: Mapping[bytes, bytes]) -> dict[str, str]:
    return dict(zip(map(bytes.decode, raw.keys()), map(bytes.decode, raw.values()), strict=True))


def rows(raw) -> list[tuple[str, dict[str, str]]]:
    """Stream entries as (id, fields)."""
    return [(i.decode(), decoded(f)) for i, f in raw]


def flat(fields: Mapping[str, str]) -> list[str]:
    """A mapping as Redis takes it in a command or a script's ARGV: name, value, name, value..."""
    return list(chain.from_iterable(fields.items()))


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
