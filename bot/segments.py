"""SMS length: encoding, units and segments as carriers count them, smart encoding, splitting.

Pure functions only. The rules (GSM 03.38, as Twilio's segment calculator applies them):
GSM-7 carries 160 septets in one SMS and 153 per part once concatenated; an extension
character costs 2 septets. Anything outside GSM-7 switches the whole text to UCS-2:
70 UTF-16 code units alone, 67 per part. No character (escape pair, surrogate pair,
grapheme cluster) ever straddles two parts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import regex

GSM7 = "GSM-7"
UCS2 = "UCS-2"

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[]~|€")

SINGLE = {GSM7: 160, UCS2: 70}
CONCATENATED = {GSM7: 153, UCS2: 67}

# Typographic characters and the GSM-7 text that replaces them, as smart encoding does.
# Chosen so one stray curly quote or long dash cannot double a message's cost.
_SMART = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u0060\u00b4", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043", "-"),
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": "-",
    "\u2039": "<",
    "\u203a": ">",
    "\u02c6": "^",
    "\u02dc": "~",
    "\u00d7": "x",
    "\u00f7": "/",
    "\u2044": "/",
    "\u00a9": "(c)",
    "\u00ae": "(R)",
    "\u2122": "TM",
    "\u00bd": "1/2",
    "\u00bc": "1/4",
    "\u00be": "3/4",
    **dict.fromkeys("\u00a0\u1680\u202f\u205f\u3000\u0009\u000b", " "),
    **dict.fromkeys(map(chr, range(0x2000, 0x200B)), " "),
    # Invisible characters: no meaning on a handset, but each forces UCS-2.
    **dict.fromkeys("\u00ad\u200b\u2060\ufeff", ""),
    "\u2028": "\n",
    "\u2029": "\n",
}
_SMART_TABLE = str.maketrans(_SMART)


@dataclass(frozen=True)
class Count:
    """How a text is billed: encoding, length in the units that count, and segments."""

    encoding: str
    units: int
    segments: int

    def as_dict(self) -> dict:
        return {"encoding": self.encoding, "units": self.units, "segments": self.segments}


def smart_encode(text: str) -> str:
    """Replace typographic punctuation and odd spaces with their GSM-7 equivalents."""
    return text.translate(_SMART_TABLE)


def transliterate(text: str) -> str:
    """Letters outside GSM-7 become their nearest GSM-7 letter (ê -> e, ç -> c, œ -> oe).

    For Latin-script languages, so one accent does not switch a message to UCS-2 and
    halve what it can carry. Letters GSM-7 has (é, è, à, ñ, ü ...) are kept.
    """
    if is_gsm7(text):
        return text
    out = []
    for c in text:
        if c in GSM7_BASIC or c in GSM7_EXTENSION:
            out.append(c)
        elif c in _LIGATURES:
            out.append(_LIGATURES[c])
        else:
            base = unicodedata.normalize("NFD", c)[0]
            out.append(base if base in GSM7_BASIC and base.isalpha() else c)
    return "".join(out)


_LIGATURES = {"œ": "oe", "Œ": "OE", "ĳ": "ij", "Ĳ": "IJ"}


def smart_changes(text: str) -> list[str]:
    """The characters of `text` that smart encoding would change, in order of first use."""
    return list(dict.fromkeys(c for c in text if c in _SMART))


# Compiled character classes: counting runs on every reply, so it must not loop in Python.
_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC | GSM7_EXTENSION))) + "]")
_EXTENSION = re.compile("[" + re.escape("".join(sorted(GSM7_EXTENSION))) + "]")


def is_gsm7(text: str) -> bool:
    return _NOT_GSM7.search(text) is None


def non_gsm7(text: str) -> list[str]:
    """The characters of `text` outside GSM-7, in order of first use."""
    return list(dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION))


def encoding_of(text: str) -> str:
    return GSM7 if is_gsm7(text) else UCS2


def clusters(text: str) -> list[str]:
    """User-perceived characters: what must never be split across two SMS parts."""
    return regex.findall(r"\X", text)


def _atoms(text: str, encoding: str) -> list[str]:
    # GSM-7 has no combining marks, and carriers split "\r\n" like any two septets.
    return list(text) if encoding == GSM7 else clusters(text)


def units(text: str) -> int:
    """Length of `text` in the units that count: septets, or UTF-16 code units."""
    return _cost(text, encoding_of(text))


def count(text: str) -> Count:
    """Encoding, units and segments of `text`, exactly as sent (no smart encoding)."""
    encoding = encoding_of(text)
    units = _cost(text, encoding)
    if units <= SINGLE[encoding]:
        return Count(encoding, units, 1 if units else 0)
    costs = [_cost(c, encoding) for c in _atoms(text, encoding)]
    return Count(encoding, units, _pack(costs, CONCATENATED[encoding]))


def _pack(costs: list[int], capacity: int) -> int:
    """Parts needed when items of these costs are packed in order, none straddling."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > capacity:
            parts, used = parts + 1, 0
        used += cost
    return parts


