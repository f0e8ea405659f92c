"""The review sheet: key messages out to a reviewer as CSV, and their sign-off back into the YAML files.

`factsbot content sheet` writes one row per key message (UTF-8 with a BOM, so spreadsheet
programs read the accents and scripts right). The reviewer fills in reviewed_by (and
reviewed_on, else today is used); `factsbot content signoff` records them in the language's
topic files, only for rows whose text is still the text in the files. The files are edited
line by line, so their comments and layout stay as the editors wrote them, and every edit
is checked by reading the file back.
"""

from __future__ import annotations

import csv
import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import yaml

from bot.content.files import iso_date
from bot.content.model import FALLBACK, Catalog

COLUMNS = ("id", "topic", "english_short", "english_detail", "short", "detail", "source", "confidence",
           "review_note", "reviewed_by", "reviewed_on")  # fmt: skip
ENCODING = "utf-8-sig"  # UTF-8 with a byte order mark


def rows(catalog: Catalog, code: str) -> list[dict[str, str]]:
    """One row per key message of the language, English beside it."""
    lang, en = catalog.languages[code], catalog.language(FALLBACK)
    found = []
    for topic in lang.topics:
        for m in topic.messages:
            original = en.topic(topic.id).message(m.id) or m
            own = m.lang == code  # else the translation lacks it and this is the English text
            found.append({
                "id": m.id, "topic": topic.id, "english_short": original.short, "english_detail": original.detail,
                "short": m.short, "detail": m.detail, "source": m.source, "confidence": m.confidence,
                "review_note": m.review_note, "reviewed_by": m.reviewed_by if own else "",
                "reviewed_on": m.reviewed_on if own else "",
            })  # fmt: skip
    return found


