"""AWS Signature Version 4: canonical requests and server-side verification.

The verifier is pure: it takes the request's parts and a secret-key lookup and
either returns the verified :class:`SigV4Credential` or raises a
:class:`SigV4Error` with a reason; each service maps reasons to its own AWS error
codes (EC2 says ``AuthFailure``, IAM ``SignatureDoesNotMatch``, S3 its own).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW_SECONDS = 15 * 60
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

#: Eucalyptus' own component names, which clients of Eucalyptus clouds may sign with
#: instead of AWS's signing name (a signature still binds to one service: the sets are
#: disjoint).
EUCALYPTUS_SERVICE_NAMES: dict[str, tuple[str, ...]] = {
    "ec2": ("compute", "eucalyptus"),
    "iam": ("euare",),
    "sts": ("tokens",),
    "s3": ("objectstorage", "walrus"),
    "bootstrap": ("empyrean",),
    "monitoring": ("cloudwatch",),
    "autoscaling": ("autoscaling",),
    "elasticloadbalancing": ("loadbalancing",),
    "cloudformation": ("cloudformation",),
}

_WS = re.compile(r"\s+")
_AUTH_PART = re.compile(r"(\w+)=([^,\s]*)")


class SigV4Error(Exception):
    """Why a request failed verification; ``reason`` is one of the class constants."""

    MISSING = "missing"            # no signature at all
    INCOMPLETE = "incomplete"      # malformed Authorization / presigned parameters
    UNKNOWN_KEY = "unknown-key"    # access key not found
    MISMATCH = "mismatch"          # signature differs
    EXPIRED = "expired"            # outside the 15-minute window / presigned expiry
    NOT_YET = "not-yet-valid"      # request time in the future
    WRONG_SERVICE = "wrong-service"  # the credential scope names another service

    def __init__(self, reason: str, message: str, *, access_key: str = "",
                 canonical_request: str = "", string_to_sign: str = "",
                 scope_service: str = ""):
        super().__init__(message)
        self.reason = reason
        self.scope_service = scope_service
        self.message = message
        self.access_key = access_key
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign


@dataclass(frozen=True, slots=True)
class SigV4Credential:
    """The verified signature's scope and signing facts."""

    access_key: str
    date: str          # YYYYMMDD of the scope
    region: str
    service: str
    amz_date: str      # the request's ISO-8601 basic timestamp
    signature: str
    signing_key: bytes
    presigned: bool
    payload_hash: str  # as signed (hex, UNSIGNED-PAYLOAD or STREAMING-...)


def _uri_encode(text: str, safe: str = "~") -> str:
    return quote(text, safe=safe)


_URI_CACHE: dict[tuple[str, bool], str] = {}


def canonical_uri(path: str, *, normalize: bool) -> str:
    """The canonical URI of a decoded ``path``: normalized (not for S3), then URI-encoded once."""
    key = (path, normalize)
    cached = _URI_CACHE.get(key)
    if cached is None:
        cached = _canonical_uri(path, normalize)
        if len(_URI_CACHE) > 1024:
            _URI_CACHE.clear()
        _URI_CACHE[key] = cached
    return cached


def _canonical_uri(path: str, normalize: bool) -> str:
    if not path:
        return "/"
    if normalize:
        trailing = path.endswith("/") and path != "/"
        path = posixpath.normpath(path)
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        if trailing and not path.endswith("/"):
            path += "/"
        if path == ".":
            path = "/"
    return _uri_encode(path, safe="/~")


def canonical_query(pairs: Iterable[tuple[str, str]], *, exclude_signature: bool = False) -> str:
    """Sorted, strictly encoded ``k=v&...`` from decoded query pairs."""
    enc = []
    for key, value in pairs:
        if exclude_signature and key == "X-Amz-Signature":
            continue
        enc.append((_uri_encode(key), _uri_encode(value)))
    enc.sort()
    return "&".join(f"{k}={v}" for k, v in enc)


def parse_query(raw: str) -> list[tuple[str, str]]:
    """Decode a raw query string into pairs, keeping blanks and order (``+`` stays literal)."""
    if not raw:
        return []
    out = []
    for part in raw.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        out.append((unquote(key), unquote(value)))
    return out


def canonical_headers(headers: Iterable[tuple[str, str]], signed: list[str]) -> str:
    """``name:value\\n`` for each signed header, values trimmed and joined with commas."""
    wanted = set(signed)
    found: dict[str, list[str]] = {}
    for name, value in headers:
        low = name.lower()
        if low in wanted:
            value = value.strip()
            if "  " in value or "\t" in value or "\n" in value:
                value = _WS.sub(" ", value)
            found.setdefault(low, []).append(value)
    return "".join(f"{name}:{','.join(found.get(name, []))}\n" for name in signed)


def canonical_request(method: str, uri: str, query: str, headers: str, signed: list[str],
                      payload_hash: str) -> str:
    """The six-line canonical request."""
    return f"{method}\n{uri}\n{query}\n{headers}\n{';'.join(signed)}\n{payload_hash}"


