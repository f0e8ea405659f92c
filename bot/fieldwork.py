"""Field workers' SMS commands: invite a family into a group, broadcast a key message, check progress.

Only registered field workers' numbers get here; for anyone else these words are ordinary
menu input, and nothing hints that the commands exist.

    REG +254711111111 KISUMU     invite a family (they must reply YES themselves)
    BC MALARIA 1 KISUMU          preview a broadcast of malaria key message 1 to KISUMU (or ALL)
    YES / NO                     send or drop the previewed broadcast (within 10 minutes)
    BC STATUS                    progress of your latest broadcast
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from bot import menu, phones, quiet, segments
from bot.content import Language, normalise_keyword
from bot.store import Broadcasts, FieldWorkers, Write

PENDING_SECONDS = 600
INVITE_SECONDS = 7 * 86_400


@dataclass(frozen=True)
class Command:
    kind: str  # register, broadcast, status, confirm, decline, usage
    family: str = ""
    group: str = ""
    topic: str = ""
    number: int = 0


@dataclass
class Outcome:
    reply: str
    writes: list = field(default_factory=list)
    effects: list[Callable[[], None]] = field(default_factory=list)
    logged: str = ""  # the command as the log should show it, when not as typed


def group_names(value: str) -> list[str]:
    """ "kisumu, Siaya" -> ["kisumu", "siaya"]. A group is one word a field worker can text
    (letters, digits, - and _); anything else is refused, never silently dropped."""
    names = [g.strip().lower() for g in value.split(",") if g.strip()]
    bad = [g for g in names if not g.replace("-", "").replace("_", "").isalnum()]
    if bad or not names:
        shown = ", ".join(repr(g) for g in bad) or "none given"
        raise ValueError(f"group names are single words of letters, digits, - or _ ({shown})")
    return list(dict.fromkeys(names))


def parse(text: str, lang: Language, has_pending: bool, region: str) -> Command | None:
    """A field worker's command, or None for ordinary menu input."""
    words = normalise_keyword(text.replace("+", " +")).split()
    raw = text.split()
    if not words:
        return None
    if has_pending and lang.is_command(words[0], "opt_in") and len(words) == 1:
        return Command("confirm")
    if has_pending and lang.is_command(words[0], "decline") and len(words) == 1:
        return Command("decline")
    if words[0] == "REG":
        number = phones.normalise(raw[1], region) if len(raw) >= 3 else None
        if number is None or len(raw) != 3:
            return Command("usage", group="REG")
        return Command("register", family=number, group=raw[2].lower())
    if words[0] == "BC":
        if words[1:] == ["STATUS"]:
            return Command("status")
        if len(words) >= 4 and words[-2].isdigit():
            topic = menu.find_topic(" ".join(words[1:-2]), lang)
            return Command("broadcast", topic=topic.id if topic else "", number=int(words[-2]), group=words[-1].lower())
        return Command("usage", group="BC")
    return None


def decide(svc, worker: dict, command: Command, pending: dict | None, phone: str, lang: Language) -> Outcome:
    """What to answer a field worker (in their language), what to store, and what to do once committed."""
    # broadcasts and jobs import services, which imports this module: import them at call time.
    from bot import broadcasts, jobs

    texts = lang.texts
    pending_key = svc.store.keys.pending_broadcast(phone)
    allowed = [g.lower() for g in worker.get("groups", [])]
    if command.kind == "usage":
        return Outcome(texts["fw_usage"])
    if command.kind == "register":
        if command.group not in allowed:
            return Outcome(texts["fw_not_your_group"].format(group=command.group.upper(), groups=_names(allowed)))
        workers = FieldWorkers(svc.store)

        def invite() -> None:
            workers.invite(command.family, command.group, phone, INVITE_SECONDS)
            # A family who has used the service already chose a language; a new one gets their country's.
            saved = svc.store.profile_fields(command.family).get("lang", "")
            lang_code = saved or svc.context.first_language(phones.country(command.family))
            family_texts = svc.catalog.language(lang_code).texts
            welcome = family_texts["fw_welcome"].format(name=worker.get("name", ""), program=svc.context.program,
                                                 group=command.group.upper())  # fmt: skip
            svc.queue("replies").enqueue(
                jobs.send_text, command.family, welcome, "invite", retry=jobs.retry(svc.config)
            )

        reply = texts["fw_invited"].format(family=phones.mask(command.family), group=command.group.upper())
        # The family's number is personal data: the log (read by viewers, exported) shows it masked.
        return Outcome(reply, effects=[invite], logged=f"REG {phones.mask(command.family)} {command.group.upper()}")
    if command.kind == "status":
        store = Broadcasts(svc.store)
        mine = [b for b in store.recent(50) if b.get("created_by") == phone]
        if not mine:
            return Outcome(texts["fw_no_broadcast"])
        return Outcome(broadcasts.describe(mine[0]))
    if command.kind == "broadcast":
        groups = allowed if command.group == "all" else [command.group]
        if command.group != "all" and command.group not in allowed:
            return Outcome(texts["fw_not_your_group"].format(group=command.group.upper(), groups=_names(allowed)))
        if not command.topic:
            return Outcome(texts["fw_usage"])
        topic = lang.topic(command.topic)
        if not 1 <= command.number <= len(topic.messages):
            return Outcome(texts["fw_bad_number"].format(label=topic.label, max=len(topic.messages)))
        short = topic.messages[command.number - 1].short
        size = Broadcasts(svc.store).audience_size(groups)
        reply = texts["fw_preview"].format(text=short[:60] + ("..." if len(short) > 60 else ""), count=f"{size:,}",
                                           groups=_names(groups), sms=segments.count(short).segments)  # fmt: skip
        record = {"topic": topic.id, "number": command.number, "groups": groups}
        return Outcome(reply, writes=[Write(pending_key, record, PENDING_SECONDS)])
    if command.kind == "decline":
        return Outcome(texts["fw_dropped"], writes=[Write(pending_key, None)])
    if command.kind == "confirm":
        day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        limit = int(svc.config["FIELDWORKER_DAILY_BROADCASTS"])
        workers = FieldWorkers(svc.store)
        if workers.broadcasts_on(phone, day) >= limit:
            return Outcome(texts["fw_limit"].format(limit=limit), writes=[Write(pending_key, None)])

        def send() -> None:
            # Counted only once the YES is committed: `decide` runs again when a race is retried.
            workers.count_broadcast(phone, day)
            broadcasts.create(svc, topic_id=pending["topic"], number=int(pending["number"]),
                              groups=list(pending["groups"]), created_by=phone)  # fmt: skip

        # The field worker lives where the families do: tell them when night holds the batches back.
        later = broadcasts.quiet_until(svc.config, phone)
        local = later.astimezone(quiet.timezone_for(phone, svc.config["TIMEZONE"])) if later else None
        reply = texts["fw_queued_quiet"].format(time=f"{local:%H:%M}") if local else texts["fw_queued"]
        return Outcome(reply, writes=[Write(pending_key, None)], effects=[send])
    return Outcome(texts["fw_usage"])


def _names(groups: list[str]) -> str:
    return ", ".join(g.upper() for g in groups) or "none"
