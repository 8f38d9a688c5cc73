"""The cloud's HTTPS identity: its certificate and key, named in the config or made here.

Eucalyptus serves HTTPS next to plain HTTP (8443 beside 8773).  A cloud without a
configured certificate makes, on first start, its own small CA and a server certificate
signed by it into the data dir (``https-ca.pem``, ``https-cert.pem``, ``https-key.pem``,
the keys 0600); clients verify the server against ``https-ca.pem``, which the written
``euca2ools.ini`` names.  The CA's key is kept only to re-issue the server certificate
when its names change.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import ssl
from dataclasses import dataclass

from server.util import atomic_write

#: (Not ``cloud-cert.pem``/``cloud-pk.pem``: those are Walrus' image-bundling pair.)
CA_FILE, CA_KEY_FILE = "https-ca.pem", "https-ca-key.pem"
CERT_FILE, KEY_FILE = "https-cert.pem", "https-key.pem"
#: Validity of generated certificates.
CA_DAYS, CERT_DAYS = 3650, 825


@dataclass(frozen=True)
class TLSFiles:
    """Where the server's certificate, key and the CA clients trust are."""

    cert: str
    key: str
    #: What clients verify against: the generated CA, or the configured certificate itself.
    ca: str

    def context(self) -> ssl.SSLContext:
        """A server-side TLS context (TLS 1.2 or later)."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def _pem_key(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def _names(hosts: list[str]) -> list[object]:
    from cryptography import x509

    out: list[object] = []
    for host in dict.fromkeys(hosts):
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(host.strip("[]"))))
        except ValueError:
            out.append(x509.DNSName(host))
    return out


def generate(data_dir: str, hosts: list[str]) -> TLSFiles:
    """The data dir's CA and server certificate for ``hosts``, made when missing."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_path, ca_key_path = os.path.join(data_dir, CA_FILE), os.path.join(data_dir, CA_KEY_FILE)
    cert_path, key_path = os.path.join(data_dir, CERT_FILE), os.path.join(data_dir, KEY_FILE)
    files = TLSFiles(cert_path, key_path, ca_path)
    hosts = list(dict.fromkeys(["127.0.0.1", "localhost", *hosts]))
    if os.path.exists(cert_path) and os.path.exists(key_path) and os.path.exists(ca_path):
        with open(cert_path, "rb") as fh:
            current = x509.load_pem_x509_certificate(fh.read())
        try:
            san = current.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            have = {str(v) for v in san.get_values_for_type(x509.DNSName)}
            have |= {str(v) for v in san.get_values_for_type(x509.IPAddress)}
        except x509.ExtensionNotFound:
            have = set()
        expires = current.not_valid_after_utc
        if set(hosts) <= have and expires > _dt.datetime.now(_dt.UTC) + _dt.timedelta(days=30):
            return files
    now = _dt.datetime.now(_dt.UTC)
    if os.path.exists(ca_path) and os.path.exists(ca_key_path):
        with open(ca_path, "rb") as fh:
            ca_cert = x509.load_pem_x509_certificate(fh.read())
        with open(ca_key_path, "rb") as fh:
            ca_key = serialization.load_pem_private_key(fh.read(), password=None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Eucalyptus"),
                             x509.NameAttribute(NameOID.COMMON_NAME, "Eucalyptus cloud CA")])
        ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
                   .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - _dt.timedelta(minutes=5))
                   .not_valid_after(now + _dt.timedelta(days=CA_DAYS))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                                False, False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                       ca_key.public_key()), critical=False)
                   .sign(ca_key, hashes.SHA256()))
        atomic_write(ca_key_path, _pem_key(ca_key), mode=0o600)
        atomic_write(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM), mode=0o600)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(minutes=5))
            .not_valid_after(now + _dt.timedelta(days=CERT_DAYS))
            .add_extension(x509.SubjectAlternativeName(_names(hosts)),  # type: ignore[arg-type]
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)  # type: ignore[arg-type]
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    atomic_write(key_path, _pem_key(key), mode=0o600)
    atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o600)
    return files


def server_files(data_dir: str, cert: str, key: str, hosts: list[str]) -> TLSFiles:
    """The configured certificate and key, or the generated ones."""
    if cert and key:
        return TLSFiles(os.path.abspath(cert), os.path.abspath(key), os.path.abspath(cert))
    return generate(data_dir, hosts)
