"""What an export holds: one entry per noun, naming its keys (under the prefix) and their types.

Adding a noun to the backup is one entry in NOUNS. Everything else under the prefix is either
rebuilt by the service (sessions, dedupe markers, caches, rate buckets, content generation)
or short-lived (delivery records, pending confirmations, login failures) and is left out.
A key template's `*` stands for one segment (no ":"); exact names win over templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.store.keys import Keys

FORMAT = "factsbot-export"
FORMAT_VERSION = 1
TYPES = ("string", "hash", "set", "zset", "list", "stream")


@dataclass(frozen=True)
class Part:
    template: str  # the key under the prefix, e.g. "profile:*"
    type: str  # one of TYPES
    big: bool = False  # one key that may hold millions of members: written in chunks
    pattern: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        regex = "^" + re.escape(self.template).replace(r"\*", "[^:]+") + "$"
        object.__setattr__(self, "pattern", re.compile(regex))


@dataclass(frozen=True)
class Noun:
    name: str
    parts: tuple[Part, ...]
    log: bool = False  # the message log: only with --with-log


_K = Keys("")  # templates: a key under no prefix, "*" for the id (the names are Keys')

NOUNS = (
    Noun("people", (Part(_K.profile("*"), "hash"), Part(_K.optouts(), "set", big=True))),
    Noun("subscriptions", (Part(_K.subscriptions_due(), "zset", big=True),
                           Part(_K.subscription_positions(), "hash", big=True))),
    Noun("groups", (Part(_K.groups(), "set", big=True), Part(_K.group("*"), "set", big=True))),
    Noun("invitations", (Part(_K.invite("*"), "string"),)),
    Noun("fieldworkers", (Part(_K.fieldworkers(), "set", big=True), Part(_K.fieldworker("*"), "string"))),
    Noun("broadcasts", (Part(_K.broadcasts(), "zset", big=True), Part(_K.broadcast_seq(), "string"),
                        Part(_K.broadcast("*"), "hash"), Part(_K.audience("*"), "list", big=True),
                        Part(_K.recipients("*"), "hash", big=True), Part(_K.batches_done("*"), "set", big=True))),
    Noun("registrations", (Part(_K.family("*"), "string"), Part(_K.families_due(), "zset", big=True),
                           Part(_K.family_stages(), "hash", big=True))),
    Noun("questions", (Part(_K.question("*"), "string"), Part(_K.questions_open(), "zset", big=True),
                       Part(_K.questions_asked(), "zset", big=True), Part(_K.canned_answers(), "hash", big=True))),
    Noun("users", (Part(_K.users(), "set", big=True), Part(_K.user("*"), "hash"))),
    Noun("audit", (Part(_K.audit(), "stream", big=True),)),
    Noun("figures", (Part(_K.day("*"), "hash"), Part(_K.day_people("*"), "string"),
                     Part(_K.wait_timeouts(), "hash"))),
    Noun("log", (Part(_K.log(), "stream", big=True), Part(_K.log_index("*"), "zset", big=True)), log=True),
)  # fmt: skip

BY_NAME = {noun.name: noun for noun in NOUNS}


class KeyMatcher:
    """The noun and part a raw key with the prefix (bytes straight from SCAN) belongs to, in one regex call.

    Exact names come first in the alternation, so they win over templates.
    """

    def __init__(self, prefix: str, nouns: tuple[Noun, ...] = NOUNS):
        parts = [(n, p) for n in nouns for p in n.parts]
        parts.sort(key=lambda item: "*" in item[1].template)
        self.found = {f"p{i}": item for i, item in enumerate(parts)}
        pieces = (f"(?P<p{i}>{p.pattern.pattern[1:-1]})" for i, (_, p) in enumerate(parts))  # without ^ and $
        regex = re.escape(prefix) + "(?:" + "|".join(pieces) + ")"
        self.match = re.compile(regex.encode("utf-8", "surrogateescape"), re.DOTALL).fullmatch

    def __call__(self, raw: bytes) -> tuple[Noun, Part] | None:
        m = self.match(raw)
        return self.found[m.lastgroup] if m else None

    def group(self, raw: bytes) -> str | None:
        """The name of the part's group in the regex (a key of `found`), or None: cheap to count."""
        m = self.match(raw)
        return m.lastgroup if m else None


class Classifier:
    """The noun and part a key without the prefix (a str) belongs to, or None: KeyMatcher's match."""

    def __init__(self, nouns: tuple[Noun, ...] = NOUNS):
        self.match = KeyMatcher("", nouns)

    def __call__(self, key: str) -> tuple[Noun, Part] | None:
        return self.match(key.encode("utf-8", "surrogateescape"))
