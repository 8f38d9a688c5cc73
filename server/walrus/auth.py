"""S3 request authentication: SigV4 (header, presigned, streaming chunks), SigV2, anonymous.

S3 signs the path as sent (no normalization, single encoding), so the verifier tries the
canonical form of the decoded path and the raw bytes the client put on the wire.
Streaming uploads (``aws-chunked``) are decoded here, checking each chunk's signature
and the trailing checksum/signature lines.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from server.auth import sigv4
from server.auth.identity import ANONYMOUS, IdentityError, Principal
from server.protocol.http import Request
from server.walrus import errors as e

if TYPE_CHECKING:
    from server.cloud import Cloud

STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

#: Query parameters that are part of the SigV2 canonical resource.
V2_SUBRESOURCES = frozenset({
    "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber",
    "policy", "requestPayment", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "response-content-language", "response-content-type",
    "response-expires", "restore", "tagging", "torrent", "uploadId", "uploads", "versionId",
    "versioning", "versions", "website", "object-lock", "retention", "legal-hold",
})


@dataclass
class Auth:
    """Who signed a request and how its payload must be checked."""

    principal: Principal
    payload: str = ""            # hex digest, UNSIGNED-PAYLOAD, STREAMING-..., or "" (v2/anon)
    credential: sigv4.SigV4Credential | None = None
    trailers: dict[str, str] = field(default_factory=dict)


def authenticate(cloud: Cloud, request: Request, prefix: str, bucket_host: str | None) -> Auth:
    """Verify the request's signature (if any); raise an S3 error when it is wrong."""
    hmap = request.header_map
    qmap = dict(request.query_pairs)
    auth = hmap.get("authorization", "")
    if sigv4.is_sigv4(hmap, qmap):
        return _sigv4(cloud, request)
    if auth.startswith("AWS "):
        return _sigv2_header(cloud, request, auth[4:], prefix, bucket_host)
    if "AWSAccessKeyId" in qmap and "Signature" in qmap:
        return _sigv2_query(cloud, request, qmap, prefix, bucket_host)
    if auth:
        raise e.InvalidArgument("Unsupported Authorization Type", ArgumentName="Authorization",
                                ArgumentValue=auth[:40])
    return Auth(ANONYMOUS)


def _utf8_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """The headers re-read as UTF-8, when some value is non-ASCII and valid UTF-8.

    Headers arrive decoded as Latin-1 (one char per byte); a client that sends a Unicode
    value as UTF-8 bytes (botocore does) signs the text, whose UTF-8 is those same bytes.
    """
    out, changed = [], False
    for name, value in headers:
        if not value.isascii():
            try:
                value = value.encode("latin-1").decode("utf-8")
                changed = True
            except (UnicodeEncodeError, UnicodeDecodeError):
                pass
        out.append((name, value))
    return out if changed else None


def _check_presign_expires(request: Request) -> None:
    """X-Amz-Expires bounds, with S3's own messages (AuthorizationQueryParametersError)."""
    value = dict(request.query_pairs).get("X-Amz-Expires")
    if value is None or "X-Amz-Signature" not in request.query_string:
        return
    try:
        expires = int(value)
    except ValueError:
        raise e.AuthorizationQueryParametersError("X-Amz-Expires should be a number") from None
    if expires < 0:
        raise e.AuthorizationQueryParametersError("X-Amz-Expires must be non-negative")
    if expires > 604800:
        raise e.AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given "
            "X-Amz-Expires must be less than 604800 seconds")


def security_token(request: Request) -> str | None:
    """The session token of temporary credentials (header, or query when presigned)."""
    token = request.header("x-amz-security-token")
    if token:
        return token
    for key, value in request.query_pairs:
        if key.lower() == "x-amz-security-token":
            return value
    return None


def principal_of(cloud: Cloud, key_id: str, token: str | None) -> Principal:
    """The principal of a verified key; temporary keys need their valid, unexpired token."""
    try:
        return cloud.identity.principal_for(key_id, token or None)
    except IdentityError as exc:
        if exc.code == "ExpiredToken":
            raise e.ExpiredToken() from None
        raise e.InvalidToken() from None


#: Credential-scope service names S3 accepts (``s3``, and Eucalyptus' names for Walrus).
S3_SCOPE_NAMES = sigv4.scope_names(("s3",))


