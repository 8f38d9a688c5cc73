"""Secrets at rest: sealed under the cloud's own key, kept in ``DATA_DIR/secrets.key``.

The database (SQLite file or PostgreSQL) and the data dir's small secret files hold
values that must not be readable by whoever can read the storage: the secret half of
every access key (the cloud administrator's included), the metadata proxy's shared
secret, Walrus' master key.  Each such value is stored *sealed*: AES-256-GCM under a
random key that lives only in its own file, mode 0600, in the data dir, with the
record's kind, id and field as associated data (a sealed value copied into another
record does not open).

Records are sealed in the storage layer (:class:`server.db.store.Store`) by kind and
field, as :data:`SEALED_FIELDS` declares, so the code that keeps a record in memory
never sees ciphertext.  Values written before sealing existed are plain text; they are
read as they are and sealed on the next write (the cloud rewrites them at start-up).
"""

from __future__ import annotations

import base64
import logging
import os
from typing import Any

from server.util import atomic_write

log = logging.getLogger(__name__)

#: The key file's name in the data dir.
KEY_FILE = "secrets.key"
#: How a sealed value starts (plain values never do: secrets are base64 or hex text).
PREFIX = "sealed:v1:"

#: Record kinds of the store whose fields hold secrets: kind -> field names.  A
#: component that stores a new kind of secret adds its kind here.
SEALED_FIELDS: dict[str, tuple[str, ...]] = {
    "access_key": ("secret",),
    "sts_session": ("secret",),
    "server_cert": ("private_key",),
    "mfa_device": ("secret",),
}


class SecretsError(Exception):
    """A sealed value cannot be opened (the key file is not the one that sealed it)."""


class SecretBox:
    """Seals and opens secret strings under the data dir's key (created on first use)."""

    def __init__(self, path: str):
        self.path = path
        self._key: bytes | None = None

    @classmethod
    def for_data_dir(cls, data_dir: str) -> SecretBox:
        """The box whose key is ``DATA_DIR/secrets.key``."""
        return cls(os.path.join(data_dir, KEY_FILE))

    def key(self) -> bytes:
        """The 256-bit key, read from its file or created there (mode 0600)."""
        if self._key is None:
            try:
                with open(self.path, "rb") as fh:
                    text = fh.read().strip()
                os.chmod(self.path, 0o600)
            except FileNotFoundError:
                text = base64.b64encode(os.urandom(32))
                atomic_write(self.path, text + b"\n", mode=0o600)
            try:
                key = base64.b64decode(text, validate=True)
            except ValueError:
                key = b""
            if len(key) != 32:
                raise SecretsError(f"{self.path}: not a secrets key (32 bytes, base64)")
            self._key = key
        return self._key

    @staticmethod
    def is_sealed(value: str) -> bool:
        """True for a value this box (or one like it) sealed."""
        return value.startswith(PREFIX)

    def seal(self, plain: str, context: str) -> str:
        """``plain`` encrypted; ``context`` (where it is stored) must match to open it."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        sealed = AESGCM(self.key()).encrypt(nonce, plain.encode("utf-8"), context.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, value: str, context: str) -> str:
        """The plain text of a sealed value; a plain (legacy) value is returned as is."""
        if not self.is_sealed(value):
            return value
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            raw = base64.b64decode(value[len(PREFIX):], validate=True)
            plain = AESGCM(self.key()).decrypt(raw[:12], raw[12:], context.encode())
        except (ValueError, InvalidTag):
            raise SecretsError(f"a secret of {context} cannot be opened with {self.path}: "
                               "was the key file replaced?") from None
        return plain.decode("utf-8")

    # -- store records --------------------------------------------------------------
    def seal_record(self, kind: str, rid: str, doc: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``doc`` with its secret fields sealed (``doc`` itself when none)."""
        fields = SEALED_FIELDS.get(kind)
        if not fields:
            return doc
        out = dict(doc)
        for name in fields:
            value = out.get(name)
            if isinstance(value, str) and value and not self.is_sealed(value):
                out[name] = self.seal(value, f"{kind}/{rid}/{name}")
        return out

    def open_record(self, kind: str, rid: str, doc: dict[str, Any]) -> bool:
        """Open ``doc``'s sealed fields in place; True when one was stored in plain text
        (the record should be written again, sealed)."""
        plain = False
        for name in SEALED_FIELDS.get(kind, ()):
            value = doc.get(name)
            if not isinstance(value, str) or not value:
                continue
            if self.is_sealed(value):
                doc[name] = self.open(value, f"{kind}/{rid}/{name}")
            else:
                plain = True
        return plain

    # -- secret files -----------------------------------------------------------------
    def read_file(self, path: str, name: str) -> str | None:
        """The secret kept sealed in ``path`` (None when the file does not exist); a file
        still in plain text is sealed in place."""
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read().strip()
        except FileNotFoundError:
            return None
        plain = self.open(text, f"file/{name}")
        if not self.is_sealed(text) and plain:
            self.write_file(path, name, plain)
        return plain

    def write_file(self, path: str, name: str, plain: str) -> None:
        """Keep ``plain`` sealed in ``path`` (mode 0600)."""
        atomic_write(path, (self.seal(plain, f"file/{name}") + "\n").encode(), mode=0o600)


def private_data_dir(path: str) -> None:
    """Make ``path`` readable by this user only, whatever the umask.

    The process's umask becomes 077 so every file and directory the cloud creates from
    now on (database, journals, blobs, volumes, keys) is private; the data dir itself
    becomes 0700 and what already sits at its top level 0600 (files) or 0700
    (directories), which closes a data dir made by an older version.
    """
    os.umask(0o077)
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    uid = os.getuid()
    with os.scandir(path) as entries:
        for entry in entries:
            try:
                if entry.is_symlink() or entry.stat().st_uid != uid:
                    continue  # not the cloud's to change
                if entry.is_dir():
                    os.chmod(entry.path, 0o700)
                elif entry.is_file():
                    os.chmod(entry.path, 0o600)
            except OSError as exc:
                log.warning("cannot make %s private: %s", entry.path, exc.strerror or exc)
