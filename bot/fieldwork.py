"""Field workers' SMS commands: invite a family into a group, broadcast a key message, check progress.

Only registered field workers' numbers get here; for anyone else these words are ordinary
menu input, and nothing hints that the commands exist.

    REG +254711111111 KISUMU     invite a family (they must reply YES themselves)
    REG +254711111111 KISUMU BABY 12-03-2026    ... and register their baby (or DUE 01-06-2027,
                                 PREGNANT 20) for timed messages, once they said YES
    BC MALARIA 1 KISUMU          preview a broadcast of malaria key message 1 to KISUMU (or ALL)
    YES / NO                     send or drop the previewed broadcast (within 10 minutes)
    BC STATUS                    progress of your latest broadcast

`read_command` (pure) reads the text, `gather` (shell) reads what the command needs from
Redis once, `answer_command` (pure, retried when a race is lost) decides, and `carry_out`
(shell) does what the decision asked for once it is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from enum import Enum

from bot import broadcasts, jobs, phones, quiet, reading, registering, segments
from bot.content import Language, normalise_keyword
from bot.render import Wording
from bot.services import Services
from bot.store import Broadcasts, FieldWorkers, Write

PENDING_SECONDS = 600
INVITE_SECONDS = 7 * 86_400
RECENT_BROADCASTS = 50  # BC STATUS looks for the worker's latest among this many


class Command(str, Enum):
    REGISTER = "register"
    BROADCAST = "broadcast"
    STATUS = "status"
    CONFIRM = "confirm"
    DECLINE = "decline"
    USAGE = "usage"


@dataclass(frozen=True)
class Request:
    """One command as typed, read."""

    command: Command
    family: str = ""  # REGISTER: E.164
    group: str = ""  # REGISTER, BROADCAST: a group name or "all"; USAGE: which command
    topic: str = ""  # BROADCAST: topic id ("" when the name matched none)
    number: int = 0  # BROADCAST: the key message's number
    timed: tuple[str, ...] = ()  # REGISTER: (what, as typed) of BABY 12-03-2026, DUE ..., PREGNANT 20


@dataclass(frozen=True)
class Facts:
    """What a command needs from Redis and the clock, gathered before the decision."""

    day: str = ""  # today (UTC), for the daily limit
    latest: dict | None = None  # STATUS: this worker's latest broadcast
    audience: int = 0  # BROADCAST: people the groups reach
    sent_today: int = 0  # CONFIRM: broadcasts this worker confirmed today
    quiet_until: datetime | None = None  # CONFIRM: when night ends where the worker lives, if it is night


@dataclass(frozen=True)
class Asked:
    """A request in its context: who asks, in which language, with what already known."""

    request: Request
    worker: dict
    pending: dict | None  # the previewed broadcast waiting for YES
    phone: str
    lang: Language
    facts: Facts
    daily_limit: int
    timezone: str = ""  # TIMEZONE, to tell the worker the local time night ends


@dataclass(frozen=True)
class Invite:
    family: str
    group: str
    worker_name: str
    series: str = ""  # a registration for timed messages, made when the family says YES
    anchor: str = ""  # its due or birth date (ISO)


@dataclass(frozen=True)
class SendBroadcast:
    topic: str
    number: int
    groups: tuple[str, ...]
    day: str


@dataclass(frozen=True)
class CommandResult:
    reply: str
    preview: dict | None = None  # a broadcast preview to keep until YES
    drop_preview: bool = False  # the preview waiting for YES is answered
    effects: tuple[Invite | SendBroadcast, ...] = ()  # carried out once the reply is committed
    logged: str = ""  # the command as the log should show it, when not as typed

    def writes(self, pending_key: str) -> list[Write]:
        if self.preview is not None:
            return [Write(pending_key, self.preview, PENDING_SECONDS)]
        return [Write(pending_key, None)] if self.drop_preview else []


def group_names(value: str) -> list[str]:
    """ "kisumu, Siaya" -> ["kisumu", "siaya"]. A group is one word a field worker can text
    (letters, digits, - and _); anything else is refused, never silently dropped."""
    names = [g.strip().lower() for g in value.split(",") if g.strip()]
    bad = [g for g in names if not g.replace("-", "").replace("_", "").isalnum()]
    if bad or not names:
        shown = ", ".join(repr(g) for g in bad) or "none given"
        raise ValueError(f"group names are single words of letters, digits, - or _ ({shown})")
    return list(dict.fromkeys(names))


def read_command(text: str, lang: Language, has_pending: bool, region: str) -> Request | None:
    """A field worker's command, or None for ordinary menu input."""
    words = normalise_keyword(text.replace("+", " +")).split()
    raw = text.split()
    if not words:
        return None
    if has_pending and len(words) == 1 and lang.is_command(words[0], "opt_in"):
        return Request(Command.CONFIRM)
    if has_pending and len(words) == 1 and lang.is_command(words[0], "decline"):
        return Request(Command.DECLINE)
    if words[0] == "REG":
        number = phones.normalise(raw[1], region) if len(raw) in (3, 5) else None
        timed = registering.read_words(raw[3:], lang) if len(raw) == 5 else None
        if number is None or (len(raw) == 5 and timed is None):
            return _usage("REG")
        return Request(Command.REGISTER, family=number, group=raw[2].lower(),
                       timed=(timed.ask.value, timed.value) if timed else ())  # fmt: skip
    if words[0] == "BC":
        if words[1:] == ["STATUS"]:
            return Request(Command.STATUS)
        n = reading.number(words[-2]) if len(words) >= 4 else None
        if n is None:
            return _usage("BC")
        topic = reading.find_topic(" ".join(words[1:-2]), lang)
        return Request(Command.BROADCAST, topic=topic.id if topic else "", number=n, group=words[-1].lower())
    return None


