"""Signed internal requests: per-component keys, HMAC over the request, a time window.

Each component has its own secret key, a file ``<component>.key`` in the keys
directory shared by the cloud's hosts (as Eucalyptus shares ``/var/lib/eucalyptus/keys``
between its components).  A request carries the sender's id, a timestamp, a nonce and
``HMAC-SHA256(key, method \\n path \\n sha256(body) \\n timestamp \\n nonce)``; the
receiver looks the sender's key up, and refuses (403) a request that is unsigned, signed
by an unknown component, altered in any signed part, stamped outside the window, or
received before (its nonce is remembered while its timestamp could be accepted).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from server.util import atomic_write

#: Seconds a signed request stays acceptable either side of the receiver's clock.
DEFAULT_WINDOW = 300.0

HEADER_COMPONENT = "x-euca-component"
HEADER_DATE = "x-euca-date"
HEADER_SIGNATURE = "x-euca-signature"
HEADER_NONCE = "x-euca-nonce"

_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class Refused(Exception):
    """An internal request whose signature does not hold (answered 403)."""


def check_component_id(component: str) -> str:
    """A component id as used in key file names (letters, digits, ``.``, ``_``, ``-``)."""
    if not _COMPONENT.match(component):
        raise ValueError(f"invalid component id {component!r}")
    return component


def ensure_key(keys_dir: str, component: str) -> bytes:
    """The component's key, created (0600) when the keys directory has none yet."""
    check_component_id(component)
    os.makedirs(keys_dir, mode=0o700, exist_ok=True)
    path = os.path.join(keys_dir, f"{component}.key")
    if not os.path.exists(path):
        atomic_write(path, secrets.token_hex(32).encode(), mode=0o600)
    with open(path, "rb") as fh:
        return bytes.fromhex(fh.read().decode().strip())


def string_to_sign(method: str, path: str, body: bytes, stamp: str, nonce: str) -> bytes:
    """What the signature covers."""
    return "\n".join((method.upper(), path, hashlib.sha256(body).hexdigest(), stamp,
                      nonce)).encode()


def signature(key: bytes, method: str, path: str, body: bytes, stamp: str, nonce: str) -> str:
    """The hex HMAC-SHA256 of a request."""
    return hmac.new(key, string_to_sign(method, path, body, stamp, nonce),
                    hashlib.sha256).hexdigest()


@dataclass
class Keyring:
    """This component's key (to sign) and the keys directory it trusts (to verify)."""

    keys_dir: str
    component: str
    window: float = DEFAULT_WINDOW
    #: Id prefixes of the components allowed to call this one (empty: any with a key).
    accept: tuple[str, ...] = ()
    now: Callable[[], float] = time.time
    _trusted: dict[str, bytes] = field(default_factory=dict)
    #: Nonces of the requests accepted within the window, oldest first (replays are refused).
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _seen_order: deque[tuple[float, tuple[str, str]]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.key = ensure_key(self.keys_dir, self.component)

    def sign(self, method: str, path: str, body: bytes) -> dict[str, str]:
        """Headers that sign one request as this component."""
        stamp = f"{self.now():.6f}"
        nonce = secrets.token_hex(12)
        return {HEADER_COMPONENT: self.component, HEADER_DATE: stamp, HEADER_NONCE: nonce,
                HEADER_SIGNATURE: signature(self.key, method, path, body, stamp, nonce)}

    def trusted_key(self, component: str) -> bytes | None:
        """A peer's key from the keys directory (read once, then kept)."""
        key = self._trusted.get(component)
        if key is None:
            if not _COMPONENT.match(component):
                return None
            path = os.path.join(self.keys_dir, f"{component}.key")
            try:
                with open(path, "rb") as fh:
                    key = bytes.fromhex(fh.read().decode().strip())
            except (OSError, ValueError):
                return None
            self._trusted[component] = key
        return key

    def verify(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> str:
        """The signing component of a request; :class:`Refused` unless the signature holds."""
        component = headers.get(HEADER_COMPONENT, "")
        stamp = headers.get(HEADER_DATE, "")
        given = headers.get(HEADER_SIGNATURE, "")
        nonce = headers.get(HEADER_NONCE, "")
        if not component or not stamp or not given or not nonce:
            raise Refused("the request is not signed")
        if self.accept and not component.startswith(self.accept):
            raise Refused(f"component {component!r} may not call {self.component!r}")
        key = self.trusted_key(component)
        if key is None:
            raise Refused(f"unknown component {component!r}")
        try:
            when = float(stamp)
        except ValueError:
            raise Refused("malformed timestamp") from None
        now = self.now()
        if abs(now - when) > self.window:
            raise Refused("the request's timestamp is outside the allowed window")
        if not hmac.compare_digest(given, signature(key, method, path, body, stamp, nonce)):
            raise Refused("the signature does not match the request")
        self._forget_before(now - 2 * self.window)
        seen = (component, nonce)
        if seen in self._seen:
            raise Refused("the request was already received (a replay)")
        self._seen.add(seen)
        self._seen_order.append((now, seen))
        return component

    def _forget_before(self, cutoff: float) -> None:
        """Nonces older than any acceptable timestamp cannot be replayed: forget them."""
        order = self._seen_order
        while order and order[0][0] < cutoff:
            self._seen.discard(order.popleft()[1])
