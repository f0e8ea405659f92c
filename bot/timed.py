"""Timed messages, the shell: registering by SMS, the scheduler's tick, and the jobs that send.

A tick (an RQ job every minute started by `factsbot worker`, or `factsbot schedule tick` from
cron) leases the families due now from the due index (O(due)) and fans them out in batches to
jobs on the bulk queue, behind replies. A job sends each family its next message: it reads the
family and profile (one round trip for the batch), decides with bot.family, and claims the send
by a compare-and-set of the family's value *before* the provider is called. A job run twice,
alongside a copy of itself, or after a crash never sends the same item again: the claim moved
the family on. A claim whose worker died before the provider answered is lost, not repeated.
STOP, a number no SMS reaches, quiet hours in the family's timezone, the shared rate (SMS_MPS)
and one timed message a day are all checked here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import calls, family, outbound, quiet, reach, schedule, stages
from bot.family import Codebook, Family, Planner
from bot.jobs import job_id
from bot.providers import Outcome
from bot.schedule import Kind
from bot.store import Registrations
from bot.store.channels import CHANNEL_FIELD, WHATSAPP_IN_FIELD

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

TICK_SECONDS = 60
BATCH = 1000  # families per send job: a job (a forked work horse) costs tens of ms before its first send
LEASES_AT_ONCE = 20  # batches leased (and their jobs queued) per round trip of a tick
LEASE_SECONDS = 900  # a leased family whose job died is due again after this
RETRY_SECONDS = 300  # a gateway that asked us to wait: try the family again after this
SWAP_ATTEMPTS = 20
# What sending needs of each family's profile (read for the whole batch in one round trip): language,
# STOP, a number no SMS reaches, the channel they last wrote on and when on WhatsApp, voice or not.
PROFILE_FIELDS = ("lang", "opted_out", "invalid", CHANNEL_FIELD, WHATSAPP_IN_FIELD, "delivery")


# -- the schedule and content this process plans with -------------------------------------------


@dataclass(frozen=True)
class Plans:
    planner: Planner
    book: Codebook
    hours: tuple[int, int]


_plans: dict[tuple, Plans] = {}


def schedule_path(config) -> Path:
    """SCHEDULE_FILE, or messages/schedules.yaml beside the content."""
    value = config.get("SCHEDULE_FILE") or ""
    return Path(value) if value else Path(config["CONTENT_DIR"]) / "schedules.yaml"


def plans(svc: Services) -> Plans:
    """The schedule (read once per file version) with the content's same_as map and message numbers."""
    path = schedule_path(svc.config)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = 0
    key = (str(path), stamp, id(svc.catalog), svc.config["QUIET_HOURS"])
    if key not in _plans:
        english = svc.catalog.language("en")
        messages = [m for t in english.topics for m in t.messages]
        same_as = {m.id: m.same_as for m in messages if m.same_as}
        book = Codebook.of((t.chapter, m.number, m.id) for t in english.topics for m in t.messages)
        _plans.clear()  # one schedule at a time: an edited file or republished content replaces it
        _plans[key] = Plans(Planner(schedule.load(path), same_as), book, quiet.parse_hours(svc.config["QUIET_HOURS"]))
    return _plans[key]


def zone(svc: Services, phone: str) -> ZoneInfo:
    return quiet.timezone_for(phone, svc.config["TIMEZONE"])


