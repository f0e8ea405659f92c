"""Dashboard accounts: creating them, checking passwords, and the rules a new one must meet."""

from __future__ import annotations

import re
import secrets
import time

from werkzeug.security import check_password_hash, generate_password_hash

from bot.dashboard.access import Role
from bot.store import Store, Users

PASSWORD_MIN = 10
_EMAIL = re.compile(r"^[^@\s/]{1,64}@[^@\s/]{1,190}\.[^@\s/]{2,63}$")
# Checked when the email is unknown, so a wrong email costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


class AccountError(ValueError):
    """The account cannot be created or changed as asked; the message says why, for a person."""


def normal_email(value: str) -> str:
    email = (value or "").strip().lower()
    if not _EMAIL.match(email):
        raise AccountError(f"{value!r} is not an email address")
    return email


def role_of(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise AccountError(f"role must be one of {', '.join(r.value for r in Role)}") from None


def create(store: Store, email: str, role: str, password: str, *, by: str, method: str = "scrypt") -> dict:
    """Create or replace an account (a new password signs out its old sessions)."""
    email, role = normal_email(email), role_of(role)
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"a password needs at least {PASSWORD_MIN} characters")
    record = {"role": role.value, "password": generate_password_hash(password, method=method),
              "token": secrets.token_urlsafe(12), "created_at": f"{time.time():.0f}", "created_by": by}  # fmt: skip
    Users(store).save(email, record)
    return {"email": email, **record}


def set_role(store: Store, email: str, role: str) -> None:
    users = Users(store)
    if users.get(email) is None:
        raise AccountError(f"no user {email}")
    users.save(email, {"role": role_of(role).value})  # read on every request: applies at once


def check(store: Store, email: str, password: str) -> dict | None:
    """The account, when the password is right."""
    try:
        record = Users(store).get(normal_email(email))
    except AccountError:
        record = None
    if record is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return record if check_password_hash(record["password"], password) else None
