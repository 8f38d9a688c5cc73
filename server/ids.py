"""Resource identifiers shaped like AWS's (``i-`` + 17 hex, ``AKIA...``, 12-digit accounts).

Identifiers are drawn from an :class:`IdSource`: the operating system's randomness
(``secrets``) unless a block runs under :func:`id_source` with another one, such as the
:class:`SeededIdSource` a simulation uses so that the same seed names everything the
same way (names break ties: Auto Scaling terminates the lowest instance ID among equals).
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import string
from collections.abc import Iterator, Sequence
from typing import Protocol

_UPPER_ALNUM = string.ascii_uppercase + string.digits


class IdSource(Protocol):
    """Where identifiers' random characters come from."""

    def token_hex(self, nbytes: int) -> str:
        """``nbytes`` random bytes as lowercase hex."""

    def choice(self, seq: Sequence[str]) -> str:
        """One element of ``seq``."""


class SystemIdSource:
    """The operating system's cryptographic randomness (:mod:`secrets`): the default."""

    def token_hex(self, nbytes: int) -> str:
        """``nbytes`` random bytes as hex."""
        return secrets.token_hex(nbytes)

    def choice(self, seq: Sequence[str]) -> str:
        """One element of ``seq``."""
        return secrets.choice(seq)


class SeededIdSource:
    """A reproducible source: the same seed gives the same identifiers in the same order.

    Not for a real cloud (the names are predictable); for simulations and tests."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)

    def token_hex(self, nbytes: int) -> str:
        """``nbytes`` pseudo-random bytes as hex."""
        return self._rng.getrandbits(8 * nbytes).to_bytes(nbytes, "big").hex()

    def choice(self, seq: Sequence[str]) -> str:
        """One element of ``seq``."""
        return self._rng.choice(seq)


_source: IdSource = SystemIdSource()


def current_source() -> IdSource:
    """The source identifiers are drawn from now."""
    return _source


@contextlib.contextmanager
def id_source(source: IdSource) -> Iterator[IdSource]:
    """Draw every identifier from ``source`` inside the block (process-wide), then restore
    the previous source."""
    global _source
    previous, _source = _source, source
    try:
        yield source
    finally:
        _source = previous


def seeded(seed: int) -> contextlib.AbstractContextManager[IdSource]:
    """``id_source(SeededIdSource(seed))``: reproducible identifiers inside the block."""
    return id_source(SeededIdSource(seed))


def resource_id(prefix: str) -> str:
    """``prefix-`` + 17 lowercase hex digits (instances, volumes, groups, ...)."""
    return f"{prefix}-{_source.token_hex(9)[:17]}"


def well_formed(resource_id: str, prefix: str) -> bool:
    """Is ``resource_id`` shaped as an ID of that kind (``prefix-`` and hex digits)? AWS
    answers X.Malformed for one that is not, and X.NotFound for one that names nothing."""
    head, dash, tail = resource_id.partition("-")
    return head == prefix and bool(dash) and bool(tail) and all(
        c in "0123456789abcdefABCDEF" for c in tail)


def image_id(prefix: str = "emi") -> str:
    """Eucalyptus image IDs: ``emi-``/``eki-``/``eri-`` + 8 hex digits."""
    return f"{prefix}-{_source.token_hex(4)}"


def account_id() -> str:
    """A 12-digit account number."""
    return "".join(_source.choice(string.digits) for _ in range(12))


def access_key_id() -> str:
    """An ``AKIA`` access key ID."""
    return "AKIA" + "".join(_source.choice(_UPPER_ALNUM) for _ in range(16))


def secret_access_key() -> str:
    """A 40-character secret key."""
    alphabet = string.ascii_letters + string.digits + "+/"
    return "".join(_source.choice(alphabet) for _ in range(40))


def principal_id(prefix: str) -> str:
    """IAM unique IDs: ``AIDA``/``AGPA``/``AROA`` + 17 characters."""
    return prefix + "".join(_source.choice(_UPPER_ALNUM) for _ in range(17))


def request_id() -> str:
    """A request ID shaped like a random UUID (built directly: this is on every request).

    Always from the operating system: request IDs name no resource and decide nothing."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
