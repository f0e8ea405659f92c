"""Every key name and member format factsbot uses in Redis, under one prefix.

Nothing else builds a key string: a module that needs a key asks `Keys`. Some names keep
an older word (`drip` for subscriptions) because deployed servers hold data under them.
"""

from __future__ import annotations

import uuid

PARTS_SEPARATOR = "\x1e"  # between the SMS parts of a reply kept in a dedupe marker (never in a reply)
_MEMBER_SEPARATOR = "|"  # between a subscription's phone and topic (in neither)


class Keys:
    """Every key name factsbot uses, under one prefix (so tests and deployments can share a server)."""

    def __init__(self, prefix: str = "factsbot:"):
        self.prefix = prefix

    # -- people and conversations ---------------------------------------------------------

    def session(self, phone: str) -> str:
        return f"{self.prefix}session:{phone}"

    def ussd(self, session_id: str) -> str:
        return f"{self.prefix}ussd:{session_id}"

    def resume(self, phone: str) -> str:
        """Where a USSD session that dropped mid-topic left off."""
        return f"{self.prefix}resume:{phone}"

    def voice_call(self, provider: str, call_id: str) -> str:
        """One phone call's state (bot.voice.VoiceCall), by the provider and its call id."""
        return f"{self.prefix}voicecall:{provider}:{call_id}"

    def voice_resume(self, phone: str) -> str:
        """Where a call that dropped mid-topic left off, for the same number's next call."""
        return f"{self.prefix}voiceresume:{phone}"

    def call(self, call_id: str) -> str:
        """A call we placed (or one that ended): who, what it played, its outcome, by the provider's call id."""
        return f"{self.prefix}call:{call_id}"

    def call_index(self, phone: str) -> str:
        """One person's call records (call ids by when they expire): FORGET finds them without a scan."""
        return f"{self.prefix}calls:by:{phone}"

    def profile(self, phone: str) -> str:
        return f"{self.prefix}profile:{phone}"

    def profile_pattern(self) -> str:
        """SCAN pattern matching every profile key (for counts per language)."""
        return f"{self.prefix}profile:*"

    def dedupe(self, channel: str, message_id: str) -> str:
        """An inbound message seen; its value is the reply's parts (joined by PARTS_SEPARATOR)."""
        return f"{self.prefix}seen:{channel}:{message_id}"

    def optouts(self) -> str:
        """Everyone who opted out, kept beside the profiles so audiences are one set operation."""
        return f"{self.prefix}optouts"

    # -- the message log ------------------------------------------------------------------

    def log(self) -> str:
        return f"{self.prefix}log"

    def log_index(self, phone: str) -> str:
        """One person's entries in the log (ids by time): their conversation, found without a scan."""
        return f"{self.prefix}log:by:{phone}"

    # -- outbound messages ----------------------------------------------------------------

    def sent(self, provider_id: str) -> str:
        """What we know of one outbound message, by the gateway's id (for delivery reports)."""
        return f"{self.prefix}sent:{provider_id}"

    def fallback(self, provider_id: str) -> str:
        """A WhatsApp message the gateway accepted: what it said, for an SMS should it be refused later."""
        return f"{self.sent(provider_id)}:sms"

    def fallback_index(self, phone: str) -> str:
        """One person's fallback records (gateway ids by when they expire): FORGET finds them without a scan."""
        return f"{self.prefix}fallback:by:{phone}"

    def reply_progress(self, channel: str, message_id: str) -> str:
        """How many parts of a queued reply have gone out (the parts are in its dedupe marker)."""
        return f"{self.prefix}replied:{channel}:{message_id}"

    def rate(self, name: str) -> str:
        """The token bucket every worker draws from for one provider."""
        return f"{self.prefix}rate:{name}"

    def once(self, token: str) -> str:
        """A send record without a gateway id was made: a client's resend of it does nothing."""
        return f"{self.prefix}once:{token}"

    # -- field workers and groups ---------------------------------------------------------

    def group(self, name: str) -> str:
        return f"{self.prefix}group:{name}"

    def groups(self) -> str:
        return f"{self.prefix}groups"

    def invite(self, phone: str) -> str:
        return f"{self.prefix}invite:{phone}"

    def fieldworker(self, phone: str) -> str:
        return f"{self.prefix}fieldworker:{phone}"

    def fieldworkers(self) -> str:
        return f"{self.prefix}fieldworkers"

    def pending_broadcast(self, phone: str) -> str:
        """A field worker's broadcast waiting for YES."""
        return f"{self.prefix}pending:{phone}"

    def daily_count(self, phone: str, day: str) -> str:
        return f"{self.prefix}count:{day}:{phone}"

    # -- subscriptions --------------------------------------------------------------------

    def subscriptions_due(self) -> str:
        """Subscriptions by when their next tip is due: members from `subscription_member`."""
        return f"{self.prefix}drip"

    def subscription_positions(self) -> str:
        """Each subscription's next key message (its index in the topic)."""
        return f"{self.prefix}drip:position"

    @staticmethod
    def subscription_member(phone: str, topic_id: str) -> str:
        return f"{phone}{_MEMBER_SEPARATOR}{topic_id}"

    @staticmethod
    def subscription_of(member: str) -> tuple[str, str]:
        """(phone, topic) of a subscription member."""
        phone, _, topic_id = member.partition(_MEMBER_SEPARATOR)
        return phone, topic_id

    # -- timed messages (registrations: pregnancy, babies, a loss) -------------------------

    def family(self, phone: str) -> str:
        """A family's registrations, sent facts and last day, in bot.family's compact form."""
        return f"{self.prefix}timed:{phone}"

    def families_due(self) -> str:
        """Every registered phone, scored by when its next timed message is due (unix time)."""
        return f"{self.prefix}timed:due"

    def family_stages(self) -> str:
        """Registrations counted by series and anchor day ("b20260312" -> 41): figures by stage, no scan."""
        return f"{self.prefix}timed:stages"

    def ussd_timed(self, session_id: str) -> str:
        """Where a USSD session is in the pregnancy/baby screens (bot/ussd_timed.py)."""
        return f"{self.prefix}ussd:timed:{session_id}"

    def forget_pending(self, phone: str) -> str:
        """FORGET was asked and waits for YES."""
        return f"{self.prefix}forget:{phone}"

    # -- broadcasts -----------------------------------------------------------------------

    def broadcasts(self) -> str:
        return f"{self.prefix}broadcasts"

    def broadcast_seq(self) -> str:
        return f"{self.prefix}broadcast:seq"

    def broadcast(self, broadcast_id: str) -> str:
        return f"{self.prefix}broadcast:{broadcast_id}"

    def broadcast_prefix(self) -> str:
        """`broadcast(id)` is this and the id: for a script that learns the id from a sent record."""
        return self.broadcast("")

    @staticmethod
    def claim_field(run: str) -> str:
        """A field of `broadcast(id)`: the recipient a batch run claimed last (gone when the run ends)."""
        return f"claim:{run}"

    def audience(self, broadcast_id: str) -> str:
        return f"{self.prefix}broadcast:{broadcast_id}:audience"

    def recipients(self, broadcast_id: str) -> str:
        """Each recipient's state in a broadcast (a `RecipientState`)."""
        return f"{self.prefix}broadcast:{broadcast_id}:recipients"

    def batches_done(self, broadcast_id: str) -> str:
        return f"{self.prefix}broadcast:{broadcast_id}:done"

    def scratch(self) -> str:
        """A new temporary key, for one set operation's result (deleted in the same transaction)."""
        return f"{self.prefix}tmp:{uuid.uuid4().hex}"

    # -- families' questions (the dashboard's inbox) --------------------------------------

    def question(self, question_id: str) -> str:
        """One question as JSON (text, who, when, its answer), expiring after QUESTION_RETENTION_DAYS."""
        return f"{self.prefix}question:{question_id}"

    def questions_open(self) -> str:
        """Open questions by priority: urgent ones first (see bot.store.questions.priority), then oldest."""
        return f"{self.prefix}questions:open"

    def questions_asked(self) -> str:
        """Every kept question by when it was asked: figures and retention."""
        return f"{self.prefix}questions:asked"

    def canned_answers(self) -> str:
        """Answers operators pick from, by name (edited by admins)."""
        return f"{self.prefix}questions:canned"

    # -- content --------------------------------------------------------------------------

    def content_generation(self) -> str:
        """Bumped when an admin publishes edited content, so every process reads it again."""
        return f"{self.prefix}content:generation"

    # -- operator dashboard ---------------------------------------------------------------

    def user(self, email: str) -> str:
        return f"{self.prefix}dash:user:{email}"

    def users(self) -> str:
        return f"{self.prefix}dash:users"

    def login_failures(self, kind: str, value: str) -> str:
        """Failed logins in the current window, per email or per client address."""
        return f"{self.prefix}dash:login:{kind}:{value}"

    def audit(self) -> str:
        return f"{self.prefix}dash:audit"

    def person_ref(self, ref: str) -> str:
        """An opaque link reference -> a phone number, so no URL carries a family's number."""
        return f"{self.prefix}dash:ref:{ref}"

    def day(self, day: str) -> str:
        """One UTC day's counters (in, out, reads per topic...), rolled up from the log."""
        return f"{self.prefix}dash:day:{day}"

    def day_people(self, day: str) -> str:
        """A HyperLogLog of the numbers that wrote in that day: unique people over any window."""
        return f"{self.prefix}dash:people:{day}"

    def rollup_cursor(self) -> str:
        return f"{self.prefix}dash:rollup:cursor"

    def rollup_lock(self) -> str:
        return f"{self.prefix}dash:rollup:lock"

    def cache(self, name: str) -> str:
        return f"{self.prefix}dash:cache:{name}"

    def wait_timeouts(self) -> str:
        """WAITs for replicas that timed out, per UTC day (a hash: day -> count)."""
        return f"{self.prefix}wait:timeouts"

    # -- job queues -----------------------------------------------------------------------

    def rq_queue(self, name: str) -> str:
        """An RQ queue's name ("replies", "bulk"): RQ keeps the queue under rq:queue:<this> and the like."""
        return f"{self.prefix}{name}"
