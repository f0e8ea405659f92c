"""Which messaging channel a person last wrote on, and when they last wrote on WhatsApp (profile fields).

One profile per E.164 number whatever the channel: WhatsApp and SMS are the same person.
`channel` says where they last wrote (sms or whatsapp); `wa_in` when they last wrote on
WhatsApp, which opens WhatsApp's 24-hour window for free text (bot/whatsapp.py decides).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.store.people import Store

CHANNEL_FIELD = "channel"
WHATSAPP_IN_FIELD = "wa_in"


def seen_fields(channel: str, now: float, *, whatsapp: bool) -> dict[str, str]:
    """Profile fields an inbound message sets, written by its conversation's commit."""
    return {CHANNEL_FIELD: channel, WHATSAPP_IN_FIELD: f"{now:.3f}"} if whatsapp else {CHANNEL_FIELD: channel}


def last_channel(profile: Mapping[str, str]) -> str:
    return profile.get(CHANNEL_FIELD, "") or "sms"


def whatsapp_in(profile: Mapping[str, str]) -> float:
    """When they last wrote on WhatsApp (0: never)."""
    try:
        return float(profile.get(WHATSAPP_IN_FIELD, "") or 0)
    except ValueError:
        return 0.0


def set_channel(store: Store, phone: str, channel: str) -> None:
    """Where their messages go from now on (e.g. SMS once WhatsApp says the number is not on it)."""
    store.redis.hset(store.keys.profile(phone), CHANNEL_FIELD, channel)


def routing_profiles(store: Store, phones: list[str]) -> dict[str, dict[str, str]]:
    """What choosing a route needs of each person (one round trip for a broadcast's batch)."""
    names = (CHANNEL_FIELD, WHATSAPP_IN_FIELD, "lang", "opted_out", "invalid")
    pipe = store.redis.pipeline(transaction=False)
    for phone in phones:
        pipe.hmget(store.keys.profile(phone), *names)
    return {phone: {n: v.decode() for n, v in zip(names, values, strict=True) if v is not None}
            for phone, values in zip(phones, pipe.execute(), strict=True)}  # fmt: skip
