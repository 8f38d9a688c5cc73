"""The fast start-up path: plain invocations without click, requests or ElementTree.

Importing click + requests + requests-aws4auth costs ~70 ms, ten times a bare
interpreter's start-up, and users run these commands by the hundred in scripts.
So a plain invocation (declared options and positionals only, plain ``http://``
endpoint) is parsed here from the same declaration, signed with SigV4 using
hmac/hashlib, sent over one socket, and parsed with pyexpat.  Anything else —
``--help``, ``--debug``, an unknown or malformed option, a usage error, an
``https://`` endpoint — returns None before any request is sent, and the complete
click/requests path (:mod:`euca2ools.cli`) takes over.  Tests check that both paths
print the same bytes and that this signer agrees with botocore's.
"""

from __future__ import annotations

import os

from .client import API_VERSIONS, Session, flatten_params
from .decl import Arg, Command, global_args
from .exceptions import ServiceConnectionError, ServiceError
from .runtime import Invocation, execute, quiet_broken_pipe, report

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

# Options that always need the complete path.
_HANDOVER = frozenset({"-h", "--help", "--version", "--debug", "--debugger", "--"})
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


class _Fallback(Exception):
    """This invocation needs the complete path (raised before any request is sent)."""


def parse_argv(command: Command, argv: list[str]) -> tuple[dict[str, Any], list[Arg]] | None:
    """Parse ``argv`` from the declaration; None when click should do it."""
    extra = global_args(command)
    args = list(command.iter_args()) + extra
    by_flag = {flag: arg for arg in args if not arg.positional for flag in arg.flags}
    values: dict[str, Any] = {}
    positional_words: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in _HANDOVER:
            return None
        if word.startswith("-") and len(word) > 1:
            name, eq, inline = word.partition("=") if word.startswith("--") else (word, "", "")
            arg = by_flag.get(name)
            if arg is None:
                return None
            if arg.flag:
                if eq:
                    return None
                values[arg.key] = True
            else:
                if eq:
                    value = inline
                elif i + 1 < len(argv):
                    i += 1
                    value = argv[i]
                else:
                    return None
                if arg.choices and value not in arg.choices:
                    return None
                if arg.multiple:
                    values.setdefault(arg.key, []).append(value)
                elif arg.key in values:
                    values[arg.key] = value  # last one wins, as with click
                else:
                    values[arg.key] = value
        else:
            positional_words.append(word)
        i += 1
    positionals = [a for a in args if a.positional]
    for arg in positionals:
        if arg.nargs in ("*", "+"):
            if arg.nargs == "+" and not positional_words:
                return None
            values[arg.key] = positional_words
            positional_words = []
        elif positional_words:
            value = positional_words.pop(0)
            if arg.choices and value not in arg.choices:
                return None
            values[arg.key] = value
        elif arg.required:
            return None
        else:
            values[arg.key] = None
    if positional_words:
        return None
    for arg in args:
        if arg.key not in values:
            values[arg.key] = [] if arg.multiple else (False if arg.flag else arg.default)
        elif arg.required and not arg.positional and not values[arg.key]:
            return None
        if arg.type is not None and not arg.flag and values[arg.key] not in (None, []):
            try:
                value = values[arg.key]
                values[arg.key] = [arg.type(v) for v in value] if isinstance(value, list) else arg.type(value)
            except (ValueError, TypeError):
                return None
        if arg.required and not arg.positional and not values[arg.key]:
            return None
    return values, extra


def _quote(text: str) -> str:
    """RFC 3986 percent-encoding as SigV4 wants it (unreserved characters kept)."""
    out = []
    for byte in text.encode("utf-8"):
        out.append(chr(byte) if byte in _UNRESERVED else f"%{byte:02X}")
    return "".join(out)


def sign_v4(method: str, host: str, path: str, body: bytes, region: str, service: str,
            key_id: str, secret: str, token: str | None, amz_date: str) -> dict[str, str]:
    """SigV4 headers (``X-Amz-Date``, ``Authorization``...) for a form POST."""
    import hashlib
    import hmac

    date = amz_date[:8]
    headers = {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "host": host,
        "x-amz-date": amz_date,
    }
    if token:
        headers["x-amz-security-token"] = token
    signed = ";".join(sorted(headers))
    canonical_headers = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers))
    canonical_path = "/".join(_quote(seg) for seg in (path or "/").split("/")) or "/"
    payload_hash = hashlib.sha256(body).hexdigest()
    canonical = "\n".join([method, canonical_path, "", canonical_headers, signed, payload_hash])
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, "
                                f"SignedHeaders={signed}, Signature={signature}")
    headers["x-amz-content-sha256"] = payload_hash
    return headers