def local_day(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def due_at(day: date, tz: ZoneInfo, hours: tuple[int, int]) -> datetime:
    """When a message for `day` may go: the start of that day where the family lives, after quiet hours."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(timezone.utc)
    return quiet.next_allowed(start, tz, hours)


def next_time(fam: Family, p: Plans, tz: ZoneInfo) -> float | None:
    """When the family's next message is due (unix time), or None when nothing is left."""
    nxt = family.upcoming(fam, p.planner)
    return due_at(nxt.day, tz, p.hours).timestamp() if nxt else None


# -- changes from a family's own messages ---------------------------------------------------------


def change(svc: Services, phone: str, how: Callable[[Family], Family]) -> Family:
    """Apply `how` to the stored family (compare-and-set, retried when a send moved it meanwhile)."""
    p, store, tz = plans(svc), Registrations(svc.store), zone(svc, phone)
    for _ in range(SWAP_ATTEMPTS):
        old = store.family(phone)
        fam = how(family.decode(old, p.book))
        due = next_time(fam, p, tz)
        new = family.encode(fam, p.book) if due is not None else ""
        if store.swap(phone, old, new, due):
            return fam
    raise RuntimeError("a family's registrations kept changing under us")


def today_for(svc: Services, phone: str, now: datetime | None = None) -> date:
    return local_day(now or datetime.now(timezone.utc), zone(svc, phone))


def per_week(svc: Services) -> int:
    return plans(svc).planner.schedule.max_per_week


# -- the tick ----------------------------------------------------------------------------------------


def tick(svc: Services, now: datetime | None = None, batch: int = BATCH) -> int:
    """Lease every family due by `now` and queue send jobs for them; returns how many families."""
    now = now or datetime.now(timezone.utc)
    store = Registrations(svc.store)
    queue, total, n, at = svc.queue("bulk"), 0, 0, now.timestamp()
    # LEASES_AT_ONCE leases, then their jobs, each in one round trip: a busy Redis (workers sending
    # the first jobs) makes every round trip slow, and a batch at a time cost most of the tick.
    while leased := store.lease_due_many(at, batch, at + LEASE_SECONDS, LEASES_AT_ONCE):
        jobs = []
        for phones in leased:  # leased phones are handed out once, so each batch is its own job
            n += 1
            name = job_id(svc.config, "timed", f"{at:.0f}", n, time.time_ns())
            jobs.append(queue.prepare_data("bot.timed.send_batch", (phones, at), timeout=3600, result_ttl=600,
                                           job_id=name))  # fmt: skip
            total += len(phones)
        queue.enqueue_many(jobs)
        if len(leased) < LEASES_AT_ONCE:
            break
    return total


def tick_and_reschedule(svc: Services) -> int:
    """The RQ job: one tick, then the next one queued (workers run with the scheduler)."""
    try:
        return tick(svc)
    finally:
        schedule_ticks(svc)


def schedule_ticks(svc: Services) -> None:
    """Make sure one next tick is queued (and the schedule read, so work horses forked from here find it)."""
    plans(svc)
    minute = int(time.time()) // TICK_SECONDS
    tick_id = job_id(svc.config, "timed-tick", minute)
    queue = svc.queue("bulk")
    if queue.fetch_job(tick_id) is None:
        queue.enqueue_in(timedelta(seconds=TICK_SECONDS), "bot.timed.tick_and_reschedule", job_id=tick_id)


# -- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What a send job does with one family: `new` (due at `due`; '' ends it) replaces `old`, and
    `item` goes out when the swap wins (a claim made before the provider is called)."""

    phone: str
    old: str
    new: str
    due: float | None
    item: schedule.Planned | None = None


def send_batch(svc: Services, phones: list[str], at: float) -> str:
    """Send each family its next message if it is due (an RQ job; safe to run twice).

    Three round trips for the batch, whatever its size: read the families and profiles, claim them
    all (each claim its own compare-and-set), record what was sent. `at` is the tick's time; a job
    that starts later uses the real time (tests move the tick's clock on).
    """
    now = datetime.fromtimestamp(max(at, time.time()), timezone.utc)
    p, store = plans(svc), Registrations(svc.store)
    pipe = svc.store.redis.pipeline(transaction=False)
    pipe.mget([svc.store.keys.family(phone) for phone in phones])
    for phone in phones:
        pipe.hmget(svc.store.keys.profile(phone), *PROFILE_FIELDS)
    values, *fields = pipe.execute()
    profiles = [{k: (v or b"").decode() for k, v in zip(PROFILE_FIELDS, f, strict=True)} for f in fields]
    clock = _Clock(now, p.hours)
    claims = [decide(svc, p, phone, (raw or b"").decode(), profile, now, clock)
              for phone, raw, profile in zip(phones, values, profiles, strict=True)]  # fmt: skip
    won = store.swap_many([(c.phone, c.old, c.new, c.due) for c in claims])
    records = svc.store.redis.pipeline(transaction=False)
    sent = 0
    try:
        for claim, ok, profile in zip(claims, won, profiles, strict=True):
            if ok and claim.item is not None:  # lost: changed meanwhile (a registration, LOSS, a copy of this job)
                sent += deliver(svc, store, claim, profile, now, records)
    finally:
        records.execute()  # the log entries of what went out, even when a send raised
    return f"{sent} sent"


class _Clock:
    """A batch's `now` where each family lives: its local day and when quiet hours let a message go.

    Worked out once per timezone, not per family: a batch of a thousand has a handful of timezones.
    """

    def __init__(self, now: datetime, hours: tuple[int, int]):
        self.now, self.hours = now, hours
        self._seen: dict[ZoneInfo, tuple[date, datetime]] = {}

    def __call__(self, tz: ZoneInfo) -> tuple[date, datetime]:
        if (found := self._seen.get(tz)) is None:
            found = self._seen[tz] = (local_day(self.now, tz), quiet.next_allowed(self.now, tz, self.hours))
        return found


def decide(svc: Services, p: Plans, phone: str, old: str, profile: dict, now: datetime,
           clock: Callable[[ZoneInfo], tuple[date, datetime]] | None = None) -> Claim:  # fmt: skip
    """What to do with one leased family now: end it, wait (not yet, night), or send its next item."""
    tz = zone(svc, phone)
    if outbound.unreachable(profile):  # STOP, or a gateway found no SMS reaches the number
        return Claim(phone, old, "", None)
    fam = family.decode(old, p.book)
    nxt = family.upcoming(fam, p.planner)
    if nxt is None:
        return Claim(phone, old, "", None)
    today, allowed = (clock or _Clock(now, p.hours))(tz)
    if nxt.day > today:
        return Claim(phone, old, old, due_at(nxt.day, tz, p.hours).timestamp())  # not yet (the lease held it)
    if allowed > now:
        return Claim(phone, old, old, allowed.timestamp())  # night where they live: the morning
    # What goes out: the item, on the family's today (a late catch-up does not push the rest on).
    nxt = family.Next(nxt.enrolment, nxt.position, nxt.item, today)
    moved = family.advance(fam, nxt, p.planner)
    after = next_time(moved, p, tz)
    return Claim(phone, old, family.encode(moved, p.book) if after is not None else "", after, nxt.item)


def deliver(svc: Services, store: Registrations, claim: Claim, profile: dict, now: datetime, records) -> int:
    """Send a claimed item (its log entry queued on `records`); 1 when it went out."""
    item = claim.item
    body = text_of(svc, profile.get("lang", ""), item)
    if not body:
        log.error("timed message %s has no text; skipped", item.id)
        return 0
    message_id = item.id if item.kind is Kind.TIP else f"{calls.REMINDER}{item.id}"
    try:
        if calls.wants_calls(svc, profile):  # they chose to hear them (VOICE): a call, as subscription tips
            result = calls.place(svc, claim.phone, topic_of(svc, profile, item), message_id, kind="timed", now=now,
                                 profile=profile)  # fmt: skip
        else:
            # On their channel: WhatsApp in its window, its template (a tip's, or any message's) outside, else SMS.
            result = reach.deliver(svc, claim.phone, body, kind="timed", meta={"message": message_id},
                                   profile=profile, now=now.timestamp(), pipe=records,
                                   template="tip" if item.kind is Kind.TIP else "message")  # fmt: skip
    except outbound.TransientSendError:
        # Give the claim back: the same item goes on a later tick.
        store.swap(claim.phone, claim.new, claim.old, (now + timedelta(seconds=RETRY_SECONDS)).timestamp())
        return 0
    if result.outcome in (Outcome.OPTED_OUT, Outcome.INVALID):
        store.erase(claim.phone)
        return 0
    return int(result.outcome is Outcome.SENT)


def topic_of(svc: Services, profile: dict, item: schedule.Planned) -> str:
    """A timed key message's topic (a call names it); "" for a reminder."""
    found = svc.catalog.language(profile.get("lang") or svc.context.default_lang).message(item.id)
    return found[0].id if found and item.kind is Kind.TIP else ""


# The texts of timed messages, per content (a catalog) and language: every family in a language gets
# the same text for an item, and finding a key message walks the topics.
_texts: tuple[object, dict[tuple, str]] = (None, {})


def text_of(svc: Services, lang_code: str, item: schedule.Planned) -> str:
    """A timed message in the family's language (English where it lacks one)."""
    global _texts
    if _texts[0] is not svc.catalog:
        _texts = (svc.catalog, {})  # republished content: its texts afresh
    key = (lang_code or svc.context.default_lang, item.kind, item.id)
    if (text := _texts[1].get(key)) is None:
        text = _texts[1][key] = _text(svc.catalog.language(key[0]), item)
    return text


def _text(lang, item: schedule.Planned) -> str:
    if item.kind is Kind.TIP:
        found = lang.message(item.id)
        return found[1].short if found else ""
    return lang.texts.get(f"reminder_{item.id}", "")


def in_stage(svc: Services, phones: list[str], target: stages.Target, now: datetime | None = None,
             chunk: int = 1000) -> list[str]:  # fmt: skip
    """The phones whose registered pregnancy or child is in `target`'s stage today where they live."""
    now = now or datetime.now(timezone.utc)
    p, store, found = plans(svc), Registrations(svc.store), []
    for i in range(0, len(phones), chunk):
        part = phones[i : i + chunk]
        fams = [(phone, family.decode(v, p.book)) for phone, v in zip(part, store.families(part), strict=True) if v]
        found += [phone for phone, fam in fams if target.holds(fam, local_day(now, zone(svc, phone)))]
    return found


def schedule_problems(config, catalog) -> list[str]:
    """The schedule file's problems, and what in it does not fit this content (for `factsbot content check`)."""
    path = schedule_path(config)
    try:
        s = schedule.load(path)
    except schedule.ScheduleError as e:
        return e.problems
    english = catalog.language("en")
    ids = {m.id for t in english.topics for m in t.messages}
    same_as = {m.id: m.same_as for t in english.topics for m in t.messages if m.same_as}
    reminders = {k.removeprefix("reminder_") for k in english.texts if k.startswith("reminder_")}
    return [f"{path}: {p}" for p in schedule.problems(s, ids, same_as, reminders)]