def wrong_service_message(service: str, *, presigned: bool) -> str:
    """S3's words for a signature scoped to another service."""
    where = "Error parsing the X-Amz-Credential parameter" if presigned else \
        "The authorization header is malformed"
    return f'{where}; incorrect service "{service}". This endpoint belongs to "s3".'


def _sigv4(cloud: Cloud, request: Request) -> Auth:
    alternates = []
    raw = request.raw_path
    if raw != quote(request.path, safe="/~"):
        alternates.append(raw)
    _check_presign_expires(request)

    def verify(headers: list[tuple[str, str]]) -> sigv4.SigV4Credential:
        return sigv4.verify(method=request.method, path=request.path,
                            query_pairs=request.query_pairs, headers=headers,
                            body_hash=None, lookup_secret=cloud.identity.secret_for,
                            now=cloud.clock.now(), normalize_path=False,
                            alternate_paths=tuple(alternates), services=S3_SCOPE_NAMES)

    try:
        try:
            cred = verify(request.headers)
        except sigv4.SigV4Error as first:
            utf8 = _utf8_headers(request.headers) \
                if first.reason == sigv4.SigV4Error.MISMATCH else None
            if utf8 is None:
                raise
            try:
                cred = verify(utf8)
            except sigv4.SigV4Error:
                raise first from None
    except sigv4.SigV4Error as exc:
        presigned = "X-Amz-Signature" in request.query_string
        if exc.reason == sigv4.SigV4Error.WRONG_SERVICE:
            if presigned:
                raise e.AuthorizationQueryParametersError(
                    wrong_service_message(exc.scope_service, presigned=True)) from None
            raise e.AuthorizationHeaderMalformed(
                wrong_service_message(exc.scope_service, presigned=False)) from None
        if exc.reason == sigv4.SigV4Error.UNKNOWN_KEY:
            raise e.InvalidAccessKeyId(AWSAccessKeyId=exc.access_key) from None
        if exc.reason == sigv4.SigV4Error.MISMATCH:
            raise e.SignatureDoesNotMatch(
                AWSAccessKeyId=exc.access_key, StringToSign=exc.string_to_sign,
                CanonicalRequest=exc.canonical_request) from None
        if exc.reason in (sigv4.SigV4Error.EXPIRED, sigv4.SigV4Error.NOT_YET):
            if presigned:
                raise e.AccessDenied("Request has expired") from None
            raise e.RequestTimeTooSkewed(exc.message) from None
        if presigned:
            raise e.AuthorizationQueryParametersError(exc.message) from None
        raise e.AuthorizationHeaderMalformed(exc.message) from None
    principal = principal_of(cloud, cred.access_key, security_token(request))
    return Auth(principal, cred.payload_hash, cred)


def _v2_resources(request: Request, prefix: str, bucket_host: str | None) -> list[str]:
    """Candidate canonical resources: the raw path and its decoded/re-encoded forms."""
    subs = sorted((k, v) for k, v in request.query_pairs if k in V2_SUBRESOURCES)
    query = "&".join(f"{k}={v}" if v else k for k, v in subs)
    paths = [request.raw_path, quote(request.path, safe="/~"), request.path]
    out: list[str] = []
    for path in paths:
        variants = [path]
        if prefix and path.lower().startswith(prefix.lower()):
            variants.append(path[len(prefix):] or "/")
        for p in list(variants):
            # botocore signs a bucket as "/bucket/" (and drops the endpoint's path prefix).
            if p.count("/") == 1 and len(p) > 1:
                variants.append(p + "/")
        for p in variants:
            res = (f"/{bucket_host}{p}" if bucket_host else p) + (f"?{query}" if query else "")
            if res not in out:
                out.append(res)
    return out


def _v2_string(request: Request, date: str, resource: str,
               headers: list[tuple[str, str]] | None = None) -> str:
    amz: dict[str, list[str]] = {}
    for name, value in request.headers if headers is None else headers:
        low = name.lower()
        if low.startswith("x-amz-"):
            amz.setdefault(low, []).append(value.strip())
    canon = "".join(f"{k}:{','.join(v)}\n" for k, v in sorted(amz.items()))
    return (f"{request.method}\n{request.header('content-md5')}\n"
            f"{request.header('content-type')}\n{date}\n{canon}{resource}")


