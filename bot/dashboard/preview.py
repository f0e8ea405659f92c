"""What a broadcast will send and cost, and how far along one is: pure functions for the pages."""

from __future__ import annotations

from bot import segments
from bot.broadcasts import key_message_text
from bot.content import Catalog

FINAL = ("done", "cancelled")


def preview(catalog: Catalog, topic_id: str, number: int, audience: int) -> dict:
    """The English text with its encoding and segments, every language's cost, and the total estimate."""
    message_id = catalog.language("en").topic(topic_id).messages[number - 1].id
    english = key_message_text(catalog, "en", topic_id, message_id)
    count = segments.count(english)
    languages = []
    for code, lang in catalog.languages.items():
        text = key_message_text(catalog, code, topic_id, message_id)
        languages.append({"lang": code, "name": lang.name, **segments.count(text).as_dict()})
    return {"text": english, **count.as_dict(), "audience": audience, "cost": audience * count.segments,
            "max_cost": audience * max(x["segments"] for x in languages), "languages": languages}  # fmt: skip


def percent(figures: dict[str, int], status: str) -> int:
    """Recipients handled (sent, failed, excluded at send time, unknown) out of those planned."""
    handled = sum(figures[k] for k in ("sent", "failed", "opted_out", "invalid", "unknown"))
    if figures["planned"] == 0:
        return 100 if status in FINAL else 0
    return min(100, handled * 100 // figures["planned"])
