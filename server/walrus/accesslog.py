"""Server access logging: records of requests to buckets with logging enabled, delivered
as objects in the target bucket.

:meth:`AccessLog.record` runs on the request path and only formats one line into an
in-memory buffer (nothing at all for buckets without a logging configuration: it reads the
bucket row the request already loaded and never queries the database).  A background task
delivers the buffer every :data:`FLUSH_INTERVAL` seconds (or sooner once
:data:`MAX_PENDING` records wait) in a worker thread, one object per source bucket and
target, in S3's log format; what is still buffered at shutdown is written then.  As with
S3, delivery is best effort: records buffered when the process dies are lost.

Log objects are named ``PREFIX YYYY-MM-DD-hh-mm-ss-UNIQUE`` (``SimplePrefix``) or
``PREFIX ACCOUNT/REGION/BUCKET/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-UNIQUE``
(``PartitionedPrefix``), are owned by the target bucket's owner (FULL_CONTROL) and carry
the configuration's ``TargetGrants``.  They are stored in plaintext, whatever the target
bucket's default encryption.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from server.protocol.http import Response
from server.walrus import acl as acls

if TYPE_CHECKING:
    from server.walrus.context import S3Context
    from server.walrus.service import Walrus

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 5.0
MAX_PENDING = 10000
_ERROR_CODE = re.compile(rb"<Code>([^<]{1,64})</Code>")
#: Sub-resources named in the operation field (``REST.GET.ACL``), as S3 names them.
_OPERATIONS = {"acl": "ACL", "policy": "BUCKETPOLICY", "tagging": "TAGGING", "cors": "CORS",
               "lifecycle": "LIFECYCLE", "versioning": "VERSIONING", "versions": "BUCKETVERSIONS",
               "uploads": "UPLOADS", "uploadId": "UPLOAD", "location": "LOCATION",
               "logging": "LOGGING_STATUS", "website": "WEBSITE", "encryption": "ENCRYPTION",
               "notification": "NOTIFICATION", "object-lock": "OBJECT_LOCK_CONFIGURATION",
               "retention": "OBJECT_RETENTION", "legal-hold": "OBJECT_LEGAL_HOLD",
               "delete": "MULTI_OBJECT_DELETE", "ownershipControls": "OWNERSHIP_CONTROLS",
               "accelerate": "ACCELERATE", "requestPayment": "REQUEST_PAYMENT",
               "publicAccessBlock": "PUBLIC_ACCESS_BLOCK", "attributes": "OBJECT_ATTRIBUTES"}

#: A buffered batch: (target bucket, prefix, partitioned date source or "", source bucket,
#: source owner account, grants as JSON).
BatchKey = tuple[str, str, str, str, str, str]


def _q(value: str) -> str:
    return '"' + value.replace('"', '\\"') + '"'


class AccessLog:
    """The access-log buffer and its delivery task."""

    def __init__(self, walrus: Walrus):
        self.walrus = walrus
        self._pending: dict[BatchKey, list[str]] = {}
        self._count = 0
        self._task: asyncio.Task[None] | None = None
        self._flushing: asyncio.Task[None] | None = None

    # -- request path --------------------------------------------------------------------------
    def record(self, ctx: S3Context, response: Response, started: float | None = None,
               api: str = "REST") -> None:
        """Buffer a log record for this request if its bucket has logging enabled
        (``api``: ``REST``, or ``WEBSITE`` for the website endpoint)."""
        bucket = ctx._bucket  # only a row the request already read: no query here
        if bucket is None or not bucket.get("configs"):
            return
        config = self.walrus.store.bucket_config(bucket, "logging")
        if not config:
            return
        try:
            line = self._line(ctx, bucket, response, started, api)
        except Exception:  # a log record must never fail the request it describes
            log.exception("formatting an access-log record failed")
            return
        key: BatchKey = (config["target_bucket"], config["target_prefix"],
                         config.get("partitioned", ""), bucket["name"], bucket["account_id"],
                         json.dumps(config.get("grants", [])))
        self._pending.setdefault(key, []).append(line)
        self._count += 1
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        if self._count >= MAX_PENDING and (self._flushing is None or self._flushing.done()):
            self._flushing = asyncio.get_running_loop().create_task(self.flush())

    def _line(self, ctx: S3Context, bucket: dict[str, Any], response: Response,
              started: float | None, api: str) -> str:
        request = ctx.request
        now = self.walrus.cloud.clock.now()
        principal = ctx.principal
        requester = "-" if principal.anonymous else acls.canonical_id(principal.account_id)
        sub = next((_OPERATIONS[k] for k in ctx.query if k in _OPERATIONS), None)
        kind = sub or ("OBJECT" if ctx.key is not None else "BUCKET")
        operation = f"{api}.{request.method}.{kind}"
        uri = request.raw_path + (f"?{request.query_string}" if request.query_string else "")
        headers = {k.lower(): v for k, v in response.headers}
        error = headers.get("x-amz-error-code", "-")  # set by the website endpoint
        if error == "-" and response.status >= 400 and response.body:
            m = _ERROR_CODE.search(response.body[:4096])
            error = m.group(1).decode("latin-1") if m else "-"
        sent = headers.get("content-length") or (str(len(response.body))
                                                 if response.body else "-")
        if request.method == "HEAD" or sent == "0":
            sent = "-"
        elapsed = "-" if started is None else str(int((time.monotonic() - started) * 1000))
        h = ctx.headers
        if ctx.auth.credential is not None:
            signature = "SigV4"
        elif principal.anonymous:
            signature = "-"
        else:
            signature = "SigV2"
        auth_type = "-" if principal.anonymous else (
            "AuthHeader" if "authorization" in h else "QueryString")
        fields = [
            acls.canonical_id(bucket["account_id"]), bucket["name"],
            time.strftime("[%d/%b/%Y:%H:%M:%S +0000]", time.gmtime(now)),
            request.client or "-", requester, ctx.rid, operation,
            quote(ctx.key, safe="/") if ctx.key else "-",
            _q(f"{request.method} {uri} HTTP/1.1"), str(response.status), error, sent,
            headers.get("content-length", "-") if ctx.key is not None else "-",
            elapsed, elapsed, _q(h.get("referer", "-")), _q(h.get("user-agent", "-")),
            headers.get("x-amz-version-id", "-"), ctx.rid, signature, "-", auth_type,
            h.get("host", "-"), "-", "-", "-"]
        return " ".join(fields)

    # -- delivery ------------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            try:
                await self.flush()
            except Exception:
                log.exception("access-log delivery failed")

    async def flush(self) -> None:
        """Deliver everything buffered so far (in a worker thread)."""
        batches, self._pending, self._count = self._pending, {}, 0
        if batches:
            await asyncio.to_thread(self._write, batches, self.walrus.cloud.clock.now())

    async def stop(self) -> None:
        """Stop the delivery task and deliver what is left."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        try:
            await self.flush()
        except Exception:
            log.exception("access-log delivery at shutdown failed")

    def _write(self, batches: dict[BatchKey, list[str]], now: float) -> None:
        for (target, prefix, partitioned, source, source_owner, grants), lines in \
                batches.items():
            try:
                self._deliver(target, prefix, partitioned, source, source_owner,
                              json.loads(grants), lines, now)
            except Exception:
                log.exception("access-log delivery to %s failed", target)

    def _deliver(self, target: str, prefix: str, partitioned: str, source: str,
                 source_owner: str, grants: list[list[str]], lines: list[str],
                 now: float) -> None:
        store, provider = self.walrus.store, self.walrus.provider
        row = store.bucket_or_none(target)
        if row is None:
            log.warning("access-log target bucket %s is gone: %d records dropped", target,
                        len(lines))
            return
        stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(now))
        unique = uuid.uuid4().hex[:16].upper()
        if partitioned:
            day = time.strftime("%Y/%m/%d", time.gmtime(now))
            key = f"{prefix}{source_owner}/{self.walrus.region}/{source}/{day}/{stamp}-{unique}"
        else:
            key = f"{prefix}{stamp}-{unique}"
        data = ("\n".join(lines) + "\n").encode("utf-8")
        owner = row["account_id"]
        acl = {"owner": owner, "grants": [["id", owner, "FULL_CONTROL"], *grants]}
        writer = provider.writer()
        try:
            writer.write(data)
            name = writer.commit()
        except BaseException:
            writer.abort()
            raise
        fields = {"owner_id": owner, "content_type": "text/plain", "headers": "{}",
                  "meta": "{}", "acl": json.dumps(acl), "storage_class": "STANDARD",
                  "tagging": None, "checksum": None, "size": len(data),
                  "etag": writer.md5.hexdigest(), "blobs": json.dumps([[name, len(data)]]),
                  "parts": None}
        try:
            store.put(row, key, fields)
        except BaseException:
            provider.delete(name)
            raise
