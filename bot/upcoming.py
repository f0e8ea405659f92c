"""What one family will receive until a given day, as the workers would send it (for operators).

`timeline` is pure: it walks bot.family's upcoming/advance from the stored family exactly as
bot.timed.decide does on each tick (a message goes out on the family's own day, at the first
time quiet hours allow; one a day; a catch-up goes today), on a copy: nothing is sent, nothing
stored. `preview` is its shell: it reads the family and profile once and adds the texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import family, outbound, quiet, segments
from bot.family import Family, Planner
from bot.schedule import Planned

if TYPE_CHECKING:
    from bot.services import Services

LIMIT = 1000  # items at most: a family registered from conception to age five gets far fewer


@dataclass(frozen=True)
class Upcoming:
    due: datetime  # aware, in the family's timezone
    item: Planned


def timeline(fam: Family, planner: Planner, tz: ZoneInfo, hours: tuple[int, int], now: datetime,
             until: date) -> list[Upcoming]:  # fmt: skip
    """The family's messages in order, each with when it goes, up to and including the local day `until`."""
    out: list[Upcoming] = []
    while len(out) < LIMIT and (nxt := family.upcoming(fam, planner)) is not None:
        start = datetime(nxt.day.year, nxt.day.month, nxt.day.day, tzinfo=tz)
        # Due today or overdue: the next tick sends it now, or when the night ends.
        when = quiet.next_allowed(max(start, now.astimezone(tz)), tz, hours).astimezone(tz)
        if when.date() > until:
            break
        out.append(Upcoming(when, nxt.item))
        fam = family.advance(fam, family.Next(nxt.enrolment, nxt.position, nxt.item, when.date()), planner)
    return out


def preview(svc: Services, phone: str, until: date, now: datetime | None = None) -> list[dict]:
    """What `phone` will receive until `until` (their local day): due (ISO 8601), kind, id, text, as sent."""
    from bot import timed  # the shell's plans and texts; imported here, as timed's jobs import the services

    p = timed.plans(svc)
    raw = timed.Registrations(svc.store).family(phone)
    profile = svc.store.profile_fields(phone)
    if not raw or outbound.unreachable(profile):  # STOP, or no SMS reaches them: the workers send nothing
        return []
    now = now or datetime.now(timezone.utc)
    items = timeline(family.decode(raw, p.book), p.planner, timed.zone(svc, phone), p.hours, now, until)
    lang = profile.get("lang", "")
    return [{"due": u.due.isoformat(), "kind": u.item.kind.value, "id": u.item.id,
             "text": segments.smart_encode(timed.text_of(svc, lang, u.item))} for u in items]  # fmt: skip
