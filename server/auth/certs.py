"""X.509 certificates in IAM: users' signing certificates and accounts' server certificates.

Signing certificates identify a user (Eucalyptus uses them for bundles); Eucalyptus'
``CreateSigningCertificate`` also generates one with its key.  Server certificates are
what HTTPS load balancers present; their private keys are kept and never returned.
Certificates are parsed with ``cryptography`` so malformed PEM is refused.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from server import ids
from server.auth.identity import IdentityError, check_name, check_path

if TYPE_CHECKING:
    from cryptography import x509

    from server.auth.identity import Identity

#: IAM's quotas: signing certificates per user, server certificates per account.
SIGNING_PER_USER = 2
SERVER_PER_ACCOUNT = 20


@dataclass
class SigningCertificate:
    """A user's X.509 signing certificate."""

    cert_id: str
    account_id: str
    user_name: str
    body: str
    status: str
    uploaded: float


@dataclass
class ServerCertificate:
    """An account's server certificate (with its private key, never shown)."""

    account_id: str
    name: str
    cert_id: str
    path: str
    body: str
    chain: str
    private_key: str
    uploaded: float
    expiration: float

    def arn(self) -> str:
        """``arn:aws:iam::ACCOUNT:server-certificate/PATH/NAME``."""
        return f"arn:aws:iam::{self.account_id}:server-certificate{self.path}{self.name}"


def parse_certificate(body: str, what: str = "certificate") -> x509.Certificate:
    """A PEM certificate, or MalformedCertificate."""
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(body.encode())
    except (ValueError, TypeError):
        raise IdentityError("MalformedCertificate",
                            f"Unable to parse {what}. Please ensure the {what} is in PEM "
                            "format.") from None


def _check_private_key(pem: str, cert: x509.Certificate) -> None:
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise IdentityError("MalformedCertificate", "Unable to parse private key. Please "
                            "ensure the private key is in PEM format.") from None
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    mine = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    if public != mine:
        raise IdentityError("KeyPairMismatch", "The private key did not match the public key "
                            "provided in the certificate.")


