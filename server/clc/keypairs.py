"""EC2 key pairs: real RSA keys, imported OpenSSH keys, fingerprints as AWS computes them."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from server import errors, ids
from server.auth.authz import action, each_param
from server.clc.filters import Filters
from server.clc.model import KeyPair
from server.clc.render import tag_set
from server.clc.tags import apply_tags, tag_specifications
from server.protocol.query import Context
from server.protocol.xml import iso8601

InvalidKeyPairDuplicate = errors._error("InvalidKeyPairDuplicate", "InvalidKeyPair.Duplicate")
InvalidKeyPairNotFound = errors._error("InvalidKeyPairNotFound", "InvalidKeyPair.NotFound")
InvalidKeyFormat = errors._error("InvalidKeyFormat", "InvalidKey.Format")


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def create_fingerprint(private_key: rsa.RSAPrivateKey) -> str:
    """AWS's fingerprint of a key it created: SHA-1 of the PKCS#8 DER private key."""
    der = private_key.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    return _colon_hex(hashlib.sha1(der).digest())


def import_fingerprint(public_key: Any) -> str:
    """AWS's fingerprint of an imported key: MD5 of the DER public key (RSA),
    or the base64 SHA-256 of the OpenSSH key blob (ed25519)."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        blob = public_key.public_bytes(serialization.Encoding.OpenSSH,
                                       serialization.PublicFormat.OpenSSH).split()[1]
        return base64.b64encode(hashlib.sha256(base64.b64decode(blob)).digest()).decode()
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return _colon_hex(hashlib.md5(der).digest())


def _tag_set(pairs: list[tuple[str, str]]) -> list[dict[str, str]] | None:
    return [{"key": k, "value": v} for k, v in pairs] or None


def _name(ctx: Context) -> str:
    name: str = ctx.params.str("KeyName", required=True)
    if not name or len(name) > 255:
        raise errors.InvalidParameterValue("Key names must be 1 to 255 characters")
    if not name.isascii():
        raise errors.InvalidParameterValue(f"Value ({name}) for parameter keyName is invalid. "
                                           "Character sets beyond ASCII are not supported.")
    return name


def create_key_pair(ctx: Context) -> Any:
    """CreateKeyPair: a new 2048-bit RSA key; the private half is returned once."""
    clc = ctx.cloud.clc
    name = _name(ctx)
    if (ctx.account_id, name) in clc.key_pairs:
        raise InvalidKeyPairDuplicate(f"The keypair '{name}' already exists.")
    kind = ctx.params.str("KeyType", "rsa")
    if kind not in ("rsa", "ed25519"):
        raise errors.InvalidParameterValue(f"Value ({kind}) for parameter keyType is invalid. "
                                           "Valid values are: rsa, ed25519")
    key_format = ctx.params.str("KeyFormat", "pem")
    if key_format != "pem":
        raise errors.InvalidParameterValue(f"Value ({key_format}) for parameter keyFormat is "
                                           "invalid. Only pem is supported")
    tags = tag_specifications(ctx, ("key-pair",))
    key: Any
    if kind == "ed25519":  # AWS hands ed25519 keys out in OpenSSH's private key format
        key = ed25519.Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
        fingerprint = import_fingerprint(key.public_key())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
        fingerprint = create_fingerprint(key)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    kp = KeyPair(f"{ctx.account_id}:{name}", ctx.account_id, name, ids.resource_id("key"),
                 fingerprint, f"{public} {name}", clc.clock.now(), kind)
    clc.key_pairs[(ctx.account_id, name)] = kp
    clc.save(kp)
    if tags:
        apply_tags(ctx, kp.key_id, kp.account_id, tags["key-pair"])
    return {"keyName": name, "keyFingerprint": kp.fingerprint, "keyMaterial": pem.rstrip("\n"),
            "keyPairId": kp.key_id, "tagSet": _tag_set(tags.get("key-pair", []))}


def _from_rfc4716(text: bytes) -> bytes:
    """An SSH2 (RFC 4716) public key file as an OpenSSH line: the base64 body between the
    markers, without its headers (``Comment: ...``, continued by a trailing backslash)."""
    body: list[bytes] = []
    continued = False
    for line in text.splitlines()[1:]:
        line = line.strip()
        if line.startswith(b"---- END SSH2 PUBLIC KEY ----"):
            break
        if continued or b":" in line:
            continued = line.endswith(b"\\")
            continue
        body.append(line)
    blob = b"".join(body)
    wire = base64.b64decode(blob)  # starts with the key type: a length and the name
    name = wire[4:4 + int.from_bytes(wire[:4], "big")]
    return name + b" " + blob


def import_key_pair(ctx: Context) -> Any:
    """ImportKeyPair: an OpenSSH RSA or ed25519 public key (base64 of the file's text)."""
    clc = ctx.cloud.clc
    name = _name(ctx)
    if (ctx.account_id, name) in clc.key_pairs:
        raise InvalidKeyPairDuplicate(f"The keypair '{name}' already exists.")
    material = ctx.params.base64("PublicKeyMaterial") or b""
    # AWS: an empty (or blank) key is a missing parameter; undecodable text is a bad key
    if not (ctx.params.str("PublicKeyMaterial") or "").strip() or \
            (material and not material.strip()):
        raise errors.MissingParameter("The request must contain the parameter PublicKeyMaterial")
    text = material.strip()
    public: Any
    try:
        if text.startswith(b"---- BEGIN SSH2 PUBLIC KEY ----"):
            public = serialization.load_ssh_public_key(_from_rfc4716(text))
        elif text.startswith(b"ssh-") or text.startswith(b"ecdsa-"):
            public = serialization.load_ssh_public_key(b" ".join(text.split()[:2]))
        elif text.startswith(b"-----BEGIN"):
            public = serialization.load_pem_public_key(text)
        else:
            public = serialization.load_der_public_key(base64.b64decode(text))
    except (ValueError, TypeError, IndexError):
        raise InvalidKeyFormat("Key is not in valid OpenSSH public key format") from None
    if not isinstance(public, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise InvalidKeyFormat("Only RSA and ed25519 keys are supported")
    tags = tag_specifications(ctx, ("key-pair",))
    openssh = public.public_bytes(serialization.Encoding.OpenSSH,
                                  serialization.PublicFormat.OpenSSH).decode()
    kind = "ed25519" if isinstance(public, ed25519.Ed25519PublicKey) else "rsa"
    kp = KeyPair(f"{ctx.account_id}:{name}", ctx.account_id, name, ids.resource_id("key"),
                 import_fingerprint(public), f"{openssh} {name}", clc.clock.now(), kind)
    clc.key_pairs[(ctx.account_id, name)] = kp
    clc.save(kp)
    if tags:
        apply_tags(ctx, kp.key_id, kp.account_id, tags["key-pair"])
    return {"keyName": name, "keyFingerprint": kp.fingerprint, "keyPairId": kp.key_id,
            "tagSet": _tag_set(tags.get("key-pair", []))}


def delete_key_pair(ctx: Context) -> Any:
    """DeleteKeyPair (succeeds for a missing key, as EC2)."""
    clc = ctx.cloud.clc
    name = ctx.params.str("KeyName")
    key_id = ctx.params.str("KeyPairId")
    if not name and not key_id:
        raise errors.MissingParameter("The request must contain the parameter KeyName")
    for (account, kname), kp in list(clc.key_pairs.items()):
        if account == ctx.account_id and (kname == name or kp.key_id == key_id):
            del clc.key_pairs[(account, kname)]
            clc.forget(kp)
            clc.delete_tags_of(kp.key_id)
    return None


def describe_key_pairs(ctx: Context) -> Any:
    """DescribeKeyPairs with names, IDs and filters."""
    clc = ctx.cloud.clc
    mine = [kp for (a, _), kp in clc.key_pairs.items() if a == ctx.account_id]
    everyone = ctx.is_admin and "verbose" in ctx.params.strings("KeyName")
    if everyone:
        mine = list(clc.key_pairs.values())
    names = [n for n in ctx.params.strings("KeyName") if n != "verbose"]
    key_ids = ctx.params.strings("KeyPairId")
    if names or key_ids:
        found = []
        for n in names:
            match = [k for k in mine if k.name == n]
            if not match:
                raise InvalidKeyPairNotFound(f"The key pair '{n}' does not exist")
            found.extend(match)
        for k_id in key_ids:
            match = [k for k in mine if k.key_id == k_id]
            if not match:
                raise InvalidKeyPairNotFound(f"The key pair '{k_id}' does not exist")
            found.extend(match)
        mine = found
    filt = ctx.params.filters()
    if filt:
        mine = Filters({"key-name": lambda k: k.name, "fingerprint": lambda k: k.fingerprint,
                        "key-pair-id": lambda k: k.key_id, "key-type": lambda k: k.key_type},
                       lambda k: clc.tags.get(k.key_id, {})).apply(mine, filt)
    public = ctx.params.bool("IncludePublicKey", False)
    return {"keySet": [{"keyPairId": k.key_id, "keyName": k.name,
                        "keyFingerprint": k.fingerprint, "keyType": k.key_type,
                        "publicKey": k.public_key if public else None,
                        "createTime": iso8601(k.created) if k.created else None,
                        "tagSet": tag_set(clc, k.key_id)}
                       for k in sorted(mine, key=lambda k: k.name)]}


_KEY_PAIR = each_param("KeyName", "key-pair")

ACTIONS = {
    "CreateKeyPair": action(create_key_pair, "ec2:CreateKeyPair", resources=_KEY_PAIR),
    "ImportKeyPair": action(import_key_pair, "ec2:ImportKeyPair", resources=_KEY_PAIR),
    "DeleteKeyPair": action(delete_key_pair, "ec2:DeleteKeyPair", resources=_KEY_PAIR),
    "DescribeKeyPairs": action(describe_key_pairs, "ec2:DescribeKeyPairs"),
}