def string_to_sign(amz_date: str, scope: str, creq: str) -> str:
    """The string to sign over a canonical request."""
    digest = hashlib.sha256(creq.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


_KEY_CACHE: dict[tuple[str, str, str, str], bytes] = {}


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived signing key (cached: it changes once a day per scope)."""
    cache_key = (secret, date, region, service)
    key = _KEY_CACHE.get(cache_key)
    if key is None:
        k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
        k = hmac.new(k, region.encode(), hashlib.sha256).digest()
        k = hmac.new(k, service.encode(), hashlib.sha256).digest()
        key = hmac.new(k, b"aws4_request", hashlib.sha256).digest()
        if len(_KEY_CACHE) > 4096:
            _KEY_CACHE.clear()
        _KEY_CACHE[cache_key] = key
    return key


def sign(key: bytes, sts: str) -> str:
    """Hex HMAC-SHA256 of a string to sign."""
    return hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()


def scope_names(signing_names: Iterable[str]) -> tuple[str, ...]:
    """Every credential-scope service name a service answering to ``signing_names`` accepts
    (the AWS names first, then Eucalyptus' names for the same service)."""
    names = list(signing_names)
    for name in list(names):
        names.extend(alias for alias in EUCALYPTUS_SERVICE_NAMES.get(name, ())
                     if alias not in names)
    return tuple(names)


def parse_amz_date(value: str) -> _dt.datetime:
    """Parse ``20150830T123600Z`` (or an RFC 1123 ``Date`` header) to an aware datetime."""
    if len(value) == 16 and value[8] == "T" and value[15] == "Z":
        try:  # the common case, without strptime's cost (this is on every request)
            return _dt.datetime(int(value[0:4]), int(value[4:6]), int(value[6:8]),
                                int(value[9:11]), int(value[11:13]), int(value[13:15]),
                                tzinfo=_dt.UTC)
        except ValueError:
            pass
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise SigV4Error(SigV4Error.INCOMPLETE, f"Invalid date {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return parsed


def parse_authorization(value: str) -> tuple[str, list[str], str]:
    """Split an ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`` header."""
    if not value.startswith(ALGORITHM):
        raise SigV4Error(SigV4Error.INCOMPLETE, "Unsupported Authorization algorithm")
    parts = dict(_AUTH_PART.findall(value[len(ALGORITHM):]))
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not parts.get(k)]
    if missing:
        raise SigV4Error(
            SigV4Error.INCOMPLETE,
            "Authorization header requires " + ", ".join(f"'{k}'" for k in missing)
            + " parameter(s).")
    return parts["Credential"], parts["SignedHeaders"].split(";"), parts["Signature"]


def is_sigv4(headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """True when the request carries a SigV4 header or presigned query signature."""
    return headers.get("authorization", "").startswith(ALGORITHM) or \
        query.get("X-Amz-Algorithm") == ALGORITHM


def verify(
    *,
    method: str,
    path: str,
    query_pairs: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body_hash: Callable[[], str] | None,
    lookup_secret: Callable[[str], str | None],
    now: float,
    normalize_path: bool = True,
    alternate_paths: tuple[str, ...] = (),
    header_map: dict[str, str] | None = None,
    services: tuple[str, ...] = (),
) -> SigV4Credential:
    """Verify a SigV4-signed request (Authorization header or presigned query).

    ``path`` is the decoded request path; ``body_hash`` returns the hex SHA-256 of the
    body for services that do not send ``x-amz-content-sha256``. ``alternate_paths``
    are other canonical URIs a client may have signed (for example botocore's
    double-encoded form); each is tried before the request is refused.
    ``header_map`` (lower-case name -> first value) saves rebuilding it when the caller
    has one. ``services`` are the scope service names the called service answers to
    (see :func:`scope_names`); a signature scoped to any other service is refused, so a
    request signed for one service cannot be replayed against another.
    """
    hmap = header_map
    if hmap is None:
        hmap = {}
        for name, value in headers:
            hmap.setdefault(name.lower(), value)
    qmap = dict(query_pairs)
    presigned = False
    auth = hmap.get("authorization", "")
    if auth.startswith(ALGORITHM):
        credential, signed, signature = parse_authorization(auth)
        amz_date = hmap.get("x-amz-date") or hmap.get("date") or ""
        if not amz_date:
            raise SigV4Error(SigV4Error.INCOMPLETE,
                             "Authorization header requires existence of either a "
                             "'X-Amz-Date' or a 'Date' header.")
        expires = MAX_SKEW_SECONDS
    elif qmap.get("X-Amz-Algorithm"):
        if qmap["X-Amz-Algorithm"] != ALGORITHM:
            raise SigV4Error(SigV4Error.INCOMPLETE, "Unsupported X-Amz-Algorithm")
        presigned = True
        try:
            credential = qmap["X-Amz-Credential"]
            signed = qmap["X-Amz-SignedHeaders"].split(";")
            signature = qmap["X-Amz-Signature"]
            amz_date = qmap["X-Amz-Date"]
        except KeyError as missing:
            raise SigV4Error(SigV4Error.INCOMPLETE,
                             f"Query-string authentication requires the {missing.args[0]} "
                             "parameter") from None
        try:
            expires = int(qmap.get("X-Amz-Expires", "900"))
        except ValueError:
            raise SigV4Error(SigV4Error.INCOMPLETE, "X-Amz-Expires should be a number") from None
        if not 0 <= expires <= 604800:
            raise SigV4Error(SigV4Error.INCOMPLETE,
                             "X-Amz-Expires must be non-negative and at most 604800 seconds")
    else:
        raise SigV4Error(SigV4Error.MISSING, "Request is missing Authentication Token")

    scope_parts = credential.split("/")
    if len(scope_parts) != 5 or scope_parts[4] != "aws4_request":
        raise SigV4Error(SigV4Error.INCOMPLETE,
                         f"Credential should be scoped to a valid date, region and service: "
                         f"'{credential}'")
    access_key, date, region, service, _ = scope_parts
    if services and service not in services:
        raise SigV4Error(SigV4Error.WRONG_SERVICE,
                         f"Credential should be scoped to correct service: '{services[0]}'.",
                         access_key=access_key, scope_service=service)
    when = parse_amz_date(amz_date)
    if amz_date[:8] != date and when.strftime("%Y%m%d") != date:
        raise SigV4Error(SigV4Error.INCOMPLETE,
                         f"Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                         f"version of date from HTTP: '{date}' != "
                         f"'{when.strftime('%Y%m%d')}'", access_key=access_key)
    stamp = when.timestamp()
    if presigned:
        if now > stamp + expires:
            raise SigV4Error(SigV4Error.EXPIRED, "Request has expired", access_key=access_key)
        if stamp - now > MAX_SKEW_SECONDS:
            raise SigV4Error(SigV4Error.NOT_YET, "Request is not yet valid",
                             access_key=access_key)
    else:
        if now - stamp > expires:
            fmt = "%Y%m%dT%H%M%SZ"
            earliest = _dt.datetime.fromtimestamp(now - MAX_SKEW_SECONDS, _dt.UTC)
            raise SigV4Error(SigV4Error.EXPIRED,
                             f"Signature expired: {when.strftime(fmt)} is now earlier than "
                             f"{earliest.strftime(fmt)} ({_dt.datetime.fromtimestamp(now, _dt.UTC).strftime(fmt)} - 15 min.)",
                             access_key=access_key)
        if stamp - now > MAX_SKEW_SECONDS:
            fmt = "%Y%m%dT%H%M%SZ"
            latest = _dt.datetime.fromtimestamp(now + MAX_SKEW_SECONDS, _dt.UTC)
            raise SigV4Error(SigV4Error.NOT_YET,
                             f"Signature not yet current: {when.strftime(fmt)} is still later "
                             f"than {latest.strftime(fmt)}", access_key=access_key)
    if "host" not in signed:
        raise SigV4Error(SigV4Error.INCOMPLETE, "'Host' must be a 'SignedHeader' in the "
                         "AWS Authorization.", access_key=access_key)

    secret = lookup_secret(access_key)
    if secret is None:
        raise SigV4Error(SigV4Error.UNKNOWN_KEY,
                         "The AWS Access Key Id you provided does not exist in our records.",
                         access_key=access_key)

    if presigned:
        payload_hash = hmap.get("x-amz-content-sha256", UNSIGNED_PAYLOAD)
        if service != "s3" and "x-amz-content-sha256" not in hmap:
            payload_hash = body_hash() if body_hash is not None else EMPTY_SHA256
    else:
        payload_hash = hmap.get("x-amz-content-sha256") or (
            body_hash() if body_hash is not None else EMPTY_SHA256)

    key = signing_key(secret, date, region, service)
    scope = f"{date}/{region}/{service}/aws4_request"
    cquery = canonical_query(query_pairs, exclude_signature=presigned)
    cheaders = canonical_headers(headers, signed)
    first_creq = first_sts = ""
    for uri in (canonical_uri(path, normalize=normalize_path), *alternate_paths):
        creq = canonical_request(method, uri, cquery, cheaders, signed, payload_hash)
        sts = string_to_sign(amz_date, scope, creq)
        if hmac.compare_digest(sign(key, sts), signature):
            return SigV4Credential(access_key, date, region, service, amz_date, signature, key,
                                   presigned, payload_hash)
        if not first_creq:
            first_creq, first_sts = creq, sts
    raise SigV4Error(SigV4Error.MISMATCH,
                     "The request signature we calculated does not match the signature you "
                     "provided. Check your AWS Secret Access Key and signing method.",
                     access_key=access_key, canonical_request=first_creq,
                     string_to_sign=first_sts)