def _v2_check(cloud: Cloud, request: Request, key_id: str, signature: str, dates: list[str],
              prefix: str, bucket_host: str | None,
              signed_query: list[tuple[str, str]] | None = None) -> Auth:
    secret = cloud.identity.secret_for(key_id)
    if secret is None:
        raise e.InvalidAccessKeyId(AWSAccessKeyId=key_id)
    first = ""
    # A presigned URL carries its x-amz-* "headers" (the session token) in the query.
    base = request.headers + signed_query if signed_query else request.headers
    # As for SigV4: non-ASCII x-amz-* values may have been signed as their UTF-8 text.
    variants = [base]
    utf8 = _utf8_headers(base)
    if utf8 is not None:
        variants.append(utf8)
    for headers in variants:
        for resource in _v2_resources(request, prefix, bucket_host):
            for date in dates:
                sts = _v2_string(request, date, resource, headers)
                mac = base64.b64encode(hmac.new(secret.encode(), sts.encode("utf-8"),
                                                hashlib.sha1).digest()).decode()
                if hmac.compare_digest(mac, signature):
                    return Auth(principal_of(cloud, key_id, security_token(request)))
                first = first or sts
    raise e.SignatureDoesNotMatch(AWSAccessKeyId=key_id, StringToSign=first,
                                  SignatureProvided=signature)


def _sigv2_header(cloud: Cloud, request: Request, value: str, prefix: str,
                  bucket_host: str | None) -> Auth:
    key_id, sep, signature = value.strip().rpartition(":")
    if not sep or not key_id:
        raise e.InvalidArgument("AWS authorization header is invalid.  Expected "
                                "AwsAccessKeyId:signature", ArgumentName="Authorization")
    date = request.header("date")
    # A present x-amz-date wins over Date even when it is empty or bad (S3 then refuses).
    stamp = request.header("x-amz-date") if "x-amz-date" in request.header_map else date
    if not stamp:
        raise e.AccessDenied("AWS authentication requires a valid Date or x-amz-date header")
    try:
        when = parsedate_to_datetime(stamp)
    except (TypeError, ValueError):
        raise e.AccessDenied("AWS authentication requires a valid Date or x-amz-date "
                             "header") from None
    if not 1970 <= when.year <= 9999:
        raise e.AccessDenied("AWS authentication requires a valid Date or x-amz-date header")
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    if abs(when.timestamp() - cloud.clock.now()) > sigv4.MAX_SKEW_SECONDS:
        raise e.RequestTimeTooSkewed(RequestTime=stamp, MaxAllowedSkewMilliseconds="900000")
    # With x-amz-date the Date line is empty (it is signed among the x-amz headers).
    dates = [date, ""] if request.header("x-amz-date") else [date]
    return _v2_check(cloud, request, key_id, signature, dates, prefix, bucket_host)


def _sigv2_query(cloud: Cloud, request: Request, qmap: dict[str, str], prefix: str,
                 bucket_host: str | None) -> Auth:
    expires = qmap.get("Expires", "")
    try:
        deadline = int(expires)
    except ValueError:
        raise e.AccessDenied("Invalid date (should be seconds since epoch)") from None
    if cloud.clock.now() > deadline:
        raise e.AccessDenied("Request has expired", Expires=expires)
    amz = [(k, v) for k, v in request.query_pairs if k.lower().startswith("x-amz-")]
    return _v2_check(cloud, request, qmap["AWSAccessKeyId"], qmap["Signature"], [expires],
                     prefix, bucket_host, amz)


# -- request bodies --------------------------------------------------------------------------
def is_chunked(request: Request, auth: Auth) -> bool:
    """True when the body is ``aws-chunked`` framed."""
    return auth.payload.startswith("STREAMING-") or \
        "aws-chunked" in request.header("content-encoding")


async def body_chunks(request: Request, auth: Auth) -> AsyncIterator[bytes]:
    """The request's payload bytes, de-framed and with chunk signatures verified.

    A plain body's ``x-amz-content-sha256`` is checked by :func:`check_payload_hash` once
    the caller has consumed it (the caller owns the incremental digest).
    """
    if not is_chunked(request, auth):
        async for piece in request.stream():
            yield piece
        return
    async for piece in _dechunk(request, auth):
        yield piece


