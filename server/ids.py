"""Resource identifiers shaped like AWS's (``i-`` + 17 hex, ``AKIA...``, 12-digit accounts)."""

from __future__ import annotations

import os
import secrets
import string

_UPPER_ALNUM = string.ascii_uppercase + string.digits


def resource_id(prefix: str) -> str:
    """``prefix-`` + 17 lowercase hex digits (instances, volumes, groups, ...)."""
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def well_formed(resource_id: str, prefix: str) -> bool:
    """Is ``resource_id`` shaped as an ID of that kind (``prefix-`` and hex digits)? AWS
    answers X.Malformed for one that is not, and X.NotFound for one that names nothing."""
    head, dash, tail = resource_id.partition("-")
    return head == prefix and bool(dash) and bool(tail) and all(
        c in "0123456789abcdefABCDEF" for c in tail)


def image_id(prefix: str = "emi") -> str:
    """Eucalyptus image IDs: ``emi-``/``eki-``/``eri-`` + 8 hex digits."""
    return f"{prefix}-{secrets.token_hex(4)}"


def account_id() -> str:
    """A 12-digit account number."""
    return "".join(secrets.choice(string.digits) for _ in range(12))


def access_key_id() -> str:
    """An ``AKIA`` access key ID."""
    return "AKIA" + "".join(secrets.choice(_UPPER_ALNUM) for _ in range(16))


def secret_access_key() -> str:
    """A 40-character secret key."""
    alphabet = string.ascii_letters + string.digits + "+/"
    return "".join(secrets.choice(alphabet) for _ in range(40))


def principal_id(prefix: str) -> str:
    """IAM unique IDs: ``AIDA``/``AGPA``/``AROA`` + 17 characters."""
    return prefix + "".join(secrets.choice(_UPPER_ALNUM) for _ in range(17))


def request_id() -> str:
    """A request ID shaped like a random UUID (built directly: this is on every request)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
