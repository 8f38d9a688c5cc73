"""Windows administrator passwords: GetPasswordData, raw or decrypted with the key pair."""

from __future__ import annotations

from ..decl import Arg, Command

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

_INSTANCE = Arg("INSTANCE", dest="InstanceId", complete="instance",
                help="ID of the instance to obtain the password for")


def _print_data(inv: Invocation, result: Any) -> None:
    """The base64 passwordData as the cloud sent it (nothing while there is none yet)."""
    data = (result.get("passwordData") or "").strip()
    if data:
        inv.echo(data)


def load_private_key(key_path: str) -> Any:
    """The RSA private key of a PEM file; read before the request is sent, so a missing or
    unreadable key file is a usage error whatever the cloud would answer."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ..exceptions import Euca2oolsError

    with open(key_path, "rb") as handle:
        pem = handle.read()
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise Euca2oolsError(f"{key_path} is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise Euca2oolsError(f"{key_path} is not an RSA private key")
    return key


def decrypt_password(key: Any, key_path: str, data: str) -> str:
    """passwordData decrypted with an RSA private key (PKCS#1 v1.5), as
    ``openssl rsautl -decrypt -inkey KEY`` does for euca2ools."""
    import base64
    import binascii

    from cryptography.hazmat.primitives.asymmetric import padding

    from ..exceptions import Euca2oolsError

    wrong = Euca2oolsError(f"the password data cannot be decrypted with {key_path}: it is "
                           "not the private key of the instance's key pair")
    try:
        secret = key.decrypt(base64.b64decode(data, validate=True), padding.PKCS1v15())
        password = secret.decode("utf-8")
    except (ValueError, binascii.Error):
        raise wrong from None
    # OpenSSL answers a wrong key with random bytes rather than an error (implicit
    # rejection): a password is printable text, those bytes are not.
    if not password or not password.isprintable():
        raise wrong
    return str(password)


def _load_key(inv: Invocation) -> None:
    inv.args["_private_key"] = load_private_key(inv.args["priv_launch_key"])


def _print_password(inv: Invocation, result: Any) -> None:
    """The decrypted password; nothing while the instance has not made one yet."""
    data = (result.get("passwordData") or "").strip()
    if data:
        inv.echo(decrypt_password(inv.args["_private_key"], inv.args["priv_launch_key"], data))


COMMANDS = [
    Command(
        "euca-get-password-data", "ec2", "GetPasswordData",
        "Retrieve the encrypted administrator password for an instance running Windows",
        [_INSTANCE],
        description="The encrypted password may be decrypted using the private key of the "
                    "key pair given when launching the instance (see euca-get-password). "
                    "Nothing is printed until the instance has generated its password.",
        output=_print_data,
    ),
    Command(
        "euca-get-password", "ec2", "GetPasswordData",
        "Retrieve the administrator password for an instance running Windows",
        [_INSTANCE,
         Arg("-k", "--priv-launch-key", name="priv_launch_key", metavar="FILE", required=True,
             complete="file", help="file containing the private key corresponding to the key "
                                   "pair supplied at instance launch time")],
        description="The password is decrypted locally with the private key; it never leaves "
                    "this host in the clear.",
        prepare=_load_key, output=_print_password,
    ),
]
