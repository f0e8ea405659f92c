"""How what people type is matched: normalised words, and phrases found as whole words in a row."""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

Phrase = tuple[str, ...]  # a normalised word or phrase, as its words


_ASCII_PUNCTUATION = str.maketrans(dict.fromkeys(string.punctuation, " "))


# Every inbound text is normalised several times in one turn (commands, danger words, registration),
# and people send the same few words (MORE, NEXT, 2): each process remembers the latest ones.
@lru_cache(maxsize=4096)
def normalise_keyword(text: str) -> str:
    """Uppercase, accents kept, punctuation dropped, spaces collapsed: how input is matched.

    Punctuation is any script's (the Devanagari danda "।" ends a Hindi sentence like "." does).
    """
    text = unicodedata.normalize("NFC", text).upper().translate(_ASCII_PUNCTUATION)
    if not text.isascii():
        text = "".join(" " if _is_punctuation(c) else c for c in text)
    return " ".join(text.split())  # split() breaks at exactly the characters isspace() names


def _is_punctuation(c: str) -> bool:
    return not c.isascii() and unicodedata.category(c).startswith("P")


def phrase(text: str) -> Phrase:
    """A word or phrase as the words it matches ("Not breathing!" -> ("NOT", "BREATHING"))."""
    return tuple(normalise_keyword(text).split())


def phrase_index(phrases: Iterable[Phrase]) -> dict[str, tuple[Phrase, ...]]:
    """Phrases by their first word, so a text is scanned once whatever the number of phrases."""
    index: dict[str, list[Phrase]] = {}
    for p in phrases:
        if p:
            index.setdefault(p[0], []).append(p)
    return {word: tuple(found) for word, found in index.items()}


def longest_phrase(text: str, index: dict[str, tuple[Phrase, ...]]) -> int:
    """How many words the longest indexed phrase found in the text has (0: none is there)."""
    words = normalise_keyword(text).split()
    longest = 0
    for i, word in enumerate(words):
        for p in index.get(word, ()):
            if len(p) > longest and tuple(words[i : i + len(p)]) == p:
                longest = len(p)
    return longest


def find_phrase(text: str, index: dict[str, tuple[Phrase, ...]]) -> bool:
    """Whether one indexed phrase's words appear in the text consecutively, as whole words."""
    words = normalise_keyword(text).split()
    for i, word in enumerate(words):
        for p in index.get(word, ()):
            if tuple(words[i : i + len(p)]) == p:
                return True
    return False
