"""Keeping families' numbers out of sight: opaque references for links, masks for display."""

from __future__ import annotations

import hashlib
import hmac

from bot import phones


def ref_for(secret: str, phone: str) -> str:
    """A stable, opaque reference to a number: links and browser history never carry the number."""
    return hmac.new(secret.encode(), phone.encode(), hashlib.sha256).hexdigest()[:20]


def test_number(secret: str, email: str) -> str:
    """The simulator's phone for one dashboard user: +000 and nine digits, never a real number."""
    digest = hmac.new(secret.encode(), f"simulator:{email}".encode(), hashlib.sha256).hexdigest()
    return phones.TEST_PREFIX + str(int(digest[:12], 16) % 10**9).zfill(9)
