"""GetPasswordData: the administrator password of a Windows instance, as EC2 hands it out.

A Windows guest generates its administrator password at first boot and the cloud keeps it
encrypted to the public half of the instance's key pair (RSA, PKCS#1 v1.5, base64), so only
the key's owner can read it (``euca-get-password -k KEY``).  As on EC2 the answer is empty
until the password exists: here it is made when the instance first reaches ``running``, and
the same ciphertext is returned from then on.  Linux instances, and instances launched
without an RSA key pair, have no password data.
"""

from __future__ import annotations

import base64
import secrets
import string
from typing import TYPE_CHECKING, Any

from server.auth.authz import action, each_param
from server.clc.instances import get_instance
from server.clc.model import Instance
from server.protocol.query import Context
from server.protocol.xml import iso8601

if TYPE_CHECKING:
    from server.clc.controller import CloudController

#: Store kind of the encrypted passwords (instance ID -> {"data", "time"}).
KIND = "instance_password"
#: Characters of a generated password: letters, digits and symbols Windows accepts.
_ALPHABET = string.ascii_letters + string.digits + "!$%()*+-.;=?@_"
PASSWORD_LENGTH = 32


def generate_password() -> str:
    """A strong administrator password with each character class present."""
    while True:
        text = "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))
        if (any(c.islower() for c in text) and any(c.isupper() for c in text)
                and any(c.isdigit() for c in text) and any(not c.isalnum() for c in text)):
            return text


def encrypt_to_key_pair(public_key_openssh: str, password: str) -> str | None:
    """``password`` encrypted with an OpenSSH RSA public key (PKCS#1 v1.5), base64; None
    when the key is not RSA (ed25519 keys cannot encrypt)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    blob = " ".join(public_key_openssh.split()[:2]).encode()
    try:
        key = serialization.load_ssh_public_key(blob)
    except (ValueError, TypeError):
        return None
    if not isinstance(key, rsa.RSAPublicKey):
        return None
    return base64.b64encode(key.encrypt(password.encode(), padding.PKCS1v15())).decode()


class Passwords:
    """The encrypted passwords of the cloud's Windows instances (persisted in the store).

    Built with the CLC by the composition root (``cloud.passwords``), so that it hears
    every instance reach ``running`` from the start.
    """

    def __init__(self, clc: CloudController):
        self.clc = clc
        self.store = clc.store
        self.by_instance: dict[str, dict[str, Any]] = {
            rid: doc for rid, _account, doc in self.store.load(KIND)}
        clc.instance_listeners.append(self.on_instance_state)

    def on_instance_state(self, inst: Instance, previous: str) -> None:
        """A Windows guest makes its password when it first runs; a terminated instance's
        password is forgotten with it."""
        if inst.state == "running":
            self.ensure(inst)
        elif inst.state == "terminated" and self.by_instance.pop(inst.id, None) is not None:
            self.store.delete(KIND, inst.id)

    def ensure(self, inst: Instance) -> dict[str, Any] | None:
        """The password record of a running Windows instance, generated on first need."""
        found = self.by_instance.get(inst.id)
        if found is not None or inst.platform != "windows" or not inst.key_name:
            return found
        if inst.state not in ("running", "stopping", "stopped"):
            return None
        kp = self.clc.key_pairs.get((inst.account_id, inst.key_name))
        data = encrypt_to_key_pair(kp.public_key, generate_password()) if kp else None
        if data is None:
            return None
        doc = {"data": data, "time": self.clc.clock.now()}
        self.by_instance[inst.id] = doc
        self.store.put(KIND, inst.id, inst.account_id, doc)
        return doc


def get_password_data(ctx: Context) -> Any:
    """GetPasswordData: the encrypted password, or empty while there is none (yet)."""
    inst = get_instance(ctx, ctx.params.str("InstanceId", required=True))
    doc = ctx.cloud.passwords.ensure(inst)
    when = doc["time"] if doc else ctx.cloud.clock.now()
    return {"instanceId": inst.id, "timestamp": iso8601(when),
            "passwordData": doc["data"] if doc else ""}


ACTIONS = {
    "GetPasswordData": action(get_password_data, "ec2:GetPasswordData",
                              resources=each_param("InstanceId", "instance")),
}
