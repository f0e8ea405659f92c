"""Redis: the one package that knows key names and talks to the server.

One module per noun, each a small class built on a `Store` (the client, key names and limits):

- `keys`: every key name and member format (`Keys`), nothing else builds one
- `people`: `Store` itself, people's profiles and conversation state: `load` and `commit`,
  an inbound message's two round trips
- `log`: the message log (`LogEntry`, `LogQuery`)
- `sends`: records of SMS we send, delivery reports, the shared send rate (`Sends`)
- `replies`: replies sent through the queue, and how many of their parts went out (`Replies`)
- `broadcasts`: broadcasts, their audiences and per-recipient claims (`Broadcasts`)
- `fieldworkers`: community health workers (`FieldWorkers`)
- `subscriptions`: when each subscription's next tip is due (`Subscriptions`)
- `registrations`: families registered for timed messages and when each is next due (`Registrations`)
- `content`: the published content's generation (`ContentGeneration`)
- `dashboard`: the operator dashboard's users, audit, figures, links and audiences
- `lua`, `codec`, `counting`: shared Lua, reply decoding, a round-trip counting client

Scripts that count or log are safe to run twice (see `lua`): redis-py resends a command
after a connection error, and a script whose answer was lost has already run.
"""

from bot.store.broadcasts import RELEASE, Broadcasts, BroadcastStatus, RecipientState, Settled
from bot.store.content import ContentGeneration
from bot.store.counting import CountingConnection, counting_client
from bot.store.dashboard import Audiences, Audit, DailyFigures, LoginFailures, PersonRefs, Users
from bot.store.fieldworkers import FieldWorkers
from bot.store.keys import PARTS_SEPARATOR, Keys
from bot.store.log import LogEntry, LogQuery
from bot.store.people import Loaded, Op, Store, Write, profile_from
from bot.store.registrations import Registrations
from bot.store.replies import Replies
from bot.store.sends import SENT_TTL, Sends
from bot.store.subscriptions import Subscriptions

__all__ = [
    "PARTS_SEPARATOR", "RELEASE", "SENT_TTL", "Audiences", "Audit", "BroadcastStatus", "Broadcasts",
    "ContentGeneration", "CountingConnection", "DailyFigures", "FieldWorkers", "Keys", "Loaded", "LogEntry",
    "LogQuery", "LoginFailures", "Op", "PersonRefs", "RecipientState", "Registrations", "Replies", "Sends",
    "Settled", "Store", "Subscriptions", "Users", "Write", "counting_client", "profile_from",
]  # fmt: skip
