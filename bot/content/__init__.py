"""The catalog: topics, key messages, system texts and words loaded from `messages/`, validated.

Files are YAML a health editor can change (see messages/README.md). The package splits the
work: `files` parses and validates one language folder's files, `merge` completes a
translation from English and indexes its words, `loader` reads the whole folder (with the
helplines and symptom routes), `words` matches what people type, `report` warns, `sheet`
takes reviews in and out. `model` holds what they build.
"""

from bot.content.files import COMMANDS, CONFIDENCE, PLACEHOLDERS
from bot.content.loader import NO_NUMBER, check, load
from bot.content.merge import REQUIRED_TEXTS
from bot.content.model import (
    FALLBACK,
    Catalog,
    ContentError,
    Helpline,
    KeyMessage,
    Language,
    Problem,
    SymptomRoute,
    Topic,
)
from bot.content.report import warnings
from bot.content.words import normalise_keyword

__all__ = [
    "COMMANDS", "CONFIDENCE", "FALLBACK", "NO_NUMBER", "PLACEHOLDERS", "REQUIRED_TEXTS", "Catalog", "ContentError",
    "Helpline", "KeyMessage", "Language", "Problem", "SymptomRoute", "Topic", "check", "load", "normalise_keyword",
    "warnings",
]  # fmt: skip
