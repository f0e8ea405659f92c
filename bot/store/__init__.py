"""Redis: the one package that knows key names and talks to the server.

An inbound message costs two round trips: one pipeline reads the dedupe marker, the
conversation state and the profile; one Lua script then checks nothing changed since
(the profile's `rev`) and writes state, profile, dedupe marker and log entries at once.
Two messages from one number racing each other cannot both win: the loser re-reads
and steps again (optimistic concurrency, like WATCH/MULTI but in one round trip).

Modules: `keys` (every key name), `core` (people, conversations, log, outbound records),
`broadcasts` (broadcasts and field workers), `subscriptions`, `dashboard` (the operator dashboard's data).
"""

from bot.store.broadcasts import Broadcasts, FieldWorkers, Settled
from bot.store.core import (
    PARTS_SEPARATOR,
    SENT_TTL,
    CountingConnection,
    Loaded,
    LogEntry,
    Op,
    StatusChange,
    Store,
    Write,
    counting_client,
    profile_from,
)
from bot.store.dashboard import (
    Audiences,
    Audit,
    DailyFigures,
    DashboardKeys,
    LoginFailures,
    LogQuery,
    PersonRefs,
    Users,
)
from bot.store.keys import Keys
from bot.store.subscriptions import Subscriptions

__all__ = [
    "PARTS_SEPARATOR", "SENT_TTL", "Audiences", "Audit", "Broadcasts", "CountingConnection",
    "DailyFigures", "DashboardKeys", "FieldWorkers", "Keys", "Loaded", "LogEntry", "LogQuery", "LoginFailures", "Op",
    "PersonRefs", "Settled", "StatusChange", "Store", "Subscriptions", "Users", "Write", "counting_client",
    "profile_from",
]  # fmt: skip
