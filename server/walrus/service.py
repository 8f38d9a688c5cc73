"""Walrus: the S3-compatible object store, served at ``/services/objectstorage`` and ``/``.

``setup(cloud)`` builds the :class:`Walrus` component (``cloud.walrus``),
registers the S3 service (path style at ``/services/objectstorage/BUCKET/KEY`` and at
``/BUCKET/KEY``; virtual-host style, see :func:`vhost_bucket`), the Empyrean bootstrap
service, the cloud certificate, and the start/stop hooks (orphan sweep, lifecycle pass).

Internal API for other components (see :class:`server.walrus.api.WalrusAPI`; the part
other components use is the ObjectStore port, :mod:`server.ports.objectstore`)::

    walrus = cloud.walrus
    walrus.create_system_bucket("snapshots-abc")            # owned by the (walrus) account
    walrus.put_object_from_file(bucket, key, path)          # streamed; returns the ETag
    walrus.multipart_upload_from_file(bucket, key, path)    # parts of part_size bytes
    walrus.get_object_to_file(bucket, key, path)            # streamed
    walrus.read_object(principal_or_account_id, bucket, key) -> bytes   # with access checks
    walrus.read_manifest(principal_or_account_id, "bucket/x.manifest.xml") -> Manifest
    walrus.unbundle_image(bucket, manifest_key, out_path)  # decrypt + reassemble (for the NC)
    walrus.presign_get(bucket, key, expires_in=10800) -> URL   # parts for a node controller
    walrus.delete_object(bucket, key)
    walrus.list_keys(bucket, prefix) / walrus.delete_bucket(bucket, force=True)

These block (file and database I/O): from the event loop, call them through
``asyncio.to_thread``.  Errors are S3Error subclasses (NoSuchBucket, NoSuchKey, ...).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import time
from email.utils import formatdate
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes, urlparse

from server.ids import request_id
from server.protocol.http import Request, Response
from server.walrus import (
    bucketconfigs,
    buckets,
    cors,
    lifecycle,
    listing,
    multipart,
    objectacl,
    objectlock,
    objects,
    publicaccess,
    website,
)
from server.walrus import errors as e
from server.walrus.accesslog import AccessLog
from server.walrus.acl import Accounts
from server.walrus.api import WalrusAPI
from server.walrus.auth import authenticate
from server.walrus.context import S3Context, loads
from server.walrus.provider import FilesystemProvider
from server.walrus.sse import MasterKey
from server.walrus.store import WalrusStore

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)

PREFIX = "/services/objectstorage"
#: Host labels that mark an S3 endpoint; ``BUCKET.<label>.<domain>`` is virtual-host style.
ENDPOINT_LABELS = ("s3", "objectstorage", "walrus")
SERVICE_LABELS = frozenset({"ec2", "compute", "iam", "euare", "sts", "tokens", "autoscaling",
                            "monitoring", "cloudwatch", "elasticloadbalancing",
                            "loadbalancing", "cloudformation", "bootstrap", "properties",
                            "s3", "objectstorage", "walrus"})
LIFECYCLE_INTERVAL = 60.0
PURGE_INTERVAL = 5.0
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(r"X-Amz-Credential=[^&]*?%2F\d{8}%2F[^&]*?%2F([^&%]+)%2Faws4_request",
                          re.IGNORECASE)
STALE_UPLOAD_SECONDS = 168 * 3600.0

_BUCKET_GET = {"encryption": buckets.bucket_encryption,
               "object-lock": objectlock.object_lock_config, "acl": buckets.bucket_acl, "policy": buckets.bucket_policy,
               "tagging": buckets.bucket_tagging, "cors": cors.bucket_cors,
               "lifecycle": lifecycle.bucket_lifecycle, "location": buckets.get_location,
               "versioning": buckets.versioning, "versions": listing.list_versions,
               "uploads": multipart.list_uploads}
_BUCKET_PUT = {"encryption": buckets.bucket_encryption,
               "object-lock": objectlock.object_lock_config, "acl": buckets.bucket_acl, "policy": buckets.bucket_policy,
               "tagging": buckets.bucket_tagging, "cors": cors.bucket_cors,
               "lifecycle": lifecycle.bucket_lifecycle, "versioning": buckets.versioning}
_BUCKET_DELETE = {"encryption": buckets.bucket_encryption, "policy": buckets.bucket_policy, "tagging": buckets.bucket_tagging,
                  "cors": cors.bucket_cors, "lifecycle": lifecycle.bucket_lifecycle}
# Stored bucket configurations (bucketconfigs.py) and static website hosting (website.py).
_BUCKET_GET.update({"logging": bucketconfigs.bucket_logging, "website": website.bucket_website,
                    "notification": bucketconfigs.bucket_notification,
                    "ownershipControls": bucketconfigs.ownership_controls,
                    "accelerate": bucketconfigs.accelerate,
                    "requestPayment": bucketconfigs.request_payment})
_BUCKET_PUT.update({"logging": bucketconfigs.bucket_logging, "website": website.bucket_website,
                    "notification": bucketconfigs.bucket_notification,
                    "ownershipControls": bucketconfigs.ownership_controls,
                    "accelerate": bucketconfigs.accelerate,
                    "requestPayment": bucketconfigs.request_payment})
_BUCKET_DELETE.update({"website": website.bucket_website,
                       "ownershipControls": bucketconfigs.ownership_controls})
# Block Public Access and the policy status (publicaccess.py).
_BUCKET_GET.update({"publicAccessBlock": publicaccess.public_access_block,
                    "policyStatus": publicaccess.policy_status})
_BUCKET_PUT["publicAccessBlock"] = publicaccess.public_access_block
_BUCKET_DELETE["publicAccessBlock"] = publicaccess.public_access_block
_UNSUPPORTED = ("replication",
                "analytics", "metrics", "inventory",
                "intelligent-tiering", "torrent", "restore", "select")
#: GET answers for bucket configurations Walrus does not support: what S3 says for a bucket
#: that has none (clients such as awscli and Terraform read these routinely).
_UNCONFIGURED: dict[str, tuple[int, bytes | type[e.S3Error]]] = {
    "replication": (404, e.ReplicationConfigurationNotFoundError),
}


def vhost_bucket(host: str, public_host: str | None) -> str | None:
    """The bucket named by a virtual-host style Host header, or None for path style.

    Rule: IP literals, ``localhost`` and the cloud's own host name are path style;
    ``BUCKET.s3.DOMAIN`` / ``BUCKET.objectstorage.DOMAIN`` / ``BUCKET.walrus.DOMAIN``,
    ``BUCKET.<cloud host name>`` and ``BUCKET.localhost`` name a bucket.
    """
    host = host.strip().lower()
    if host.startswith("["):
        return None
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not host or host == "localhost" or "." not in host:
        return None
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if public_host and host == public_host:
        return None
    if public_host and host.endswith("." + public_host):
        bucket = host[:-len(public_host) - 1]
        # Service host names under the cloud's domain (ec2.CLOUD, ...) are not buckets.
        return None if bucket in SERVICE_LABELS else bucket
    if host.endswith(".localhost"):
        return host[:-len(".localhost")]
    for label in ENDPOINT_LABELS:
        if host.startswith(label + "."):
            return None
        m = re.match(rf"^(.+)\.{label}[.-]", host)
        if m:
            return m.group(1)
    return None


class Walrus(WalrusAPI):
    """The Walrus component: metadata store, blob provider, account mapping, settings."""

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.root = os.path.join(cloud.data_dir, "walrus")
        self.provider = FilesystemProvider(self.root)
        self.store = WalrusStore(cloud.engine, self.provider, cloud.clock.now)
        self.accounts = Accounts(cloud.identity)
        self.region: str = cloud.config.cloud.get("region") or "localhost"
        self.bucket_quota = 100
        self.min_part_size = multipart.MIN_PART
        # Length of a lifecycle "day" (shorter only to test expiration rules quickly).
        self.lifecycle_day = float(cloud.config.cloud.get("walrus_lifecycle_day_seconds")
                                   or lifecycle.DAY)
        self.public_host = (urlparse(cloud.url).hostname or "").lower() or None
        self.master = MasterKey(os.path.join(self.root, "master.key"), cloud.secrets)
        self.access_log = AccessLog(self)  # server access logs (PutBucketLogging)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def exec_account(self) -> str | None:
        """The cloud administrator's account (aws-exec-read grants it READ on bundles)."""
        account = self.cloud.identity.account_by_name.get("eucalyptus")
        return account.id if account else None

    def base_url(self, request: Request) -> str:
        """Scheme and host the client used (for Location fields)."""
        host = request.header("host") or urlparse(self.cloud.url).netloc
        prefix = PREFIX if request.path.lower().startswith(PREFIX) else ""
        # The scheme of the connection (uvicorn sets "https" for TLS, or from a trusted
        # proxy's X-Forwarded-Proto): a Location must not send an HTTPS client to http.
        scheme = request.scope.get("scheme") or "http"
        return f"{scheme}://{host}{prefix}"

    # -- life cycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Sweep orphan blobs and start the lifecycle pass."""
        # Nothing is in flight before the server serves: every unreferenced blob and
        # temporary file is a leftover of a crash.
        removed = await asyncio.to_thread(self.store.sweep, 0.0)
        if removed:
            log.info("walrus removed %d orphan blobs", removed)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._lifecycle_loop()),
                       loop.create_task(self._purge_loop())]

    async def stop(self) -> None:
        """Stop the background passes; delete blobs waiting for deletion."""
        for task in self._tasks:
            task.cancel()
        await asyncio.to_thread(self.store.purge, True)

    async def _purge_loop(self) -> None:
        while True:
            await asyncio.sleep(PURGE_INTERVAL)
            try:
                await asyncio.to_thread(self.store.purge)
            except Exception:
                log.exception("blob purge failed")

    async def _lifecycle_loop(self) -> None:
        passes = 0
        # Several passes per lifecycle day, so rules apply on time with short test days.
        interval = min(LIFECYCLE_INTERVAL, self.lifecycle_day / 10)
        hourly = max(1, round(3600 / interval))
        while True:
            await asyncio.sleep(interval)
            passes += 1
            try:
                await asyncio.to_thread(lifecycle.expire, self.store, self.cloud.clock.now(),
                                        self.lifecycle_day)
                if passes % hourly == 0:  # stale uploads (as the OSG's 168 h) and orphans
                    await asyncio.to_thread(self.store.abort_stale_uploads,
                                            self.cloud.clock.now() - STALE_UPLOAD_SECONDS)
                    await asyncio.to_thread(self.store.sweep)
            except Exception:
                log.exception("lifecycle pass failed")


