"""Families' own questions: what counts as one, and the key messages closest to it. Pure.

The closest key messages are found by BM25 (`rank-bm25`, its default k1 and b) over each key
message's topic title, label and keywords, short text and detail in the person's language: a
ranking library, not scoring of our own. Words are folded and function words dropped first
(bot/question_words.py), then cut to a few letters, a crude stemmer that works alike in English,
French, Kiswahili and Hindi ("breastfeeding" and "breastfed" meet; so do "vaccins" and
"vaccination"). bench/questions.py measures it on tests/data/questions.yaml.

Tried and left out (2026-12): Snowball stemming for English and French (snowballstemmer) gained
on the questions it was tried on and lost as much on the held-out ones; BM25's k1 and b, and the
BM25L/BM25+ variants, moved the figures by a question or two either way: the defaults are kept.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from bot.content import Language, Topic
from bot.question_words import fold, stopwords

# A text of at least this many words that is no command, keyword or number is a question
# ("my baby has a rash"); shorter ones ("hello there") still get the hint toward the menu.
MIN_WORDS = 4
# Letters a word is cut to before it is compared (see the module's docstring).
STEM = 6
# At most this many question words are read: a question is a sentence or two, not a letter.
MAX_WORDS = 60
_INDEXES = 16  # languages' indexes kept (a publish of content makes new Language objects)


@dataclass(frozen=True)
class Match:
    topic: Topic
    index: int  # the key message within the topic
    score: float


def is_question(text: str) -> bool:
    """Long enough to be someone's own question rather than a mistyped command (or one word pasted over)."""
    return len(set(words(text))) >= MIN_WORDS


def words(text: str) -> list[str]:
    """Lower-case words, any script's punctuation and symbols dropped, accents and vowel signs kept."""
    text = unicodedata.normalize("NFC", text).casefold()
    kept = "".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in text)
    return kept.split()[:MAX_WORDS]


def terms(text: str, code: str = "en") -> list[str]:
    """What BM25 compares: folded words of two letters or more but the language's function words,
    cut to STEM letters (bot/question_words.py)."""
    drop = stopwords(code)
    return [w[:STEM] for w in map(fold, words(text)) if len(w) > 1 and w not in drop]


class Index:
    """One language's key messages, ready to be ranked against a question."""

    def __init__(self, lang: Language):
        self.code = lang.code
        self.places: list[tuple[Topic, int]] = []
        documents = []
        for topic in lang.topics:
            for i, message in enumerate(topic.messages):
                self.places.append((topic, i))
                keywords = " ".join(map(str, topic.keywords))
                text = f"{topic.title} {topic.label} {keywords} {message.short} {message.detail}"
                documents.append(terms(text, lang.code))
        self.bm25 = BM25Okapi(documents) if documents else None

    def closest(self, question: str, k: int) -> list[Match]:
        """The `k` best key messages with anything in common with `question`, best first."""
        query = terms(question, self.code)
        if self.bm25 is None or not query:
            return []
        scores = self.bm25.get_scores(query)
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [Match(*self.places[i], float(scores[i])) for i in ranked[:k] if scores[i] > 0]


_cache: OrderedDict[int, tuple[Language, Index]] = OrderedDict()
_lock = threading.Lock()


def index(lang: Language) -> Index:
    """The language's index, built once per loaded content (Language objects are replaced on publish)."""
    with _lock:
        found = _cache.get(id(lang))
        if found is not None and found[0] is lang:
            _cache.move_to_end(id(lang))
            return found[1]
    built = Index(lang)
    with _lock:
        _cache[id(lang)] = (lang, built)  # the Language is kept with it, so its id cannot be reused meanwhile
        while len(_cache) > _INDEXES:
            _cache.popitem(last=False)
    return built


def closest(lang: Language, question: str, k: int = 3) -> list[Match]:
    return index(lang).closest(question, k)
