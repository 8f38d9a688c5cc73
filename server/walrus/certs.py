"""The cloud's certificate (image bundling) and the Empyrean bootstrap service.

euca-bundle-image encrypts a bundle's AES key to this certificate; the cloud decrypts it
with the matching key (:mod:`server.walrus.bundle`).  Clients find the certificate in the
region's ``certificate`` option of euca2ools.ini or through DescribeServiceCertificates.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from typing import TYPE_CHECKING, Any

from server import errors
from server.auth.authz import action
from server.protocol.query import Context, Handler, QueryService
from server.util import atomic_write

if TYPE_CHECKING:
    from server.cloud import Cloud

CERT_FILE = "cloud-cert.pem"
KEY_FILE = "cloud-pk.pem"


def ensure_certificate(data_dir: str) -> tuple[str, str]:
    """Create an RSA-2048 key and a self-signed X.509 certificate once; their paths."""
    cert_path = os.path.join(data_dir, CERT_FILE)
    key_path = os.path.join(data_dir, KEY_FILE)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "eucalyptus"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Eucalyptus")])
    now = _dt.datetime.now(_dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1))
            .not_valid_after(now + _dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    atomic_write(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()), mode=0o600)
    atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


class EmpyreanService(QueryService):
    """Eucalyptus' bootstrap service (``/services/Empyrean``): service certificates."""

    signing_names = ("bootstrap",)
    iam_prefix = "euserv"
    path = "/services/Empyrean"
    api_version = "eucalyptus"
    xmlns = "http://www.eucalyptus.com/ns/empyrean/2012-10-01/"
    style = "query"
    anonymous_actions = frozenset({"DescribeServiceCertificates"})  # certificates are public

    def action_table(self) -> dict[str, Handler]:
        """Bootstrap actions."""
        return {"DescribeServiceCertificates": action(self.describe_service_certificates,
                                                      "empyrean:DescribeServiceCertificates")}

    def describe_service_certificates(self, ctx: Context) -> Any:
        """The cloud certificate for image bundling, as PEM (or base64 DER)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        path = self.cloud.certificate_path
        assert path is not None  # made by Walrus' setup, which registers this service
        with open(path, "rb") as fh:
            pem = fh.read()
        cert = x509.load_pem_x509_certificate(pem)
        der = cert.public_bytes(serialization.Encoding.DER)
        fmt = (ctx.params.str("Format") or "pem").lower()
        digest_name = (ctx.params.str("FingerprintDigest") or "SHA-256").upper()
        algorithm = {"SHA-1": "sha1", "SHA1": "sha1", "SHA-512": "sha512"}.get(digest_name,
                                                                                "sha256")
        fingerprint = hashlib.new(algorithm, der).hexdigest().upper()
        fingerprint = ":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2))
        import base64

        body = pem.decode() if fmt == "pem" else base64.b64encode(der).decode()
        certs = [{"serviceType": kind, "certificateUsage": "image-bundling",
                  "certificateFormat": fmt, "certificateFingerprintDigest": digest_name,
                  "certificateFingerprint": fingerprint, "certificate": body}
                 for kind in ("compute", "objectstorage")]
        return {"serviceCertificates": certs}


def cloud_key(cloud: Cloud) -> Any:
    """The cloud's private key (for decrypting bundles)."""
    from cryptography.hazmat.primitives import serialization

    if cloud.certificate_key_path is None:
        raise errors.AWSError("this cloud has no certificate (it runs without Walrus)",
                              code="InternalError", status=500)
    with open(cloud.certificate_key_path, "rb") as fh:
        return serialization.load_pem_private_key(fh.read(), password=None)