def write(catalog: Catalog, code: str, out: TextIO) -> int:
    """Write the language's sheet as CSV (open `out` with ENCODING and newline=""); returns the rows written."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    found = rows(catalog, code)
    writer.writerows(found)
    return len(found)


def read(path: str | Path) -> list[dict[str, str]]:
    """A returned sheet's rows (a BOM is optional); raises ValueError if a column is missing."""
    with open(path, encoding=ENCODING, newline="") as f:
        reader = csv.DictReader(f)
        needed = ("id", "short", "detail", "reviewed_by", "reviewed_on")
        missing = [c for c in needed if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: the sheet has no column {', '.join(missing)}")
        return [{k: (v or "") for k, v in row.items() if k} for row in reader]


@dataclass
class Signoff:
    """What a returned sheet does: sign-offs to record by message id, rows refused and why, rows skipped."""

    record: dict[str, tuple[str, str]] = field(default_factory=dict)  # message id -> (reviewed_by, reviewed_on)
    refused: list[str] = field(default_factory=list)
    skipped: int = 0


def plan(catalog: Catalog, code: str, sheet: Iterable[dict[str, str]], today: datetime.date) -> Signoff:
    """Decide each row: recorded only where the sheet's text is still the language's text."""
    lang, result = catalog.languages[code], Signoff()
    for row in sheet:
        message_id, by = row.get("id", "").strip(), " ".join(row.get("reviewed_by", "").split())
        if not by:
            result.skipped += 1
            continue
        found = lang.message(message_id)
        on = iso_date(row.get("reviewed_on", "").strip() or today)
        if found is None:
            result.refused.append(f"{message_id or '(no id)'}: not a key message of {code}")
        elif found[1].lang != code:
            result.refused.append(f"{message_id}: {code} has no text of its own for it yet (the sheet showed English)")
        elif not on:
            result.refused.append(f"{message_id}: reviewed_on {row['reviewed_on']!r} is not a date like 2026-12-01")
        elif _same(row.get("short", ""), found[1].short) and _same(row.get("detail", ""), found[1].detail):
            if (found[1].reviewed_by, found[1].reviewed_on) != (by, on):
                result.record[message_id] = (by, on)
        else:
            result.refused.append(f"{message_id}: the text changed since the sheet was made; send a new sheet")
    return result


def _same(a: str, b: str) -> bool:
    """Equal but for whitespace (spreadsheets rewrap lines and YAML folds them)."""
    return a.split() == b.split()


def apply(folder: str | Path, catalog: Catalog, code: str, record: dict[str, tuple[str, str]]) -> list[Path]:
    """Write the sign-offs into the language's topic files; returns the files changed."""
    folder, lang = Path(folder), catalog.languages[code]
    by_file: dict[Path, dict[str, tuple[str, str]]] = {}
    for message_id, review in record.items():
        topic, _ = lang.message(message_id)
        path = folder.parent / lang.files[topic.id]
        by_file.setdefault(path, {})[message_id] = review
    edited = {}
    for path, reviews in by_file.items():  # every edit is made and checked before any file is written
        text = path.read_bytes().decode("utf-8")  # bytes: line endings stay as they are
        for message_id, (by, on) in reviews.items():
            text = set_review(text, message_id, by, on)
        edited[path] = text
    for path, text in edited.items():
        path.write_bytes(text.encode("utf-8"))
    return sorted(edited)


_ITEM = r"^(?P<dash>[ ]*)-(?P<gap>[ ]+)id:[ ]*(?P<q>['\"]?){id}(?P=q)[ ]*(#.*)?\r?$"


def set_review(text: str, message_id: str, by: str, on: str) -> str:
    """The file's text with one message's reviewed_by/reviewed_on set, nothing else changed.

    Raises ValueError if the message is not found as a block-style list item, or if the
    file read back differs in anything but those two fields.
    """
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(_ITEM.format(id=re.escape(message_id)), line)), None)
    if start is None:
        raise ValueError(f"{message_id}: no line '- id: {message_id}' to sign off under")
    match = re.match(_ITEM.format(id=re.escape(message_id)), lines[start])
    indent = len(match["dash"]) + 1 + len(match["gap"])
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) >= indent):
        end += 1
    item = [line for line in _without_review(lines[start + 1 : end], indent)]
    last = max((i for i, line in enumerate(item) if line.strip()), default=-1) + 1
    newline = "\r\n" if lines[start].endswith("\r\n") else "\n"
    added = [f"{' ' * indent}reviewed_by: {json.dumps(by, ensure_ascii=False)}{newline}",
             f"{' ' * indent}reviewed_on: {on}{newline}"]  # fmt: skip
    if last and not item[last - 1].endswith(("\n", "\r")):
        item[last - 1] += newline
    edited = "".join(lines[: start + 1] + item[:last] + added + item[last:] + lines[end:])
    _check_edit(text, edited, message_id, by, on)
    return edited


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _without_review(item: list[str], indent: int) -> list[str]:
    """The item's lines without an earlier reviewed_by/reviewed_on (and any continuation lines of theirs)."""
    kept, dropping = [], False
    for line in item:
        at_key = line.strip() and _indent(line) == indent
        if at_key:
            dropping = bool(re.match(r"reviewed_(by|on):", line.strip()))
        if not dropping:
            kept.append(line)
    return kept


def _check_edit(before: str, after: str, message_id: str, by: str, on: str) -> None:
    """The edited file must read back as the old one with only this message's review changed."""
    old, new = yaml.safe_load(before), yaml.safe_load(after)
    target = _find(new, message_id)
    if target is None or target.get("reviewed_by") != by or iso_date(target.get("reviewed_on")) != on:
        raise ValueError(f"{message_id}: could not write the sign-off safely into this file; add it by hand")
    before_item = _find(old, message_id)
    if before_item is not None:
        before_item["reviewed_by"], before_item["reviewed_on"] = target["reviewed_by"], target["reviewed_on"]
    if old != new:
        raise ValueError(f"{message_id}: signing off would change more than reviewed_by/reviewed_on; add it by hand")


def _find(data, message_id: str) -> dict | None:
    messages = data.get("messages") if isinstance(data, dict) else None
    return next((m for m in messages or () if isinstance(m, dict) and m.get("id") == message_id), None)
