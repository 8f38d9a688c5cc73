"""Key pair commands (and the local euca-fingerprint-key)."""

from __future__ import annotations

from ..decl import Arg, Command
from ..output import print_keypair
from ..xmlparse import as_list
from .types import read_file_b64

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _print_create(inv: Invocation, result: Any) -> None:
    """KEYPAIR line, then the private key (or write it to -f FILE with umask 077)."""
    import os

    print_keypair(inv, result)
    material = result.get("keyMaterial") or ""
    if inv.args.get("filename"):
        old = os.umask(0o077)
        try:
            with open(inv.args["filename"], "w", encoding="utf-8") as handle:
                handle.write(material.rstrip("\n") + "\n")
        finally:
            os.umask(old)
    else:
        inv.echo(material.rstrip("\n"))


def _print_describe(inv: Invocation, result: Any) -> None:
    for key in as_list(result.get("keySet")):
        print_keypair(inv, key)


def _run_fingerprint(inv: Invocation) -> None:
    """Colon-separated SHA-1 of the key's unencrypted PKCS#8 DER (as EC2 shows it)."""
    import hashlib

    from cryptography.hazmat.primitives import serialization

    with open(inv.args["file"], "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    digest = hashlib.sha1(der).hexdigest()
    inv.echo(":".join(digest[i:i + 2] for i in range(0, len(digest), 2)))


_KEYPAIR = Arg("KEYPAIR", dest="KeyName", complete="keypair", help="name of the key pair")

COMMANDS = [
    Command(
        "euca-create-keypair", "ec2", "CreateKeyPair",
        "Create a new SSH key pair for use with instances",
        [Arg("KEYPAIR", dest="KeyName", help="name of the new key pair"),
         Arg("-f", "--filename", name="filename", metavar="FILE", complete="file",
             help="file name to save the private key to")],
        output=_print_create,
    ),
    Command(
        "euca-import-keypair", "ec2", "ImportKeyPair",
        "Import a public RSA key as a new key pair",
        [Arg("KEYPAIR", dest="KeyName", help="name for the new key pair"),
         Arg("-f", "--public-key-file", name="public_key_file", metavar="FILE", required=True,
             complete="file",
             help="file name of the public key to import, or \"-\" to read it from stdin")],
        prepare=lambda inv: inv.params.update(
            PublicKeyMaterial=read_file_b64(inv.args["public_key_file"])),
        output=print_keypair,
    ),
    Command("euca-delete-keypair", "ec2", "DeleteKeyPair", "Delete a key pair", [_KEYPAIR],
            output=lambda inv, _r: inv.emit("KEYPAIR", inv.args.get("KeyName"))),
    Command(
        "euca-describe-keypairs", "ec2", "DescribeKeyPairs",
        "Display information about available key pairs",
        [Arg("KEYPAIR", dest="KeyName", nargs="*", complete="keypair",
             help="limit results to specific key pairs")],
        filters=("fingerprint", "key-name"), output=_print_describe,
    ),
    Command(
        "euca-fingerprint-key", "local", None,
        "Show the fingerprint of a private key as it would appear in the output of "
        "euca-describe-keypairs",
        [Arg("FILE", name="file", complete="file", help="file containing the private key")],
        run=_run_fingerprint, fast=False,
    ),
]
