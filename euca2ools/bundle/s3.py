"""A small S3 client for the bundle commands: path-style requests signed with SigV4.

requests-aws4auth reads a request body into memory to hash it, which a bundle part
upload must not do, so requests are signed here: the payload hash is computed from the
file as it is read once beforehand, and the body is then streamed from disk.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import random
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..exceptions import ServiceConnectionError, ServiceError

if TYPE_CHECKING:
    from ..config import Credentials, Endpoint

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def quote(text: str, safe_slash: bool = False) -> str:
    """RFC 3986 percent-encoding as SigV4 wants it (``/`` kept in paths)."""
    out = []
    for byte in text.encode("utf-8"):
        if byte in _UNRESERVED or (safe_slash and byte == 0x2F):
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def sign_v4(method: str, url: str, headers: dict[str, str], payload_hash: str, region: str,
            key_id: str, secret: str, token: str | None = None,
            now: datetime.datetime | None = None) -> dict[str, str]:
    """``headers`` plus Host, X-Amz-Date, X-Amz-Content-SHA256 and a SigV4 Authorization."""
    parts = urllib.parse.urlsplit(url)
    when = now or datetime.datetime.now(datetime.UTC)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    out = {k.lower(): v.strip() for k, v in headers.items()}
    out["host"] = parts.netloc
    out["x-amz-date"] = amz_date
    out["x-amz-content-sha256"] = payload_hash
    if token:
        out["x-amz-security-token"] = token
    signed = sorted(k for k in out if k in ("host", "content-type", "content-md5")
                    or k.startswith("x-amz-"))
    canonical_headers = "".join(f"{k}:{out[k]}\n" for k in signed)
    # The path is already percent-encoded once (see S3Client.url); S3 does not re-encode it.
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(pairs))
    canonical = "\n".join([method, parts.path or "/", query, canonical_headers,
                           ";".join(signed), payload_hash])
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = ("AWS4" + secret).encode("utf-8")
    for piece in (amz_date[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, piece.encode("utf-8"), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    out["authorization"] = (f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, "
                            f"SignedHeaders={';'.join(signed)}, Signature={signature}")
    return out


def file_sha256(path: str) -> str:
    """SHA-256 of a file, read a megabyte at a time."""
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1024 * 1024):
            sha.update(block)
    return sha.hexdigest()


class _FileBody:
    """A file streamed as a request body, reporting progress as it is read."""

    def __init__(self, path: str, size: int, progress: Callable[[int], None] | None) -> None:
        self._handle = open(path, "rb")  # noqa: SIM115 - closed by close() after the request
        self._size = size
        self._progress = progress

    def __len__(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        data = self._handle.read(n if n and n > 0 else 1024 * 1024)
        if self._progress is not None and data:
            self._progress(len(data))
        return data

    def close(self) -> None:
        self._handle.close()


class S3Client:
    """Signed path-style requests to one S3 endpoint (Walrus, or AWS S3)."""

    def __init__(self, endpoint: Endpoint, credentials: Credentials, *, retries: int = 2,
                 timeout: float = 30.0, debug: bool = False) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.retries = retries
        self.timeout = timeout
        self.debug = debug
        self._http: Any = None

    def url(self, bucket: str, key: str = "", query: dict[str, str] | None = None) -> str:
        """The path-style URL of a bucket or object."""
        base = self.endpoint.url.rstrip("/")
        path = "/" + quote(bucket)
        if key:
            path += "/" + quote(key, safe_slash=True)
        url = base + path
        if query:
            url += "?" + "&".join(f"{quote(k)}={quote(v)}" if v != "" else quote(k)
                                  for k, v in query.items())
        return url

    def request(self, method: str, bucket: str, key: str = "", *,
                query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                data: bytes | None = None, path: str | None = None,
                progress: Callable[[int], None] | None = None, stream: bool = False,
                retries: int | None = None) -> Any:
        """Send one request (retrying 500/503 and connection failures); errors raise."""
        import requests

        if self._http is None:
            from ..client import user_agent

            self._http = requests.Session()
            self._http.headers["User-Agent"] = user_agent()
        url = self.url(bucket, key, query)
        size = 0
        if path is not None:
            size = os.path.getsize(path)
            payload_hash = file_sha256(path)
        elif data is not None:
            payload_hash = hashlib.sha256(data).hexdigest()
        else:
            payload_hash = EMPTY_SHA256
        tries = self.retries if retries is None else retries
        attempt = redirects = 0
        while True:
            creds = self.credentials
            signed = sign_v4(method, url, dict(headers or {}), payload_hash,
                             self.endpoint.region_name, creds.key_id, creds.secret_key,
                             creds.security_token)
            body: Any = data
            if path is not None:
                body = _FileBody(path, size, progress)
                signed["content-length"] = str(size)
            if self.debug:
                _log().debug("s3 request: %s %s", method, url)
            try:
                response = self._http.request(method, url, headers=signed, data=body,
                                              timeout=self.timeout, stream=stream,
                                              verify=self.endpoint.verify,
                                              allow_redirects=False)
            except (requests.Timeout, requests.ConnectionError) as err:
                if attempt < tries:
                    attempt += 1
                    time.sleep(random.uniform(0, min(15.0, 0.25 * 2 ** attempt)))
                    continue
                if isinstance(err, requests.Timeout):
                    raise ServiceConnectionError("request timed out") from None
                from ..client import _reason

                raise ServiceConnectionError(f"connection error ({_reason(err)})") from None
            finally:
                if isinstance(body, _FileBody):
                    body.close()
            if response.status_code in (500, 503) and attempt < tries:
                response.close()
                attempt += 1
                time.sleep(random.uniform(0, min(15.0, 0.25 * 2 ** attempt)))
                continue
            location = response.headers.get("Location")
            if response.status_code in (301, 302, 307, 308) and location and redirects < 5:
                # Followed here rather than by requests, so that each hop is signed anew.
                response.close()
                redirects += 1
                url = urllib.parse.urljoin(url, location)
                continue
            break
        if self.debug:
            _log().debug("s3 response: %s", response.status_code)
        if response.status_code >= 300:
            from ..xmlparse import parse_error

            content = b"" if method == "HEAD" else response.content
            code, message = parse_error(content, response.status_code, response.reason or "")
            raise ServiceError(code, message, response.status_code)
        return response

    # -- operations ------------------------------------------------------------------------
    def bucket_status(self, bucket: str) -> int:
        """HTTP status of HEAD bucket: 200 (yours), 403 (someone else's) or 404."""
        try:
            self.request("HEAD", bucket).close()
        except ServiceError as err:
            if err.status in (403, 404):
                return err.status
            raise
        return 200

    def create_bucket(self, bucket: str, location: str | None = None) -> None:
        """PUT bucket, with a location constraint when one is given."""
        data = None
        if location:
            data = ('<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                    f"<LocationConstraint>{location}</LocationConstraint>"
                    "</CreateBucketConfiguration>").encode()
        self.request("PUT", bucket, data=data).close()

    def put_object(self, bucket: str, key: str, *, path: str | None = None,
                   data: bytes | None = None, acl: str | None = None,
                   progress: Callable[[int], None] | None = None,
                   retries: int | None = None) -> None:
        """PUT an object from a file (streamed) or bytes."""
        headers = {"x-amz-acl": acl} if acl else {}
        self.request("PUT", bucket, key, headers=headers, path=path, data=data,
                     progress=progress, retries=retries).close()

    def get_object(self, bucket: str, key: str, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        """GET an object as a stream of chunks."""
        response = self.request("GET", bucket, key, stream=True)
        try:
            yield from response.iter_content(chunk_size=chunk)
        finally:
            response.close()

    def get_bytes(self, bucket: str, key: str) -> bytes:
        """GET a (small) object whole."""
        response = self.request("GET", bucket, key)
        return bytes(response.content)

    def delete_object(self, bucket: str, key: str) -> None:
        """DELETE an object."""
        self.request("DELETE", bucket, key).close()

    def delete_bucket(self, bucket: str) -> None:
        """DELETE an (empty) bucket."""
        self.request("DELETE", bucket).close()


def _log() -> Any:
    from ..client import _logger

    return _logger()


class _FormBody:
    """A ``multipart/form-data`` body whose file field streams from disk."""

    def __init__(self, fields: list[tuple[str, str]], path: str, boundary: str,
                 progress: Callable[[int], None] | None) -> None:
        head = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                       f"{value}\r\n" for name, value in fields)
        # No Content-Type header on the file part: Walrus counts it as a form field that
        # the policy would then have to allow.
        head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                 f"filename=\"{os.path.basename(path)}\"\r\n\r\n")
        self._head = head.encode("utf-8")
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._file = _FileBody(path, os.path.getsize(path), progress)
        self._stage = 0
        self._len = len(self._head) + len(self._file) + len(self._tail)

    def __len__(self) -> int:
        return self._len

    def read(self, n: int = -1) -> bytes:
        while self._stage < 3:
            if self._stage == 0:
                self._stage = 1
                return self._head
            if self._stage == 1:
                data = self._file.read(n)
                if data:
                    return data
                self._stage = 2
            if self._stage == 2:
                self._stage = 3
                return self._tail
        return b""

    def close(self) -> None:
        self._file.close()


