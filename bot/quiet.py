"""Quiet hours: when a tip may be sent in the recipient's own time. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_timezones


def parse_hours(value: str, name: str = "QUIET_HOURS") -> tuple[int, int]:
    """ "21-8" -> (21, 8): quiet from 21:00 until 08:00."""
    start, _, end = value.partition("-")
    try:
        hours = int(start), int(end)
    except ValueError:
        raise ValueError(f"{name} must look like 21-8, not {value!r}") from None
    if not all(0 <= h <= 23 for h in hours):
        raise ValueError(f"{name} must use hours 0 to 23, not {value!r}")
    return hours


def is_quiet(local: datetime, hours: tuple[int, int]) -> bool:
    start, end = hours
    if start == end:
        return False
    if start > end:  # across midnight, e.g. 21-8
        return local.hour >= start or local.hour < end
    return start <= local.hour < end


def next_allowed(now: datetime, tz: ZoneInfo, hours: tuple[int, int]) -> datetime:
    """`now` if it is outside quiet hours where the recipient is, else when they end (aware UTC)."""
    local = now.astimezone(tz)
    if not is_quiet(local, hours):
        return now
    end = local.replace(hour=hours[1], minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(now.tzinfo)


@lru_cache(maxsize=4096)
def timezone_for(phone: str, override: str = "") -> ZoneInfo:
    """The recipient's timezone: the deployment's override, else the number's country (first zone)."""
    names = [override] if override else []
    try:
        names += list(number_timezones.time_zones_for_number(phonenumbers.parse(phone)))
    except phonenumbers.NumberParseException:
        pass
    for name in names:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")
