"""Stream a deployment's nouns to JSON lines: a header, one line per key (or chunk of a big key), an end line.

Constant memory at any size: keys come from SCAN in batches, small keys are read a batch
per pipeline, big ones (a group of a million, the opt-out set, the log) in chunks of CHUNK.
Bytes that are not UTF-8 survive the trip (surrogate escapes, written as \\u escapes).
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Iterator
from math import isfinite
from operator import itemgetter
from typing import IO, TYPE_CHECKING

import orjson
import redis

from bot.backup import wire
from bot.backup.nouns import FORMAT, FORMAT_VERSION, NOUNS, KeyMatcher, Noun, Part

if TYPE_CHECKING:
    from bot.store import Store

BATCH = 2000  # small keys per round trip
CHUNK = 1000  # members per line of a big key
BIG_SCAN = 10 * CHUNK  # members asked of the server at a time (then cut into lines of CHUNK)
SCAN_COUNT = 10_000


def text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def dumps(record: dict) -> bytes:
    """One line. orjson, except for what it cannot write as the format wants: text that was not
    UTF-8 (surrogate escapes) and infinite scores (orjson would write null)."""
    try:
        if record.get("type") != "zset" or all(map(isfinite, map(itemgetter(1), record["value"]))):
            return orjson.dumps(record)
    except orjson.JSONEncodeError:
        pass
    return json.dumps(record).encode()


def export(store: Store, out: IO, *, with_log: bool = False) -> Counter:
    """Write the export to `out` (a binary or text stream); returns lines written per noun."""
    write = (lambda b: out.write(b.decode())) if isinstance(out, io.TextIOBase) else out.write  # noqa: E731
    nouns = tuple(n for n in NOUNS if with_log or not n.log)
    classify = KeyMatcher(store.keys.prefix, nouns)
    counts = _count(store, classify)
    header = {"format": FORMAT, "version": FORMAT_VERSION, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
              time.gmtime()), "prefix": store.keys.prefix, "with_log": with_log, "keys": dict(counts)}  # fmt: skip
    write(dumps(header) + b"\n")
    written: Counter = Counter()
    small: list[tuple[bytes, Noun, Part]] = []
    for batch in _keys(store, classify):
        for item in batch:
            if item[2].big:
                _big(store, *item, write, written)
            else:
                small.append(item)
        while len(small) >= BATCH:
            write(_small(store, small[:BATCH], written))
            small = small[BATCH:]
    write(_small(store, small, written))
    write(dumps({"end": True, "lines": dict(written)}) + b"\n")
    return written


def scan(store: Store) -> Iterator[list[bytes]]:
    """Every key under the prefix (raw), a SCAN batch at a time."""
    match, cursor = _match(store.keys.prefix), 0
    while True:
        cursor, raws = store.redis.scan(cursor, match=match, count=SCAN_COUNT)
        yield raws
        if cursor == 0:
            return


def _keys(store: Store, classify: KeyMatcher) -> Iterator[list[tuple[bytes, Noun, Part]]]:
    """Exported keys (raw, with the prefix), a SCAN batch at a time."""
    for raws in scan(store):
        yield [(raw, *found) for raw, found in zip(raws, map(classify, raws), strict=True) if found]


def _count(store: Store, classify: KeyMatcher) -> Counter:
    """Exported keys per noun, for the header: a SCAN pass that only names each key's part."""
    by_group: Counter = Counter()
    for raws in scan(store):
        by_group.update(map(classify.group, raws))
    by_group.pop(None, None)
    counts: Counter = Counter()
    for group, n in by_group.items():
        counts[classify.found[group][0].name] += n
    return counts