def capacity(encoding: str, segments: int) -> int:
    """Units that fit in one SMS billed as at most `segments` segments."""
    if segments <= 1:
        return SINGLE[encoding]
    return CONCATENATED[encoding] * segments


@dataclass(frozen=True)
class Split:
    """A reply cut to fit: the parts to send now, and the text that waits behind MORE."""

    parts: tuple[str, ...]
    rest: str = ""


_WORDS = re.compile(r"\S+\s*")


def split(
    text: str,
    *,
    budget: int = 1,
    max_parts: int = 3,
    more_marker: str = "",
    limits: Mapping[str, int] | None = None,
    marker_sep: str = " ",
) -> Split:
    """Cut `text` into at most `max_parts` SMS that each cost at most `budget` segments.

    Cuts fall between words; a word is cut only when it alone exceeds a part. When
    there are several parts each starts with its number ("1/3 "), which counts toward
    the budget. Text that does not fit waits in `rest`, and the last part then ends
    with `more_marker` (after `marker_sep`).

    Each part is its own SMS, so each is measured in its own encoding: one "ç" makes its
    part UCS-2 (70) without shrinking the GSM-7 parts around it (160). `limits` gives the
    units per part for each encoding (e.g. a USSD screen's 182 and 80; by default `budget`
    segments); a single entry sends every part in that encoding.
    """
    if limits is None:
        limits = {GSM7: capacity(GSM7, budget), UCS2: capacity(UCS2, budget)}
    return _remembered(text, tuple(limits.items()), max_parts, more_marker, marker_sep)


# Replies repeat (the same key messages, menu pages and system texts, for every person), and a
# split is a pure function of its arguments returning an immutable Split: each worker process
# remembers the latest ones instead of cutting the same text again on every message.
@lru_cache(maxsize=4096)
def _remembered(text: str, limits: tuple[tuple[str, int], ...], max_parts: int, more_marker: str,
                marker_sep: str) -> Split:  # fmt: skip
    return compute_split(text, dict(limits), max_parts, more_marker, marker_sep)


def compute_split(text: str, limits: Mapping[str, int], max_parts: int, more_marker: str, marker_sep: str) -> Split:
    """`split` without remembering: the work itself (see `split` for what it does)."""
    text = text.strip()
    if not text:
        return Split(())
    whole = _encoding_in(text + more_marker, limits)
    if whole == GSM7:
        limits = {GSM7: limits[GSM7]}  # every part of a GSM-7 text is GSM-7: skip the per-part checks
    if limits[whole] < 20 + _cost(more_marker, whole):
        raise ValueError("an SMS part this small cannot carry a numbered reply")
    alone = _encoding_in(text, limits)  # a text that fits one part carries no MORE marker
    if _cost(text, alone) <= limits[alone]:
        return Split((text,))
    # The number prefix's width depends on the number of parts; settle it by iterating.
    total = min(2, max_parts)
    while True:
        parts, rest = _fill(text, limits, total, max_parts, more_marker, marker_sep)
        if len(parts) == total or total >= max_parts and rest:
            break
        total = min(len(parts), max_parts)
    return Split(tuple(parts), rest)