def _usage(command: str) -> Request:
    return Request(Command.USAGE, group=command)


def allowed_groups(worker: dict) -> list[str]:
    return [g.lower() for g in worker.get("groups", [])]


def audience(request: Request, worker: dict) -> list[str]:
    """The groups a broadcast request names: ALL is every group of the worker's."""
    return allowed_groups(worker) if request.group == "all" else [request.group]


# -- shell: reads before the decision, effects after the commit ---------------------------


def gather(svc: Services, request: Request, worker: dict, phone: str, now: datetime | None = None) -> Facts:
    """What `request` needs from Redis, read once (a lost race retries the decision, not these reads)."""
    now = now or datetime.now(timezone.utc)
    facts = Facts(day=now.strftime("%Y-%m-%d"))
    if request.command is Command.STATUS:
        mine = [b for b in Broadcasts(svc.store).recent(RECENT_BROADCASTS) if b.get("created_by") == phone]
        return replace(facts, latest=mine[0] if mine else None)
    if request.command is Command.BROADCAST and request.topic:
        return replace(facts, audience=Broadcasts(svc.store).audience_size(audience(request, worker)))
    if request.command is Command.CONFIRM:
        return replace(facts, sent_today=FieldWorkers(svc.store).broadcasts_on(phone, facts.day),
                       quiet_until=broadcasts.quiet_until(svc.config, phone, now))  # fmt: skip
    return facts


def carry_out(svc: Services, phone: str, effect: Invite | SendBroadcast) -> None:
    """Do what a committed decision asked for."""
    workers = FieldWorkers(svc.store)
    if isinstance(effect, Invite):
        timed = {"series": effect.series, "anchor": effect.anchor} if effect.series else {}
        workers.invite(effect.family, effect.group, phone, INVITE_SECONDS, **timed)
        # A family who has used the service already chose a language; a new one gets their country's.
        saved = svc.store.profile_fields(effect.family).get("lang", "")
        lang_code = saved or svc.context.first_language(phones.country(effect.family))
        welcome = Wording(svc.catalog.language(lang_code), svc.context)("fw_welcome", name=effect.worker_name,
                                                                         group=effect.group.upper())  # fmt: skip
        jobs.enqueue_text(svc, effect.family, welcome, "invite")
        return
    # Counted only once the YES is committed: the decision runs again when a race is retried.
    workers.count_broadcast(phone, effect.day)
    broadcasts.create(svc, topic_id=effect.topic, number=effect.number, groups=list(effect.groups), created_by=phone)


# -- core: one function per command --------------------------------------------------------


