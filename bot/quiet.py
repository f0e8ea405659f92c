"""Quiet hours: when a tip may be sent in the recipient's own time. Pure."""

from __future__ import annotations

from collections.abc import Mapping
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


def allowed_at(config: Mapping, phone: str, now: datetime, name: str = "QUIET_HOURS") -> datetime:
    """`next_allowed` for `phone` under the deployment's quiet hours (`name`) and TIMEZONE override."""
    return next_allowed(now, timezone_for(phone, config["TIMEZONE"]), parse_hours(config[name], name))


def timezone_for(phone: str, override: str = "") -> ZoneInfo:
    """The recipient's timezone: the deployment's override, else the number's country (first zone).

    Most of our countries have one timezone whatever the number: those are found from the calling
    code alone, without parsing the number (a scheduler handles a million distinct numbers a day,
    so a cache of numbers would not help, and parsing was most of a timed send's own time).
    """
    if override and (zone := _zone(override)):
        return zone
    if phone.startswith("+"):
        for digits in (phone[1:2], phone[1:3], phone[1:4]):  # calling codes are prefix-free
            if digits in _one_zone_countries():
                return _one_zone_countries()[digits]
    return _parsed(phone)


@lru_cache(maxsize=4096)
def _parsed(phone: str) -> ZoneInfo:
    try:
        names = number_timezones.time_zones_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        names = ()
    return next((zone for name in names if (zone := _zone(name))), ZoneInfo("UTC"))


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=1)
def _one_zone_countries() -> dict[str, ZoneInfo]:
    """Calling code -> its zone, for countries whose every number has the same single timezone."""
    from phonenumbers.tzdata import TIMEZONE_DATA

    codes = set(map(str, phonenumbers.COUNTRY_CODE_TO_REGION_CODE))
    entries: dict[str, list[str]] = {}
    for prefix in TIMEZONE_DATA:
        code = next((prefix[:n] for n in (1, 2, 3) if prefix[:n] in codes), "")
        entries.setdefault(code, []).append(prefix)
    found = {}
    for code, prefixes in entries.items():
        zones = TIMEZONE_DATA[prefixes[0]]
        if code and prefixes == [code] and len(zones) == 1 and (zone := _zone(zones[0])):
            found[code] = zone
    return found
