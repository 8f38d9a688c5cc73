"""A user's credentials archive: what Eucalyptus' credentials download gives.

A zip of ``euca2ools.ini`` (the cloud's HTTPS URLs, the user's key and the CA to verify
the cloud against, named relative to the ini), ``eucarc`` (the same as environment
variables for the classic tools), the user's X.509 signing certificate and its private
key, the cloud's certificate and, when the cloud serves HTTPS, its CA certificate.
"""

from __future__ import annotations

import io
import os
import zipfile
from typing import TYPE_CHECKING

from server.auth.certs import generate_certificate
from server.auth.identity import AccessKey, IdentityError
from server.auth.secrets import SEALED_FIELDS

if TYPE_CHECKING:
    from server.cloud import Cloud

CA_NAME, CLOUD_CERT_NAME = "cloud-ca.pem", "cloud-cert.pem"
#: Private keys of signing certificates made for a download (sealed at rest).
KEY_KIND = "console_cert_key"
SEALED_FIELDS.setdefault(KEY_KIND, ("key",))


def _access_key(cloud: Cloud, account_id: str, user: str) -> AccessKey:
    keys = [k for k in cloud.identity.list_access_keys(account_id, user) if k.status == "Active"]
    return keys[0] if keys else cloud.identity.create_access_key(account_id, user)


def _signing_pair(cloud: Cloud, account_id: str, user: str) -> tuple[str, str, str] | None:
    """(cert ID, certificate, key): the one made at approval, else a new one while the
    user has room for it (its key is given only in this archive); None when full."""
    signups = cloud.components.get("signups")
    certs = cloud.identity.certs
    kept = {rid: doc["key"] for rid, acct, doc in cloud.store.load(KEY_KIND) if acct == account_id}
    for cert in certs.signing_for(account_id, user):
        key = signups.certificate_key(account_id, cert.cert_id) if signups else None
        key = key or kept.get(cert.cert_id)
        if key and cert.status == "Active":
            return cert.cert_id, cert.body, key
    try:
        body, key = generate_certificate(f"{account_id}-{user}")
        cert = certs.upload_signing(account_id, user, body)
    except IdentityError:  # LimitExceeded: the user manages their certificates with euare-*
        return None
    # Kept (sealed) so that the next download gives the same pair.
    cloud.store.put(KEY_KIND, cert.cert_id, account_id, {"key": key})
    return cert.cert_id, cert.body, key


def _read(path: str | None) -> bytes | None:
    if not path or not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        return fh.read()


def eucarc(cloud: Cloud, account_id: str, user: str, key: AccessKey, cert_file: str | None,
           key_file: str | None, ca: bool) -> str:
    """The ``eucarc`` shell fragment."""
    base = cloud.https_url or cloud.url
    lines = ["EUCA_KEY_DIR=$(cd \"$(dirname \"${BASH_SOURCE:-$0}\")\"; pwd -P)"]
    for var, service in (("EC2_URL", "ec2"), ("S3_URL", "s3"), ("EUARE_URL", "iam"),
                         ("TOKEN_URL", "sts"), ("AWS_AUTO_SCALING_URL", "autoscaling"),
                         ("AWS_CLOUDWATCH_URL", "monitoring"),
                         ("AWS_ELB_URL", "elasticloadbalancing")):
        path = cloud.app.endpoints.get(service)
        if path:
            lines.append(f"export {var}={base}{path}")
    lines += [f"export EC2_ACCESS_KEY='{key.key_id}'", f"export EC2_SECRET_KEY='{key.secret}'",
              f"export AWS_ACCESS_KEY='{key.key_id}'", f"export AWS_SECRET_KEY='{key.secret}'",
              f"export AWS_ACCESS_KEY_ID='{key.key_id}'",
              f"export AWS_SECRET_ACCESS_KEY='{key.secret}'",
              f"export EC2_ACCOUNT_NUMBER='{account_id}'", f"export EC2_USER_ID='{account_id}'"]
    if cert_file and key_file:
        lines += [f"export EC2_CERT=${{EUCA_KEY_DIR}}/{cert_file}",
                  f"export EC2_PRIVATE_KEY=${{EUCA_KEY_DIR}}/{key_file}"]
    lines.append(f"export EUCALYPTUS_CERT=${{EUCA_KEY_DIR}}/{CLOUD_CERT_NAME}")
    if ca:
        lines.append(f"export AWS_CA_BUNDLE=${{EUCA_KEY_DIR}}/{CA_NAME}")
    return "\n".join(lines) + "\n"


def credentials_zip(cloud: Cloud, account_id: str, user: str) -> bytes:
    """The archive's bytes."""
    key = _access_key(cloud, account_id, user)
    ca = _read(cloud.ca_path)
    ini = cloud.client_config(account_id, user, key.key_id, key.secret,
                              ca_bundle=CA_NAME if ca else None)
    cloud_cert = cloud.certificate_path
    if cloud_cert:
        # The server's path means nothing on the user's machine; without the line the
        # bundling commands fetch the cloud's certificate from the bootstrap service
        # (eucarc's EUCALYPTUS_CERT names the copy in the archive).
        ini = ini.replace(f"certificate = {cloud_cert}\n", "")
    pair = _signing_pair(cloud, account_id, user)
    cert_file = key_file = None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("euca2ools.ini", ini)
        if pair is not None:
            stem = f"euca2-{user}-{pair[0][:8].lower()}"
            cert_file, key_file = f"{stem}-cert.pem", f"{stem}-pk.pem"
            zf.writestr(cert_file, pair[1])
            zf.writestr(key_file, pair[2])
        data = _read(cloud_cert)
        if data:
            zf.writestr(CLOUD_CERT_NAME, data)
        if ca:
            zf.writestr(CA_NAME, ca)
        zf.writestr("eucarc", eucarc(cloud, account_id, user, key, cert_file, key_file,
                                     ca is not None))
    return buf.getvalue()
