"""Phone numbers: normalised to E.164 at the edge, masked wherever a person might see them."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# Country code 0 does not exist, so no gateway can reach these and no real number is one.
TEST_PREFIX = "+000"
MAX_LENGTH = 32  # longer than any number written with spaces and a country code
# What people and gateways write numbers with. Only such input is cached: a form field can
# carry anything, and a cache keyed on anything would hold every forged value it was sent.
_PLAUSIBLE = re.compile(r"\+?[0-9 ().\-]{1,31}")
_E164 = re.compile(r"\+[0-9]{1,15}")
_REGION = re.compile(r"[A-Za-z]{0,3}")


def is_test(phone: str) -> bool:
    """A dashboard simulator's phone: its messages are shown, never sent."""
    return phone.startswith(TEST_PREFIX)


def normalise(raw: str, default_region: str = "") -> str | None:
    """The E.164 form of `raw` (e.g. "+254712345678"), or None when it is not a phone number."""
    raw = (raw or "").strip()
    if not raw or len(raw) > MAX_LENGTH:
        return None
    if _PLAUSIBLE.fullmatch(raw) and _REGION.fullmatch(default_region):
        return _normalised(raw, default_region)
    return _normalised.__wrapped__(raw, default_region)  # e.g. "tel:+254..." or letters: parsed, not kept


@lru_cache(maxsize=16384)
def _normalised(raw: str, default_region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, default_region.upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country(e164: str) -> str:
    """ISO country code of a normalised number ("KE"), or "" when unknown."""
    return _country(e164) if _E164.fullmatch(e164) else _country.__wrapped__(e164)


@lru_cache(maxsize=16384)
def _country(e164: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""
    except phonenumbers.NumberParseException:
        return ""


def mask(e164: str) -> str:
    """Enough to tell numbers apart, too little to call: "+254 7•• ••• 123"."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return "•" * max(len(e164) - 3, 0) + e164[-3:]
    national = str(number.national_number)
    hidden = national[:1] + "•" * max(len(national) - 4, 0) + national[-3:]
    groups = [hidden[max(i - 3, 0) : i] for i in range(len(hidden), 0, -3)][::-1]
    if len(groups) > 1 and len(groups[0]) == 1:
        groups[:2] = [groups[0] + groups[1]]
    return f"+{number.country_code} " + " ".join(groups)