def answer_command(asked: Asked) -> CommandResult:
    """What to answer a field worker (in their language), what to keep, and what to do once committed."""
    return _ANSWERS[asked.request.command](asked)


def _usage_answer(asked: Asked) -> CommandResult:
    return CommandResult(asked.lang.texts["fw_usage"])


def _not_yours(asked: Asked, group: str) -> CommandResult | None:
    allowed = allowed_groups(asked.worker)
    if group in allowed:
        return None
    return CommandResult(asked.lang.texts["fw_not_your_group"].format(group=group.upper(), groups=_names(allowed)))


def _register(asked: Asked) -> CommandResult:
    request = asked.request
    refused = _not_yours(asked, request.group)
    if refused:
        return refused
    masked, group = phones.mask(request.family), request.group.upper()
    reply = asked.lang.texts["fw_invited"].format(family=masked, group=group)
    invite = Invite(request.family, request.group, asked.worker.get("name", ""))
    if request.timed:
        found = registering.registration(registering.Request(registering.Ask(request.timed[0]), request.timed[1]),
                                         date.fromisoformat(asked.facts.day))  # fmt: skip
        if isinstance(found, registering.Refusal):
            return CommandResult(asked.lang.texts[registering.REFUSALS[found]])
        invite = replace(invite, series=found.series.value, anchor=found.anchor.isoformat())
    # The family's number is personal data: the log (read by viewers, exported) shows it masked, no date.
    shown = f" {request.timed[0].upper()}" if request.timed else ""
    return CommandResult(reply, effects=(invite,), logged=f"REG {masked} {group}{shown}")


def _broadcast(asked: Asked) -> CommandResult:
    request, texts = asked.request, asked.lang.texts
    refused = _not_yours(asked, request.group) if request.group != "all" else None
    if refused:
        return refused
    if not request.topic:
        return _usage_answer(asked)
    topic = asked.lang.topic(request.topic)
    if not 1 <= request.number <= len(topic.messages):
        return CommandResult(texts["fw_bad_number"].format(label=topic.label, max=len(topic.messages)))
    message = topic.messages[request.number - 1]
    short = message.short
    groups = audience(request, asked.worker)
    reply = texts["fw_preview"].format(text=short[:60] + ("..." if len(short) > 60 else ""),
                                       count=f"{asked.facts.audience:,}", groups=_names(groups),
                                       sms=segments.count(short).segments)  # fmt: skip
    if topic.is_discreet(message):
        reply = f"{reply}\n{texts['fw_discreet_warning']}"
    return CommandResult(reply, preview={"topic": topic.id, "number": request.number, "groups": groups})


def _status(asked: Asked) -> CommandResult:
    latest = asked.facts.latest
    return CommandResult(broadcasts.describe(latest) if latest else asked.lang.texts["fw_no_broadcast"])


def _decline(asked: Asked) -> CommandResult:
    return CommandResult(asked.lang.texts["fw_dropped"], drop_preview=True)


def _confirm(asked: Asked) -> CommandResult:
    texts, facts, pending = asked.lang.texts, asked.facts, asked.pending
    if facts.sent_today >= asked.daily_limit:
        return CommandResult(texts["fw_limit"].format(limit=asked.daily_limit), drop_preview=True)
    send = SendBroadcast(pending["topic"], int(pending["number"]), tuple(pending["groups"]), facts.day)
    # The field worker lives where the families do: tell them when night holds the batches back.
    later = facts.quiet_until
    local = later.astimezone(quiet.timezone_for(asked.phone, asked.timezone)) if later else None
    reply = texts["fw_queued_quiet"].format(time=f"{local:%H:%M}") if local else texts["fw_queued"]
    return CommandResult(reply, drop_preview=True, effects=(send,))


_ANSWERS: dict[Command, Callable[[Asked], CommandResult]] = {
    Command.REGISTER: _register,
    Command.BROADCAST: _broadcast,
    Command.STATUS: _status,
    Command.CONFIRM: _confirm,
    Command.DECLINE: _decline,
    Command.USAGE: _usage_answer,
}


def _names(groups: list[str]) -> str:
    return ", ".join(g.upper() for g in groups) or "none"
