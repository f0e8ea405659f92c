"""Read an export back: every line validated (an error names the line), then written into a prefix.

Writing is idempotent: hashes, sets and sorted sets are written member by member, strings
replaced, a list's part 0 replaces the list, a stream skips entries it already holds; running
the same import twice changes nothing. Into a prefix that holds data, only with `merge`
(the file wins for every key it carries).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING

import orjson
import redis

from bot.backup import wire
from bot.backup.export import scan
from bot.backup.nouns import BY_NAME, FORMAT, FORMAT_VERSION, NOUNS, TYPES, Classifier, KeyMatcher

if TYPE_CHECKING:
    from bot.store import Store

BATCH_BYTES = 1 << 20  # of lines per round trip (about 4,000 people)


class RestoreError(ValueError):
    """The file cannot be imported; the message names the line and what is wrong."""


def _raw(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


def read_header(line: str) -> dict:
    try:
        header = json.loads(line)
    except ValueError:
        raise RestoreError("line 1: not JSON: is this a factsbot export?") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RestoreError(f"line 1: not a {FORMAT} header")
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise RestoreError("line 1: the header has no format version")
    if version > FORMAT_VERSION:
        raise RestoreError(f"line 1: format version {version} is newer than this factsbot reads ({FORMAT_VERSION}): "
                           "import it with the release that wrote it, or a newer one")  # fmt: skip
    return header


_CLASSIFY = Classifier(NOUNS)


def loads(line: str):
    """orjson, or the standard library for what orjson refuses (surrogate escapes: bytes that were
    not UTF-8; Infinity) and for its clearer error message."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def check(number: int, line: str) -> dict:
    """One line of records, parsed and checked, or RestoreError naming the line."""
    try:
        record = loads(line)
    except ValueError as e:
        raise RestoreError(f"line {number}: not JSON ({e.msg})") from None
    if not isinstance(record, dict):
        raise RestoreError(f"line {number}: expected an object")
    if record.get("end") is True:
        return record
    noun, key, kind = record.get("noun"), record.get("key"), record.get("type")
    if noun not in BY_NAME:
        raise RestoreError(f"line {number}: unknown noun {noun!r}")
    if not isinstance(key, str) or not key:
        raise RestoreError(f"line {number}: no key")
    found = _CLASSIFY(key)
    if found is None or found[0].name != noun:
        raise RestoreError(f"line {number}: {key!r} is not a key of {noun}")
    if kind not in TYPES or kind != found[1].type:
        raise RestoreError(f"line {number}: {key!r} must be a {found[1].type}, not {kind!r}")
    problem = _value_problem(kind, record.get("value"))
    if problem:
        raise RestoreError(f"line {number}: {key!r}: {problem}")
    ttl, part = record.get("ttl_ms", 0), record.get("part", 0)
    if not isinstance(ttl, int) or ttl < 0 or not isinstance(part, int) or part < 0:
        raise RestoreError(f"line {number}: ttl_ms and part must be whole numbers")
    return record


NUMBERS = {int, float}  # not bool


def strings(items) -> bool:
    return set(map(type, items)) <= {str}  # JSON makes no subclasses of str: the exact type will do


def _value_problem(kind: str, value) -> str:
    if kind == "string":
        return "" if isinstance(value, str) else "the value must be a string"
    if kind == "hash":
        return "" if isinstance(value, dict) and strings(value.values()) else "the value must map names to strings"
    if kind in ("set", "list"):
        return "" if isinstance(value, list) and strings(value) else "the value must be a list of strings"
    if kind == "zset":
        ok = isinstance(value, list) and set(map(type, value)) <= {list} and set(map(len, value)) <= {2}
        ok = ok and strings(map(itemgetter(0), value)) and set(map(type, map(itemgetter(1), value))) <= NUMBERS
        return "" if ok else "the value must be a list of [member, score]"
    ok = isinstance(value, list) and all(
        isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], dict)
        and strings(e[1].values()) for e in value)  # fmt: skip
    return "" if ok else "the value must be a list of [id, {field: value}]"


def records(lines: Iterable[str]) -> Iterator[tuple[str, dict]]:
    """(line, record) of every line after the header; RestoreError naming the first bad one."""
    ended = False
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        if ended:
            raise RestoreError(f"line {number}: more lines after the end line")
        record = check(number, line)
        ended = record.get("end") is True
        yield line, record
    if not ended:
        raise RestoreError("the file ends before its end line: it was cut short")


def validate_file(lines: Iterable[str]) -> dict:
    """Check a whole file without writing (the header, then every line); returns the header."""
    lines = iter(lines)
    header = read_header(next(lines, ""))
    for _ in records(lines):
        pass
    return header


def holds_data(store: Store) -> bool:
    """Whether any key an export carries exists under this prefix."""
    classify = KeyMatcher(store.keys.prefix)
    return any(any(map(classify, raws)) for raws in scan(store))


def restore(store: Store, lines: Iterable[str], *, merge: bool = False, checked: bool = False) -> Counter:
    """Import an export into `store`'s prefix; returns lines written per noun.

    `checked`: the file has passed `validate_file` already, so lines are only parsed.
    """
    lines = iter(lines)
    read_header(next(lines, ""))
    if not merge and holds_data(store):
        raise RestoreError(f"the prefix {store.keys.prefix!r} already holds data: import into an empty one, "
                           "or use --merge (the file wins for every key it carries)")  # fmt: skip
    written: Counter = Counter()
    commands: list[tuple] = []
    size = 0
    parsed = ((line, loads(line)) for line in lines if line.strip()) if checked else records(lines)
    for line, record in parsed:
        if record.get("end"):
            continue  # the last line: records() refuses any after it
        # Surrogate escapes (bytes that were not UTF-8) and pairs only: the rest goes to the server as it is.
        raw = _raw if "\\ud" in line else _same
        _write(commands, store.keys.prefix + record["key"], record, raw)
        written[record["noun"]] += 1
        size += len(line)
        if size >= BATCH_BYTES:
            _flush(store, commands)
            commands, size = [], 0
    _flush(store, commands)
    return written


def _same(value: str) -> str:
    return value


def _write(commands: list[tuple], key: str, record: dict, raw) -> None:
    kind, value, part = record["type"], record["value"], record.get("part", 0)
    if kind == "string":
        commands.append(("SET", key, raw(value)))
    elif kind == "hash" and value:
        fields = chain.from_iterable(value.items())
        commands.append(("HSET", key, *(fields if raw is _same else map(raw, fields))))
    elif kind == "set" and value:
        commands.append(("SADD", key, *map(raw, value)))
    elif kind == "zset" and value:
        commands.append(("ZADD", key, *chain.from_iterable((s, raw(m)) for m, s in value)))
    elif kind == "list":
        if part == 0:
            commands.append(("DEL", key))
        if value:
            commands.append(("RPUSH", key, *map(raw, value)))
    elif kind == "stream":
        for entry_id, fields in value:
            commands.append(("XADD", key, entry_id, *(raw(s) for s in chain.from_iterable(fields.items()))))
    if record.get("ttl_ms"):
        commands.append(("PEXPIRE", key, record["ttl_ms"]))


def _flush(store: Store, commands: list[tuple]) -> None:
    for answer in wire.run(store.redis, commands):
        # An entry the stream already holds (this import, run again): the one error that means "done".
        if isinstance(answer, redis.ResponseError) and "equal or smaller" not in str(answer):
            raise answer