def _read_response(sock: Any) -> tuple[int, str, bytes]:
    """Read a whole HTTP/1.1 response from a ``Connection: close`` socket."""
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            break
        chunks.append(data)
    raw = b"".join(chunks)
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ServiceConnectionError("connection error (malformed HTTP response)")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        out, rest = [], body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            out.append(rest[:size])
            rest = rest[size + 2:]
        body = b"".join(out)
    elif "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return status, reason, body


class FastSession(Session):
    """A :class:`Session` whose calls use the standard library only (``http://`` only)."""

    def call(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """POST a signed query request over a plain socket; same result as Session.call."""
        import random
        import socket
        import time

        from .xmlparse import parse_error, parse_response_fast

        endpoint = self.endpoint(service)
        if not endpoint.url.startswith("http://"):
            raise _Fallback()
        creds = self.credentials
        rest = endpoint.url[len("http://"):]
        netloc, slash, path = rest.partition("/")
        path = slash + path if slash else "/"
        if "?" in path or "@" in netloc or netloc.startswith("["):
            raise _Fallback()
        hostname, _, port_text = netloc.rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
        port = int(port_text) if port_text else 80
        data = {"Action": action, "Version": API_VERSIONS.get(service, "")}
        data.update(flatten_params(params or {}))
        body = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in data.items()).encode("ascii")
        retries = self._max_retries()
        timeout = self._timeout()
        attempt = 0
        while True:
            amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            headers = sign_v4("POST", netloc, path, body, endpoint.region_name, service,
                              creds.key_id, creds.secret_key, creds.security_token, amz_date)
            request = [f"POST {path} HTTP/1.1"]
            request += [f"{k}: {v}" for k, v in headers.items()]
            request += [f"content-length: {len(body)}", "connection: close",
                        "user-agent: euca2ools/3.4 (fast)", "", ""]
            try:
                with socket.create_connection((hostname, port), timeout=timeout) as sock:
                    sock.sendall("\r\n".join(request).encode("latin-1") + body)
                    status, reason, payload = _read_response(sock)
            except TimeoutError:
                if attempt < retries:
                    attempt += 1
                    time.sleep(random.uniform(0, min(15.0, 0.25 * 2**attempt)))
                    continue
                raise ServiceConnectionError("request timed out") from None
            except OSError as err:
                raise ServiceConnectionError(f"connection error ({err.strerror or err})") from None
            if status in (301, 302, 307, 308):
                raise _Fallback()  # the complete path follows and re-signs redirects
            if status in (500, 503) and attempt < retries:
                attempt += 1
                time.sleep(random.uniform(0, min(15.0, 0.25 * 2**attempt)))
                continue
            break
        if status >= 300:
            code, message = parse_error(payload, status, reason)
            raise ServiceError(code, message, status)
        return parse_response_fast(payload)


def _fast_session(**kwargs: Any) -> FastSession:
    from .config import Config, select_region_user

    service = kwargs.pop("service")
    url = kwargs.pop("url")
    config = Config()
    region, user = select_region_user(config, kwargs.pop("region"))
    session = FastSession(config, region, user, **kwargs)
    if url:
        session._urls[service] = url
    return session


def try_run(command: Command, prog: str, argv: list[str]) -> int | None:
    """Run a plain invocation; None means "use the click path" (nothing was sent or printed)."""
    parsed = parse_argv(command, argv)
    if parsed is None:
        return None
    values, extra = parsed
    inv = Invocation(command, prog, values, _fast_session)
    try:
        execute(inv, extra)
        return 0
    except _Fallback:
        return None
    except BrokenPipeError:
        quiet_broken_pipe()
        return 1
    except (Exception, KeyboardInterrupt) as exc:  # one line on stderr, never a traceback
        from .config import Config, debug_enabled

        try:
            debug = debug_enabled(Config())
        except Exception:
            debug = False
        if os.environ.get("EUCA2OOLS_DEBUG_FASTPATH"):
            debug = True
        return report(prog, exc, debug)