class PolicyUploader:
    """Uploads through S3 POST forms authorized by an upload policy (no secret key needed).

    This is how a cloud lets an instance write its bundle into someone else's bucket:
    the owner signs a policy (SigV2: base64 HMAC-SHA1 over the base64 policy) and hands
    over the policy, the signature and the access key ID.
    """

    def __init__(self, endpoint: Endpoint, key_id: str, policy: str, signature: str, *,
                 retries: int = 2, timeout: float = 30.0, debug: bool = False) -> None:
        import base64

        self.endpoint = endpoint
        self.key_id = key_id
        text = policy.strip()
        # A JSON policy is encoded here; a base64 one (as EC2's BundleInstance takes) is kept.
        self.policy = base64.b64encode(text.encode()).decode() if text.startswith("{") else text
        self.signature = signature
        self.retries = retries
        self.timeout = timeout
        self.debug = debug

    def put_object(self, bucket: str, key: str, *, path: str | None = None,
                   data: bytes | None = None, acl: str | None = None,
                   progress: Callable[[int], None] | None = None,
                   retries: int | None = None) -> None:
        """POST one file to ``bucket`` as ``key``."""
        import tempfile
        import uuid

        import requests

        if path is None:  # small in-memory objects go through a temporary file
            with tempfile.NamedTemporaryFile(delete=False) as tmp:
                tmp.write(data or b"")
            try:
                self.put_object(bucket, key, path=tmp.name, acl=acl, progress=progress,
                                retries=retries)
            finally:
                os.unlink(tmp.name)
            return
        fields = [("key", key)]
        if acl:
            fields.append(("acl", acl))
        fields += [("AWSAccessKeyId", self.key_id), ("policy", self.policy),
                   ("signature", self.signature)]
        url = self.endpoint.url.rstrip("/") + "/" + quote(bucket) + "/"
        tries = self.retries if retries is None else retries
        attempt = 0
        while True:
            boundary = uuid.uuid4().hex
            body = _FormBody(fields, path, boundary, progress)
            if self.debug:
                _log().debug("s3 request: POST %s key=%s", url, key)
            try:
                response = requests.post(
                    url, data=body, timeout=self.timeout, verify=self.endpoint.verify,
                    headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                             "Content-Length": str(len(body))}, allow_redirects=False)
            except (requests.Timeout, requests.ConnectionError) as err:
                if attempt < tries:
                    attempt += 1
                    time.sleep(random.uniform(0, min(15.0, 0.25 * 2 ** attempt)))
                    continue
                from ..client import _reason

                raise ServiceConnectionError(f"connection error ({_reason(err)})") from None
            finally:
                body.close()
            if response.status_code in (500, 503) and attempt < tries:
                attempt += 1
                time.sleep(random.uniform(0, min(15.0, 0.25 * 2 ** attempt)))
                continue
            break
        if response.status_code >= 300:
            from ..xmlparse import parse_error

            code, message = parse_error(response.content, response.status_code,
                                        response.reason or "")
            raise ServiceError(code, message, response.status_code)
