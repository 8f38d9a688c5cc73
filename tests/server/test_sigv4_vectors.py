"""AWS's public SigV4 test vectors through the server-side verifier."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from urllib.parse import unquote

import pytest

from server.auth import sigv4

SUITE = Path(__file__).resolve().parents[3] / "shared" / "data" / "sigv4" / "aws4_testsuite"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = dt.datetime(2015, 8, 30, 12, 36, tzinfo=dt.UTC).timestamp()


def _cases() -> list[Path]:
    if not SUITE.is_dir():
        return []
    return sorted(p for p in SUITE.rglob("*.sreq"))


def _parse(raw: str) -> tuple[str, str, str, list[tuple[str, str]], bytes]:
    head, _, body = raw.partition("\n\n")
    lines = head.split("\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.rsplit(" ", 1)[0]
    path, _, query = target.partition("?")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line.startswith((" ", "\t")) and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        headers.append((name, value.strip()))
    return method, path, query, headers, body.encode()


def _load(case: Path) -> tuple[str, str, str, list[tuple[str, str]], bytes]:
    """A case's signed request; the Authorization header comes from ``.authz``, because
    one case's ``.sreq`` (get-vanilla-with-session-token) carries a stale signature."""
    method, path, query, headers, body = _parse(case.read_text())
    authz = case.with_suffix(".authz")
    if authz.exists():
        headers = [(k, authz.read_text().strip() if k.lower() == "authorization" else v)
                   for k, v in headers]
    return method, path, query, headers, body


def _verify(method: str, path: str, query: str, headers: list[tuple[str, str]],
            body: bytes) -> sigv4.SigV4Credential:
    return sigv4.verify(
        method=method, path=unquote(path), query_pairs=sigv4.parse_query(query), headers=headers,
        body_hash=lambda: hashlib.sha256(body).hexdigest(),
        lookup_secret=lambda key: SECRET if key == "AKIDEXAMPLE" else None, now=NOW)


@pytest.mark.skipif(not _cases(), reason="shared/data/sigv4 not found")
@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.stem)
def test_vector_verifies(case: Path) -> None:
    """Every signed request of the suite verifies."""
    cred = _verify(*_load(case))
    assert cred.access_key == "AKIDEXAMPLE"
    assert cred.region == "us-east-1" and cred.service == "service"


@pytest.mark.skipif(not _cases(), reason="shared/data/sigv4 not found")
@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.stem)
def test_vector_tampered_is_refused(case: Path) -> None:
    """Changing a signed part (the date header, the path or the body) breaks the signature."""
    method, path, query, headers, body = _load(case)
    with pytest.raises(sigv4.SigV4Error) as err:
        _verify(method, path + "x", query, headers, body)
    assert err.value.reason == sigv4.SigV4Error.MISMATCH
    with pytest.raises(sigv4.SigV4Error):
        _verify(method, path, query, headers, body + b"!" if body else b"!")


def test_expired_and_future_requests_are_refused() -> None:
    """Requests more than 15 minutes old or ahead are refused."""
    case = SUITE / "get-vanilla" / "get-vanilla.sreq"
    if not case.exists():
        pytest.skip("suite missing")
    method, path, query, headers, body = _parse(case.read_text())
    for offset, reason in ((16 * 60, sigv4.SigV4Error.EXPIRED),
                           (-16 * 60, sigv4.SigV4Error.NOT_YET)):
        with pytest.raises(sigv4.SigV4Error) as err:
            sigv4.verify(method=method, path=path, query_pairs=sigv4.parse_query(query),
                         headers=headers, body_hash=lambda: hashlib.sha256(body).hexdigest(),
                         lookup_secret=lambda key: SECRET, now=NOW + offset)
        assert err.value.reason == reason


def test_unknown_key_and_missing_auth() -> None:
    """Unknown keys and unsigned requests have their own reasons."""
    case = SUITE / "get-vanilla" / "get-vanilla.sreq"
    if not case.exists():
        pytest.skip("suite missing")
    method, path, query, headers, body = _parse(case.read_text())
    with pytest.raises(sigv4.SigV4Error) as err:
        sigv4.verify(method=method, path=path, query_pairs=[], headers=headers,
                     body_hash=None, lookup_secret=lambda key: None, now=NOW)
    assert err.value.reason == sigv4.SigV4Error.UNKNOWN_KEY
    unsigned = [h for h in headers if h[0].lower() != "authorization"]
    with pytest.raises(sigv4.SigV4Error) as err:
        sigv4.verify(method=method, path=path, query_pairs=[], headers=unsigned,
                     body_hash=None, lookup_secret=lambda key: SECRET, now=NOW)
    assert err.value.reason == sigv4.SigV4Error.MISSING