def generate_certificate(common_name: str, days: int = 365 * 5) -> tuple[str, str]:
    """A new self-signed RSA certificate and its key, as PEM (CreateSigningCertificate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = _dt.datetime.now(_dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(minutes=5))
            .not_valid_after(now + _dt.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM,
                              serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()).decode())


class Certificates:
    """Signing certificates of users and server certificates of accounts."""

    SIGNING, SERVER = "signing_cert", "server_cert"

    def __init__(self, identity: Identity):
        self.identity = identity
        self.signing: dict[str, SigningCertificate] = {}
        self.server: dict[tuple[str, str], ServerCertificate] = {}
        for _, _, doc in identity.store.load(self.SIGNING):
            cert = SigningCertificate(**doc)
            self.signing[cert.cert_id] = cert
        for _, _, doc in identity.store.load(self.SERVER):
            server = ServerCertificate(**doc)
            self.server[(server.account_id, server.name)] = server

    # -- signing certificates ------------------------------------------------------------
    def _save_signing(self, cert: SigningCertificate) -> None:
        self.identity.store.put(self.SIGNING, cert.cert_id, cert.account_id, asdict(cert))

    def signing_for(self, account_id: str, user_name: str) -> list[SigningCertificate]:
        """A user's signing certificates, oldest first."""
        return sorted((c for c in self.signing.values()
                       if c.account_id == account_id and c.user_name == user_name),
                      key=lambda c: c.uploaded)

    def upload_signing(self, account_id: str, user_name: str, body: str) -> SigningCertificate:
        """UploadSigningCertificate (at most two per user, each certificate once)."""
        self.identity.user(account_id, user_name)
        cert = parse_certificate(body)
        from cryptography.hazmat.primitives import serialization

        der = cert.public_bytes(serialization.Encoding.DER)
        cert_id = hashlib.sha1(der).hexdigest().upper()[:32]  # noqa: S324 - an ID, not a MAC
        if cert_id in self.signing:
            raise IdentityError("DuplicateCertificate",
                                "The request was rejected because the same certificate is "
                                "associated with an IAM user in the account.", 409)
        if len(self.signing_for(account_id, user_name)) >= SIGNING_PER_USER:
            raise IdentityError("LimitExceeded", "Cannot exceed quota for "
                                f"SigningCertificatesPerUser: {SIGNING_PER_USER}", 409)
        record = SigningCertificate(cert_id, account_id, user_name, body.strip() + "\n",
                                    "Active", self.identity.now())
        self.signing[cert_id] = record
        self._save_signing(record)
        return record

    def _mine(self, account_id: str, user_name: str, cert_id: str) -> SigningCertificate:
        cert = self.signing.get(cert_id)
        if cert is None or cert.account_id != account_id or cert.user_name != user_name:
            raise IdentityError("NoSuchEntity", f"The Certificate with id {cert_id} cannot be "
                                "found.", 404)
        return cert

    def update_signing(self, account_id: str, user_name: str, cert_id: str,
                       status: str) -> None:
        """UpdateSigningCertificate (Active/Inactive)."""
        cert = self._mine(account_id, user_name, cert_id)
        if status not in ("Active", "Inactive"):
            raise IdentityError("ValidationError", "Status must be Active or Inactive")
        cert.status = status
        self._save_signing(cert)

    def delete_signing(self, account_id: str, user_name: str, cert_id: str) -> None:
        """DeleteSigningCertificate."""
        self._mine(account_id, user_name, cert_id)
        del self.signing[cert_id]
        self.identity.store.delete(self.SIGNING, cert_id)

    def rename_user(self, account_id: str, old: str, new: str) -> None:
        """Follow a user's rename."""
        for cert in self.signing_for(account_id, old):
            cert.user_name = new
            self._save_signing(cert)

    # -- server certificates -------------------------------------------------------------
    def _save_server(self, cert: ServerCertificate) -> None:
        self.identity.store.put(self.SERVER, f"{cert.account_id}:{cert.name}", cert.account_id,
                                asdict(cert))

    def upload_server(self, account_id: str, name: str, body: str, private_key: str,
                      chain: str = "", path: str = "/") -> ServerCertificate:
        """UploadServerCertificate: the key must match the certificate."""
        check_name(name, "serverCertificateName")
        check_path(path)
        cert = parse_certificate(body)
        if chain:
            parse_certificate(chain, "certificate chain")
        _check_private_key(private_key, cert)
        if (account_id, name) in self.server:
            raise IdentityError("EntityAlreadyExists",
                                f"The Server Certificate with name {name} already exists.", 409)
        if sum(1 for a, _ in self.server if a == account_id) >= SERVER_PER_ACCOUNT:
            raise IdentityError("LimitExceeded", "Cannot exceed quota for "
                                f"ServerCertificatesPerAccount: {SERVER_PER_ACCOUNT}", 409)
        record = ServerCertificate(account_id, name, ids.principal_id("ASCA"), path,
                                   body.strip() + "\n", chain.strip(), private_key,
                                   self.identity.now(),
                                   cert.not_valid_after_utc.timestamp())
        self.server[(account_id, name)] = record
        self._save_server(record)
        return record

    def server_cert(self, account_id: str, name: str) -> ServerCertificate:
        """A server certificate by name."""
        cert = self.server.get((account_id, name))
        if cert is None:
            raise IdentityError("NoSuchEntity", f"The Server Certificate with name {name} "
                                "cannot be found.", 404)
        return cert

    def list_server(self, account_id: str, prefix: str = "/") -> list[ServerCertificate]:
        """Server certificates under a path prefix."""
        return sorted((c for (a, _), c in self.server.items()
                       if a == account_id and c.path.startswith(prefix)), key=lambda c: c.name)

    def update_server(self, account_id: str, name: str, new_name: str | None = None,
                      new_path: str | None = None) -> None:
        """UpdateServerCertificate: rename and/or move."""
        cert = self.server_cert(account_id, name)
        if new_path is not None:
            check_path(new_path)
            cert.path = new_path
        if new_name and new_name != name:
            check_name(new_name, "newServerCertificateName")
            if (account_id, new_name) in self.server:
                raise IdentityError("EntityAlreadyExists", f"The Server Certificate with name "
                                    f"{new_name} already exists.", 409)
            del self.server[(account_id, name)]
            self.identity.store.delete(self.SERVER, f"{account_id}:{name}")
            cert.name = new_name
            self.server[(account_id, new_name)] = cert
        self._save_server(cert)

    def delete_server(self, account_id: str, name: str) -> None:
        """DeleteServerCertificate."""
        self.server_cert(account_id, name)
        del self.server[(account_id, name)]
        self.identity.store.delete(self.SERVER, f"{account_id}:{name}")

    def purge_account(self, account_id: str) -> None:
        """Forget an account's certificates (DeleteAccount)."""
        for cert_id in [k for k, c in self.signing.items() if c.account_id == account_id]:
            del self.signing[cert_id]
            self.identity.store.delete(self.SIGNING, cert_id)
        for key in [k for k in self.server if k[0] == account_id]:
            del self.server[key]
            self.identity.store.delete(self.SERVER, f"{key[0]}:{key[1]}")