def _chunk_signer(auth: Auth) -> tuple[bytes, str, str] | None:
    cred = auth.credential
    if cred is None or not auth.payload.startswith("STREAMING-AWS4-HMAC-SHA256"):
        return None
    scope = f"{cred.date}/{cred.region}/{cred.service}/aws4_request"
    return cred.signing_key, scope, cred.amz_date


async def _dechunk(request: Request, auth: Auth) -> AsyncIterator[bytes]:
    signer = _chunk_signer(auth)
    prev = auth.credential.signature if auth.credential else ""
    buf = bytearray()
    state = "header"
    remaining = 0
    chunk_sig = ""
    chunk_hash = hashlib.sha256()
    trailer_lines: list[str] = []

    def verify_chunk() -> None:
        nonlocal prev
        if signer is None:
            return
        key, scope, amz_date = signer
        sts = (f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{prev}\n{EMPTY_SHA256}\n"
               f"{chunk_hash.hexdigest()}")
        expected = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, chunk_sig):
            raise e.SignatureDoesNotMatch("The chunk signature does not match")
        prev = expected

    async for piece in request.stream():
        buf += piece
        pos = 0
        out: list[bytes] = []
        while state != "done":
            if state == "data":
                take = min(remaining, len(buf) - pos)
                if take:
                    data = bytes(buf[pos:pos + take])
                    if signer is not None:
                        chunk_hash.update(data)
                    out.append(data)
                    pos += take
                    remaining -= take
                if remaining:
                    break
                state = "data-end"
            if state == "data-end":
                if len(buf) - pos < 2:
                    break
                if buf[pos:pos + 2] != b"\r\n":
                    raise e.IncompleteBody("Malformed aws-chunked body")
                pos += 2
                verify_chunk()
                state = "header"
                continue
            idx = buf.find(b"\r\n", pos)
            if idx < 0:
                if len(buf) - pos > 8192:
                    raise e.IncompleteBody("Malformed aws-chunked body")
                break
            line = bytes(buf[pos:idx]).decode("latin-1")
            pos = idx + 2
            if state == "header":
                size_hex, _, ext = line.partition(";")
                try:
                    remaining = int(size_hex.strip(), 16)
                except ValueError:
                    raise e.IncompleteBody("Malformed aws-chunked chunk header") from None
                chunk_sig = ext.partition("chunk-signature=")[2].strip()
                if signer is not None and not chunk_sig:
                    raise e.SignatureDoesNotMatch("A chunk signature is missing")
                chunk_hash = hashlib.sha256()
                if remaining == 0:
                    verify_chunk()
                    state = "trailer"
                else:
                    state = "data"
            else:  # trailer lines until an empty line
                if not line:
                    state = "done"
                    break
                trailer_lines.append(line)
        del buf[:pos]
        for data in out:
            yield data
    if state not in ("done", "trailer"):
        raise e.IncompleteBody()
    for line in trailer_lines:
        name, _, value = line.partition(":")
        auth.trailers[name.strip().lower()] = value.strip()
    sig = auth.trailers.pop("x-amz-trailer-signature", "")
    if signer is not None and auth.payload == STREAMING_SIGNED_TRAILER:
        key, scope, amz_date = signer
        text = "".join(f"{k}:{v}\n" for k, v in auth.trailers.items())
        sts = (f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{prev}\n"
               f"{hashlib.sha256(text.encode()).hexdigest()}")
        if not hmac.compare_digest(hmac.new(key, sts.encode(), hashlib.sha256).hexdigest(),
                                   sig):
            raise e.SignatureDoesNotMatch("The trailer signature does not match")


def check_payload_hash(auth: Auth, sha256_hex: str | None) -> None:
    """Raise XAmzContentSHA256Mismatch if a signed plain payload hash differs."""
    if sha256_hex is None:
        return
    if sha256_hex != auth.payload:
        raise e.XAmzContentSHA256Mismatch(ClientComputedContentSHA256=auth.payload,
                                          S3ComputedContentSHA256=sha256_hex)


def wants_sha256(auth: Auth) -> bool:
    """True when the payload hash is a hex digest that must be verified."""
    return len(auth.payload) == 64 and all(c in "0123456789abcdef" for c in auth.payload)