class S3Service:
    """The S3 REST-XML API over a :class:`Walrus`."""

    path = PREFIX
    signing_names = ("s3",)

    def __init__(self, walrus: Walrus):
        self.walrus = walrus

    def claims(self, request: Request) -> bool:
        """Virtual-host style requests are S3's, unless they are plainly for another service
        (a ``/services/<other>`` path or a SigV4 scope naming another service)."""
        if vhost_bucket(request.header("host"), self.walrus.public_host) is None:
            return False
        path = request.path.lower()
        if path.startswith("/services/") and not path.startswith(PREFIX):
            return False
        auth = request.header("authorization")
        scope = _SCOPE.search(auth) if auth else None
        if scope is None and "X-Amz-Credential" in request.query_string:
            scope = _QUERY_SCOPE.search(request.query_string)
        return scope is None or scope.group(1) == "s3"

    def target(self, request: Request) -> tuple[str, str | None, str | None, str | None]:
        """``(prefix, bucket, key, virtual-host bucket)`` of a request."""
        # Bucket names and keys are UTF-8: escapes that decode to anything else are refused
        # (as S3 does) rather than read with replacement characters.
        try:
            unquote_to_bytes(request.raw_path.encode("latin-1")).decode("utf-8")
        except UnicodeError:
            raise e.InvalidURI() from None
        path = request.path
        prefix = ""
        if path.lower().startswith(PREFIX) and (len(path) == len(PREFIX)
                                                or path[len(PREFIX)] == "/"):
            prefix, path = path[:len(PREFIX)], path[len(PREFIX):] or "/"
        vb = vhost_bucket(request.header("host"), self.walrus.public_host)
        if vb is not None:
            key = path[1:] if path.startswith("/") else path
            return prefix, vb, key or None, vb
        bucket, _, key = path.lstrip("/").partition("/")
        return prefix, bucket or None, key or None, None

    async def handle(self, request: Request) -> Response:
        """Serve one S3 request; errors become S3 ``<Error>`` documents."""
        rid = request_id().replace("-", "")[:16].upper()
        started = time.monotonic()
        ctx: S3Context | None = None
        try:
            prefix, bucket, key, vb = self.target(request)
            if request.method == "OPTIONS":
                from server.auth.identity import ANONYMOUS
                from server.walrus.auth import Auth

                auth = Auth(ANONYMOUS)
            else:
                auth = authenticate(self.walrus.cloud, request, prefix, vb)
            ctx = S3Context(self.walrus, request, auth, bucket, key, rid,
                            dict(request.query_pairs))
            response = await self.dispatch(ctx)
        except e.S3Error as exc:
            response = self.error(exc, request, rid)
        except ConnectionError:
            # The client left mid-request (uvicorn reported http.disconnect): not an error
            # of ours, and there is nobody left to answer.
            log.debug("client %s disconnected during %s %s", request.client, request.method,
                      request.path)
            response = Response(400, b"", [("x-amz-request-id", rid)], content_type="")
        except Exception:
            log.exception("internal error serving %s %s", request.method, request.path)
            response = self.error(e.S3Error(), request, rid)
        response.headers.append(("date", formatdate(self.walrus.cloud.clock.now(), usegmt=True)))
        hmap = request.header_map
        if not request._consumed and request._body is None and (
                hmap.get("content-length", "0") not in ("", "0") or "transfer-encoding" in hmap):
            # An unread body would be parsed as the next request on this connection.
            response.headers.append(("connection", "close"))
        if ctx is not None and ctx.bucket_name and "origin" in request.header_map \
                and request.method != "OPTIONS":
            self._cors(ctx, response)
        if ctx is not None:
            self.walrus.access_log.record(ctx, response, started)  # buffered, no I/O
        return response

    def error(self, exc: e.S3Error, request: Request, rid: str) -> Response:
        """Render an S3 error (no body for 304)."""
        headers = [("x-amz-request-id", rid), ("x-amz-id-2", rid), *exc.headers]
        if exc.status == 304:
            return Response(304, b"", headers, content_type="")
        return Response(exc.status, exc.render(request.path, rid), headers,
                        content_type="application/xml")

    def _cors(self, ctx: S3Context, response: Response) -> None:
        try:
            bucket = ctx.bucket()
        except e.S3Error:
            return
        rules = loads(bucket.get("cors"), None)
        if not rules:
            return
        origin = ctx.headers["origin"]
        method = cors.actual_method(ctx.headers, ctx.request.method)
        rule = cors.match_rule(rules, origin, method, [])
        if rule is not None:
            response.headers.extend(cors.cors_headers(rule, origin, method, []))

    async def dispatch(self, ctx: S3Context) -> Response:
        """Pick the handler by method, target (service/bucket/object) and sub-resource."""
        method, q = ctx.request.method, ctx.query
        if method == "OPTIONS":
            if ctx.bucket_name is None:
                raise e.BadRequest("Insufficient information. Origin request header needed.")
            return await cors.preflight(ctx)
        for name in _UNSUPPORTED:
            if name in q:
                if method == "GET" and ctx.bucket_name and ctx.key is None \
                        and name in _UNCONFIGURED:
                    bucket = ctx.bucket()
                    ctx.authorize("s3:GetBucketConfiguration", bucket)
                    status, answer = _UNCONFIGURED[name]
                    if isinstance(answer, bytes):
                        return ctx.response(status, b'<?xml version="1.0" encoding="UTF-8"?>\n'
                                            + answer)
                    raise answer(BucketName=bucket["name"])
                raise e.NotImplemented_(f"The {name} sub-resource is not implemented")
        if ctx.bucket_name is None:
            if method in ("GET", "HEAD"):
                return await buckets.list_buckets(ctx)
            raise e.MethodNotAllowed(Method=method, ResourceType="SERVICE")
        if ctx.key is None:
            return await self._bucket(ctx, method, q)
        return await self._object(ctx, method, q)

    async def _bucket(self, ctx: S3Context, method: str, q: dict[str, str]) -> Response:
        table = {"GET": _BUCKET_GET, "PUT": _BUCKET_PUT, "DELETE": _BUCKET_DELETE}.get(method, {})
        for sub, handler in table.items():
            if sub in q:
                return await handler(ctx)
        if method in ("GET",):
            return await listing.list_objects(ctx)
        if method == "HEAD":
            return await buckets.head_bucket(ctx)
        if method == "PUT":
            return await buckets.create_bucket(ctx)
        if method == "DELETE":
            return await buckets.delete_bucket(ctx)
        if method == "POST" and "delete" in q:
            return await objects.delete_objects(ctx)
        if method == "POST":
            from server.walrus.post import post_object

            return await post_object(ctx)
        raise e.MethodNotAllowed(Method=method, ResourceType="BUCKET")

    async def _object(self, ctx: S3Context, method: str, q: dict[str, str]) -> Response:
        if method in ("GET", "HEAD"):
            if "acl" in q:
                return await objectacl.get_object_acl(ctx)
            if "tagging" in q:
                return await objectacl.object_tagging(ctx)
            if "uploadId" in q:
                return await multipart.list_parts(ctx)
            if "attributes" in q:
                return await objectacl.object_attributes(ctx)
            if "retention" in q:
                return await objectlock.retention(ctx)
            if "legal-hold" in q:
                return await objectlock.legal_hold(ctx)
            return await objects.get_object(ctx, head=method == "HEAD")
        if method == "PUT":
            if "acl" in q:
                return await objectacl.put_object_acl(ctx)
            if "tagging" in q:
                return await objectacl.object_tagging(ctx)
            if "uploadId" in q:
                return await multipart.upload_part(ctx)
            if "retention" in q:
                return await objectlock.retention(ctx)
            if "legal-hold" in q:
                return await objectlock.legal_hold(ctx)
            if "x-amz-copy-source" in ctx.headers:
                return await objects.copy_object(ctx)
            return await objects.put_object(ctx)
        if method == "POST":
            if "uploads" in q:
                return await multipart.create_upload(ctx)
            if "uploadId" in q:
                return await multipart.complete_upload(ctx)
            raise e.MethodNotAllowed(Method=method, ResourceType="OBJECT")
        if method == "DELETE":
            if "tagging" in q:
                return await objectacl.object_tagging(ctx)
            if "uploadId" in q:
                return await multipart.abort_upload(ctx)
            return await objects.delete_object(ctx)
        raise e.MethodNotAllowed(Method=method, ResourceType="OBJECT")


def setup(cloud: Cloud) -> None:
    """Create Walrus, its services, the cloud certificate and hooks."""
    from server.walrus.certs import EmpyreanService, ensure_certificate

    walrus = Walrus(cloud)
    cloud.walrus = walrus
    cloud.certificate_path, cloud.certificate_key_path = ensure_certificate(cloud.data_dir)
    # Before S3Service: website hosts (BUCKET.s3-website...) would look like S3 virtual hosts.
    cloud.app.register(website.WebsiteService(walrus))
    cloud.app.register(S3Service(walrus), default=True)
    cloud.app.register(EmpyreanService(cloud))
    cloud.start_hooks.append(walrus.start)
    cloud.stop_hooks.append(walrus.stop)
    cloud.stop_hooks.append(walrus.access_log.stop)