def _match(prefix: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"


# Small keys are read a command each, known from the key's part, with its time to live (a script
# doing the same costs the server more than twice as much: its replies go through Lua tables).
# A key deleted since the scan reads empty (Redis keeps no empty hash, set or sorted set).
_READ = {"string": ("GET",), "hash": ("HGETALL",), "set": ("SMEMBERS",), "zset": ("ZRANGE", 0, -1, "WITHSCORES")}


def _small(store: Store, items: list[tuple[bytes, Noun, Part]], written: Counter) -> bytes:
    """The lines of a batch of small keys, read in one round trip (values decoded by hiredis, in C)."""
    commands = []
    for raw, _, part in items:
        commands += ((*_READ[part.type], raw), ("PTTL", raw))
    replies = wire.run(store.redis, commands, decode=True)
    cut, lines = len(store.keys.prefix.encode()), []
    for (raw, noun, part), value, ttl in zip(items, replies[0::2], replies[1::2], strict=True):
        if isinstance(value, redis.ResponseError):
            _check_type(text(raw[cut:]), part, store.redis.type(raw))
        if not value:
            continue  # deleted since the scan (an invitation that expired)
        kind = part.type
        if kind == "hash":
            if not isinstance(value, dict):  # RESP2: name, value, name, value...
                value = iter(value)
                value = dict(zip(value, value, strict=False))
        elif kind == "zset":
            if not isinstance(value[0], list):  # RESP2: member, score as text...
                value = iter(value)
                value = [[m, float(s)] for m, s in zip(value, value, strict=False)]
        elif kind == "set" and not isinstance(value, list):
            value = list(value)
        record = {"noun": noun.name, "key": text(raw[cut:]), "type": kind, "value": value}
        if ttl > 0:
            record["ttl_ms"] = ttl
        lines.append(dumps(record))
        written[noun.name] += 1
    return b"\n".join(lines) + b"\n" if lines else b""


def _check_type(key: str, part: Part, kind: bytes) -> None:
    if kind.decode() != part.type:
        # Data this version does not know how to back up: say so rather than leave it out silently.
        raise redis.DataError(f"{key} is a {kind.decode()}, but factsbot's export expects a {part.type} there")


def _encode(kind: str, value):
    if kind == "string":
        return text(value)
    if kind == "hash":
        return {text(k): text(v) for k, v in (value.items() if isinstance(value, dict) else value)}
    if kind == "set":
        return sorted(text(m) for m in value)
    if kind == "zset":
        return [[text(m), s] for m, s in value]
    if kind == "list":
        return [text(m) for m in value]
    return [[text(i), {text(k): text(v) for k, v in fields.items()}] for i, fields in value]  # stream


def _big(store: Store, raw: bytes, noun: Noun, part: Part, write, written: Counter) -> None:
    """A big key as lines of up to CHUNK members, numbered from 0 (a list's part 0 replaces it on import)."""
    key = text(raw[len(store.keys.prefix.encode()) :])
    kind = store.redis.type(raw)
    if kind == b"none":
        return
    _check_type(key, part, kind)
    ttl, n = store.redis.pttl(raw), 0
    for chunks in _chunks(store.redis, raw, part.type):
        lines = []
        for start in range(0, len(chunks), CHUNK):  # a scan may answer more than asked
            record = {"noun": noun.name, "key": key, "type": part.type, "part": n,
                      "value": _encode(part.type, chunks[start : start + CHUNK])}  # fmt: skip
            if ttl > 0:
                record["ttl_ms"] = ttl
            lines.append(dumps(record))
            n += 1
        write(b"\n".join(lines) + b"\n")
        written[noun.name] += len(lines)


def _chunks(client: redis.Redis, key: bytes, kind: str) -> Iterator[list]:
    """The members of a big key, BIG_SCAN or so at a time (one round trip each)."""
    if kind in ("set", "hash", "zset"):
        scan = {"set": client.sscan, "hash": client.hscan, "zset": client.zscan}[kind]
        cursor = 0
        while True:
            cursor, found = scan(key, cursor, count=BIG_SCAN)
            if found:
                yield list(found.items()) if isinstance(found, dict) else found
            if cursor == 0:
                return
    elif kind == "list":
        start = 0
        while chunk := client.lrange(key, start, start + BIG_SCAN - 1):
            yield chunk
            start += BIG_SCAN
    else:  # stream: pages by id, oldest first
        after = "-"
        while chunk := client.xrange(key, after, "+", count=BIG_SCAN):
            yield chunk
            after = "(" + text(chunk[-1][0])
