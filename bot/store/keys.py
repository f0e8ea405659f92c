"""Every key name factsbot uses, under one prefix."""

from __future__ import annotations


class Keys:
    """Every key name factsbot uses, under one prefix (so tests and deployments can share a server)."""

    def __init__(self, prefix: str = "factsbot:"):
        self.prefix = prefix

    def session(self, phone: str) -> str:
        return f"{self.prefix}session:{phone}"

    def ussd(self, session_id: str) -> str:
        return f"{self.prefix}ussd:{session_id}"

    def resume(self, phone: str) -> str:
        """Where a USSD session that dropped mid-topic left off."""
        return f"{self.prefix}resume:{phone}"

    def profile(self, phone: str) -> str:
        return f"{self.prefix}profile:{phone}"

    def dedupe(self, channel: str, message_id: str) -> str:
        return f"{self.prefix}seen:{channel}:{message_id}"

    def log(self) -> str:
        return f"{self.prefix}log"

    def log_index(self, phone: str) -> str:
        """One person's entries in the log (ids by time): their conversation, found without a scan."""
        return f"{self.prefix}log:by:{phone}"

    def optouts(self) -> str:
        """Everyone who opted out, kept beside the profiles so audiences are one set operation."""
        return f"{self.prefix}optouts"

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

    def drip(self) -> str:
        """Subscriptions by when their next tip is due: members are "phone|topic"."""
        return f"{self.prefix}drip"

    def drip_position(self) -> str:
        return f"{self.prefix}drip:position"

    def broadcasts(self) -> str:
        return f"{self.prefix}broadcasts"

    def broadcast_seq(self) -> str:
        return f"{self.prefix}broadcast:seq"

    def audience(self, broadcast_id: str) -> str:
        return f"{self.prefix}broadcast:{broadcast_id}:audience"

    def recipients(self, broadcast_id: str) -> str:
        """Each recipient's state in a broadcast: i in flight, s sent, f failed, x excluded, o opted out."""
        return f"{self.prefix}broadcast:{broadcast_id}:recipients"

    def batches_done(self, broadcast_id: str) -> str:
        return f"{self.prefix}broadcast:{broadcast_id}:done"

    def rate(self, name: str) -> str:
        """The token bucket every worker draws from for one provider."""
        return f"{self.prefix}rate:{name}"

    def broadcast(self, broadcast_id: str) -> str:
        return f"{self.prefix}broadcast:{broadcast_id}"

    def sent(self, provider_id: str) -> str:
        """What we know of one outbound message, by the gateway's id (for delivery reports)."""
        return f"{self.prefix}sent:{provider_id}"

    def content_generation(self) -> str:
        """Bumped when an admin publishes edited content, so every process reads it again."""
        return f"{self.prefix}content:generation"
