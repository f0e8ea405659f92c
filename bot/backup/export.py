"""Stream a deployment's nouns to JSON lines: a header, one line per key (or chunk of a big key), an end line.

Constant memory at any size: keys come from SCAN in batches, small keys are read a batch
per pipeline, big ones (a group of a million, the opt-out set, the log) in chunks of CHUNK.
Bytes that are not UTF-8 survive the trip (surrogate escapes, written as \\u escapes).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from operator import methodcaller
from typing import TYPE_CHECKING, TextIO

import redis

from bot.backup.nouns import FORMAT, FORMAT_VERSION, NOUNS, Classifier, Noun, Part

if TYPE_CHECKING:
    from bot.store import Store

BATCH = 1000  # keys per pipeline
CHUNK = 1000  # members per line of a big key
SCAN_COUNT = 10_000


def text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def export(store: Store, out: TextIO, *, with_log: bool = False) -> Counter:
    """Write the export to `out`; returns lines written per noun."""
    nouns = tuple(n for n in NOUNS if with_log or not n.log)
    classify = Classifier(nouns)
    counts = Counter(noun.name for _, noun, _ in _keys(store, classify))
    header = {"format": FORMAT, "version": FORMAT_VERSION, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
              time.gmtime()), "prefix": store.keys.prefix, "with_log": with_log, "keys": dict(counts)}  # fmt: skip
    out.write(json.dumps(header) + "\n")
    written: Counter = Counter()
    batch: list[tuple[str, Noun, Part]] = []
    for item in _keys(store, classify):
        if item[2].big:
            for line in _big(store, *item):
                out.write(line)
                written[item[1].name] += 1
            continue
        batch.append(item)
        if len(batch) >= BATCH:
            _small(store, batch, out, written)
            batch = []
    _small(store, batch, out, written)
    out.write(json.dumps({"end": True, "lines": dict(written)}) + "\n")
    return written


def _keys(store: Store, classify: Classifier) -> Iterator[tuple[str, Noun, Part]]:
    prefix = store.keys.prefix
    match = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"
    for raw in store.redis.scan_iter(match=match, count=SCAN_COUNT):
        key = text(raw)[len(prefix) :]
        found = classify(key)
        if found:
            yield key, found[0], found[1]


# One script call per batch of small keys: type, time to live and value of each (redis-py's
# per-command cost, not the server's, is what limits an export of a million keys).
# KEYS: the batch. Returns per key {type, pttl, value} (value: bulk, or a flat array).
_READ = """
local out = {}
for i, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key)['ok']
  local value = false
  if kind == 'string' then value = redis.call('GET', key)
  elseif kind == 'hash' then value = redis.call('HGETALL', key)
  elseif kind == 'set' then value = redis.call('SMEMBERS', key)
  elseif kind == 'zset' then value = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES') end
  out[i] = {kind, redis.call('PTTL', key), value}
end
return out
"""
_decode = methodcaller("decode", "utf-8", "surrogateescape")


def _small(store: Store, batch: list[tuple[str, Noun, Part]], out: TextIO, written: Counter) -> None:
    if not batch:
        return
    prefix = store.keys.prefix
    found = store.script(_READ)(keys=[prefix + key for key, _, _ in batch])
    lines = []
    for (key, noun, part), (kind, ttl, value) in zip(batch, found, strict=True):
        if kind == b"none":
            continue  # deleted since the scan (an invitation that expired)
        _check_type(key, part, kind)
        if part.type == "string":
            value = text(value)
        else:
            value = list(map(_decode, value))
            if part.type == "hash":
                value = dict(zip(value[0::2], value[1::2], strict=True))
            elif part.type == "zset":
                value = [[m, float(s)] for m, s in zip(value[0::2], value[1::2], strict=True)]
        record = {"noun": noun.name, "key": key, "type": part.type, "value": value}
        if ttl > 0:
            record["ttl_ms"] = ttl
        lines.append(json.dumps(record))
        written[noun.name] += 1
    if lines:
        out.write("\n".join(lines) + "\n")


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


def _big(store: Store, key: str, noun: Noun, part: Part) -> Iterator[str]:
    """A big key as lines of up to CHUNK members, numbered from 0 (a list's part 0 replaces it on import)."""
    full = store.keys.prefix + key
    kind = store.redis.type(full)
    if kind == b"none":
        return
    _check_type(key, part, kind)
    ttl = store.redis.pttl(full)
    for n, chunk in enumerate(_chunks(store.redis, full, part.type)):
        record = {"noun": noun.name, "key": key, "type": part.type, "part": n, "value": _encode(part.type, chunk)}
        if ttl > 0:
            record["ttl_ms"] = ttl
        yield json.dumps(record) + "\n"


def _chunks(client: redis.Redis, key: str, kind: str) -> Iterator:
    if kind in ("set", "hash", "zset"):
        scan = {"set": client.sscan, "hash": client.hscan, "zset": client.zscan}[kind]
        cursor = 0
        while True:
            cursor, found = scan(key, cursor, count=CHUNK)
            found = list(found.items()) if isinstance(found, dict) else found
            for start in range(0, len(found), CHUNK):  # COUNT is a hint: a scan may answer more
                yield found[start : start + CHUNK]
            if cursor == 0:
                return
    elif kind == "list":
        start = 0
        while chunk := client.lrange(key, start, start + CHUNK - 1):
            yield chunk
            start += CHUNK
    else:  # stream: pages by id, oldest first
        after = "-"
        while chunk := client.xrange(key, after, "+", count=CHUNK):
            yield chunk
            after = "(" + text(chunk[-1][0])
