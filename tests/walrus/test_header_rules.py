"""Request-header rules S3 enforces: SigV2 dates (x-amz-date wins even when empty or out
of range) and bodies of unknown length (411 MissingContentLength)."""

from __future__ import annotations

import re
from typing import Any

import requests  # type: ignore[import-untyped]
from botocore.auth import HmacV1Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def _v2_put(s3cloud: Any, bucket: str, extra: dict[str, str]) -> requests.Response:
    creds = s3cloud.credentials()
    url = f"{s3cloud.url}/services/objectstorage/{bucket}/dated"
    req = AWSRequest("PUT", url, data=b"bar", headers=extra)
    HmacV1Auth(Credentials(creds["key"], creds["secret"])).add_auth(req)
    headers = dict(req.headers)
    headers.update(extra)  # what the caller insists on, after signing
    return requests.put(url, data=b"bar", headers=headers, timeout=10)


def _code(resp: requests.Response) -> str:
    m = re.search(r"<Code>([^<]+)</Code>", resp.text)
    return m.group(1) if m else ""


def test_sigv2_empty_or_pre_epoch_amz_date_is_refused(s3cloud: Any, bucket: str) -> None:
    assert _v2_put(s3cloud, bucket, {}).status_code == 200
    for bad in ("", "Tue, 07 Jul 1950 21:53:04 GMT", "Bad Date"):
        resp = _v2_put(s3cloud, bucket, {"x-amz-date": bad})
        assert (resp.status_code, _code(resp)) == (403, "AccessDenied"), bad


def test_body_of_unknown_length_is_refused(s3: Any, bucket: str) -> None:
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"})

    def body() -> Any:
        yield b"abc"
        yield b"def"

    resp = requests.put(url, data=body(), timeout=10)  # chunked transfer coding
    assert (resp.status_code, _code(resp)) == (411, "MissingContentLength")
    assert requests.put(url, data=b"abcdef", timeout=10).status_code == 200
