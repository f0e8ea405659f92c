"""What the content check says beyond problems: warnings that do not stop publishing, and review progress."""

from __future__ import annotations

from collections.abc import Iterable

from bot.content.model import FALLBACK, Catalog, Problem


def warnings(catalog: Catalog, countries: Iterable[str] = ()) -> list[Problem]:
    """Gaps worth fixing before launch; `countries` are those the deployment serves (COUNTRY_LANGUAGES)."""
    found = []
    en = catalog.language(FALLBACK)
    for topic in en.topics:
        if not topic.guidance_checked:
            file = en.files.get(topic.id, f"messages/{FALLBACK}")
            why = "missing: say what was checked, against which current guideline, and when"
            found.append(Problem(file, "guidance_checked", why))
    for country in sorted({c.upper() for c in countries} - set(catalog.helplines)):
        why = "no entry: its people are told to ask a health worker or the police, with no number"
        found.append(Problem("messages/helplines.yaml", f"countries.{country}", why))
    if not en.danger:
        found.append(Problem(f"messages/{FALLBACK}/words.yaml", "danger", "none: no text gets the urgent reply"))
    for name in sorted(set(catalog.symptoms) - set(en.symptoms)):
        why = "missing: symptoms.yaml routes it but no word leads to it"
        found.append(Problem(f"messages/{FALLBACK}/words.yaml", f"symptoms.{name}", why))
    return found
