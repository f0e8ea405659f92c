"""What a broadcast will send and cost, and how far along one is: pure functions for the pages."""

from __future__ import annotations

from bot import segments
from bot.content import Catalog

FINAL = ("done", "cancelled")


def message_text(catalog: Catalog, lang: str, topic_id: str, number: int) -> str:
    """The key message as a recipient of `lang` gets it (what `broadcasts.text_for` sends)."""
    topic = catalog.language(lang).topic(topic_id)
    return segments.smart_encode(topic.messages[number - 1].short)


def preview(catalog: Catalog, topic_id: str, number: int, audience: int) -> dict:
    """The English text with its encoding and segments, every language's cost, and the total estimate."""
    english = message_text(catalog, "en", topic_id, number)
    count = segments.count(english)
    languages = []
    for code, lang in catalog.languages.items():
        text = message_text(catalog, code, topic_id, number)
        languages.append({"lang": code, "name": lang.name, **segments.count(text).as_dict()})
    return {"text": english, **count.as_dict(), "audience": audience, "cost": audience * count.segments,
            "max_cost": audience * max(x["segments"] for x in languages), "languages": languages}  # fmt: skip


def percent(figures: dict[str, int], status: str) -> int:
    """Recipients handled (sent, failed, excluded at send time, unknown) out of those planned."""
    handled = sum(figures[k] for k in ("sent", "failed", "opted_out", "invalid", "unknown"))
    if figures["planned"] == 0:
        return 100 if status in FINAL else 0
    return min(100, handled * 100 // figures["planned"])