def _encoding_in(text: str, limits: Mapping[str, int]) -> str:
    """The encoding `text` is sent in, or the only one allowed."""
    if len(limits) == 1:
        return next(iter(limits))
    return GSM7 if is_gsm7(text) else UCS2


def _cost(text: str, encoding: str) -> int:
    if encoding == GSM7:
        return len(text) + len(_EXTENSION.findall(text))
    return len(text.encode("utf-16-le")) // 2


def _fill(text, limits, total, max_parts, marker, sep):
    words = _WORDS.findall(text)
    parts: list[str] = []
    i = 0
    while i < len(words):
        number = len(parts) + 1
        prefix = f"{number}/{total} " if total > 1 else ""
        last = number == max_parts
        tail = sep + marker if last and marker else ""
        rooms = {enc: room - _cost(prefix + tail, enc) for enc, room in limits.items()}
        body, i = _take(words, i, rooms, tail)
        if last and i < len(words):
            parts.append(prefix + body + (sep + marker if marker else ""))
            return parts, "".join(words[i:]).strip()
        parts.append(prefix + body)
    if len(parts) == 1 and total > 1:
        # It fitted in one part after all (only possible when the caller's total was off).
        parts = [parts[0].split(" ", 1)[1]]
    return parts, ""


def _take(words: list[str], i: int, rooms: Mapping[str, int], tail: str) -> tuple[str, int]:
    """Take whole words from words[i:] while the part fits its encoding's room; cut a word only if alone.

    With two encodings allowed, a part is GSM-7 until a word (or `tail`, the MORE marker
    of a last part) needs UCS-2. When the part ends mid-text and a line break falls in its
    second half, the cut moves back to that line break, so menu lines are not torn in two.
    """
    mixed = len(rooms) > 1
    enc = (GSM7 if is_gsm7(tail) else UCS2) if mixed else next(iter(rooms))
    body, line_end = "", None
    used = dict.fromkeys(rooms, 0)  # the body's cost in each encoding it may still be sent in
    start = i
    while i < len(words):
        word = words[i]
        bare = word.rstrip()
        need = UCS2 if mixed and enc == GSM7 and not is_gsm7(bare) else enc
        if used[need] + _cost(bare, need) <= rooms[need]:
            body += word
            enc = UCS2 if mixed and need == GSM7 and not is_gsm7(word) else need
            if mixed and enc == GSM7:
                used[UCS2] += _cost(word, UCS2)  # in case a later word makes the part UCS-2
            used[enc] += _cost(word, enc)  # a part that is UCS-2 stays UCS-2
            i += 1
            if "\n" in word[len(bare) :]:
                line_end = (len(body), i, dict(used))
            continue
        if not body:
            head, rest = _cut(bare, need, rooms[need])
            words[i] = rest + word[len(bare) :]
            return head, i
        break
    if i < len(words) and line_end and line_end[1] > start and line_end[2][enc] * 2 >= rooms[enc]:
        return body[: line_end[0]].rstrip(), line_end[1]
    return body.rstrip(), i


def _cut(word: str, enc: str, room: int) -> tuple[str, str]:
    """Cut an over-long word at a cluster boundary so the head fits in `room`."""
    head, used = "", 0
    pieces = _atoms(word, enc)
    if _cost(pieces[0], enc) > room:
        # A single cluster larger than a part (e.g. hundreds of stacked accents):
        # breaking it is the only way to send it at all.
        pieces = list(word)
    for n, piece in enumerate(pieces):
        cost = _cost(piece, enc)
        if used + cost > room:
            return head, "".join(pieces[n:])
        head += piece
        used += cost
    return head, ""
