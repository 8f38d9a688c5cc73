"""Certificates and private keys for bundles: RSA PKCS#1 v1.5 key wrapping and signatures."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..exceptions import Euca2oolsError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey


class BundleError(Euca2oolsError):
    """A bundle that cannot be made, read, decrypted or verified (exit status 1)."""


def _read(path: str, what: str) -> bytes:
    path = os.path.expanduser(path)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as err:
        from ..exceptions import LocalFileError

        raise LocalFileError(f"cannot read {what} {path}: {err.strerror}") from None


def load_certificate(path: str, what: str = "certificate") -> RSAPublicKey:
    """The RSA public key of a PEM (or DER) X.509 certificate file."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    data = _read(path, what)
    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data))
    except ValueError as err:
        raise BundleError(f"{what} {path} is not an X.509 certificate: {err}") from None
    key = cert.public_key()
    if not isinstance(key, RSAPublicKey):
        raise BundleError(f"{what} {path} does not hold an RSA key")
    return key


def certificate_from_pem(pem: bytes, what: str = "certificate") -> RSAPublicKey:
    """The RSA public key of PEM certificate text."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    try:
        key = x509.load_pem_x509_certificate(pem).public_key()
    except ValueError as err:
        raise BundleError(f"{what} is not an X.509 certificate: {err}") from None
    if not isinstance(key, RSAPublicKey):
        raise BundleError(f"{what} does not hold an RSA key")
    return key


def load_private_key(path: str) -> RSAPrivateKey:
    """An unencrypted RSA private key (PEM: PKCS#1 or PKCS#8; or DER)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    data = _read(path, "private key")
    try:
        key: Any = (serialization.load_pem_private_key(data, password=None)
                    if b"-----BEGIN" in data
                    else serialization.load_der_private_key(data, password=None))
    except (ValueError, TypeError) as err:
        raise BundleError(f"cannot load private key {path}: {err}") from None
    if not isinstance(key, RSAPrivateKey):
        raise BundleError(f"private key {path} is not an RSA key")
    return key


def wrap(public_key: RSAPublicKey, secret: bytes) -> str:
    """Encrypt a key or IV for a manifest: RSA PKCS#1 v1.5 over its hex text, hex-encoded.

    euca2ools gave ``openssl rsautl`` the 32-character hex text that it also passed to
    ``openssl enc -K``, so that text (not the raw 16 bytes) is what gets encrypted.
    """
    from cryptography.hazmat.primitives.asymmetric import padding

    return public_key.encrypt(secret.hex().encode("ascii"), padding.PKCS1v15()).hex()


def unwrap(private_key: RSAPrivateKey, hex_text: str) -> bytes:
    """Decrypt a manifest's encrypted key or IV (hex text inside, or raw bytes)."""
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        plain = private_key.decrypt(bytes.fromhex(hex_text.strip()), padding.PKCS1v15())
    except ValueError:
        raise BundleError("decryption failed") from None
    try:
        text = plain.decode("ascii").strip()
        if len(text) in (32, 64) and all(c in "0123456789abcdefABCDEF" for c in text):
            return bytes.fromhex(text)
    except UnicodeDecodeError:
        pass
    return plain


def sign(private_key: RSAPrivateKey, data: bytes) -> str:
    """RSA-SHA1 (PKCS#1 v1.5) signature of ``data``, hex-encoded."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA1()).hex()  # noqa: S303 - the format's choice


def verify(public_key: RSAPublicKey, data: bytes, signature_hex: str) -> bool:
    """Whether ``signature_hex`` is a valid RSA-SHA1 signature of ``data``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        public_key.verify(bytes.fromhex(signature_hex), data, padding.PKCS1v15(), hashes.SHA1())
    except (InvalidSignature, ValueError):
        return False
    return True


def parse_hex_key(text: str, what: str) -> bytes:
    """A 128-bit AES key or IV given as 32 hex digits (``--enc-key``/``--enc-iv``)."""
    try:
        value = bytes.fromhex(text.strip())
    except ValueError:
        value = b""
    if len(value) != 16:
        raise ValueError(f"{what} must be 32 hexadecimal digits (128 bits)")
    return value
