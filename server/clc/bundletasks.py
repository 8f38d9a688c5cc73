"""Bundle tasks: BundleInstance, DescribeBundleTasks, CancelBundleTask.

EC2 (and Eucalyptus) bundle instance-store Windows instances into an image bundle in the
user's bucket: the task goes ``pending`` -> ``waiting-for-shutdown`` (the guest shuts its
OS down) -> ``bundling`` -> ``storing`` -> ``complete`` on the cloud's clock, and
``BUCKET/PREFIX.manifest.xml`` can then be registered as a new image.  The bundle is the
euca2ools 3.x format (tar, gzip, AES-128-CBC, parts and a signed manifest whose key is
encrypted to the cloud's certificate), written with :mod:`euca2ools.bundle` as the
Eucalyptus NC writes it with euca2ools' own bundling code.  The instance's disk is its
image: the bundle holds the bytes of the image the instance was launched from.

``CancelBundleTask`` before completion answers ``cancelling``; the task then settles in
``cancelled`` (as Eucalyptus reports it) and whatever it had stored is removed.  A task
that cannot finish (the image's bundle is unreadable, the bucket belongs to someone else)
ends ``failed`` with EC2's ``error`` code and message.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from server import errors, ids
from server.auth.authz import action, each_param
from server.clc.filters import Filters
from server.clc.instances import IncorrectInstanceState, get_instance
from server.clc.model import Instance, Record
from server.clock import call_from_thread
from server.protocol.query import Context
from server.protocol.xml import iso8601

if TYPE_CHECKING:
    from server.cloud import Cloud
    from server.ports.objectstore import ObjectStore

log = logging.getLogger(__name__)

#: Clock seconds a task spends before the guest is asked to shut down, and shutting down.
PENDING_SECONDS = 1.0
SHUTDOWN_SECONDS = 2.0
#: The least time a task shows ``bundling`` and ``storing`` (a small image takes less:
#: a client polling DescribeBundleTasks still sees every state).
MIN_PHASE_SECONDS = 1.0
#: States a task does not leave.
FINAL = frozenset({"complete", "failed", "cancelled"})

BundlingInProgress = errors._error("BundlingInProgress", "BundlingInProgress")
InvalidBundleIDNotFound = errors._error("InvalidBundleIDNotFound", "InvalidBundleID.NotFound")
InvalidBundleIDMalformed = errors._error("InvalidBundleIDMalformed", "InvalidBundleID.Malformed")


class _Cancelled(Exception):
    """The task was cancelled while its worker ran."""


@dataclass
class BundleTask(Record):
    """One BundleInstance request and how far it got."""

    KIND: ClassVar[str] = "bundle_task"
    id: str
    account_id: str
    instance_id: str
    bucket: str
    prefix: str
    state: str
    start_time: float
    update_time: float
    progress: int = 0
    error_code: str = ""
    error_message: str = ""
    cancel_requested: bool = False
    #: The access key the upload policy was signed with (AWSAccessKeyId), if any.
    owner_key_id: str = ""

    def xml(self) -> dict[str, Any]:
        """The ``bundleInstanceTask`` element."""
        out: dict[str, Any] = {
            "instanceId": self.instance_id, "bundleId": self.id, "state": self.state,
            "startTime": iso8601(self.start_time), "updateTime": iso8601(self.update_time),
            "storage": {"S3": {"bucket": self.bucket, "prefix": self.prefix,
                               "AWSAccessKeyId": self.owner_key_id or None}},
            "progress": f"{self.progress}%"}
        if self.error_code:
            out["error"] = {"code": self.error_code, "message": self.error_message}
        return out


class BundleTasks:
    """Every bundle task of the cloud, and the workers that carry them out."""

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.clock = cloud.clock
        self.tasks: dict[str, BundleTask] = {}
        for _rid, _account, doc in cloud.store.load(BundleTask.KIND):
            task = BundleTask.from_doc(doc)
            if task.state not in FINAL:  # its worker died with the previous process
                task.state, task.error_code = "failed", "Server.InternalError"
                task.error_message = "the cloud restarted while the task ran"
                task.update_time = self.clock.now()
                self.save(task)
            self.tasks[task.id] = task

    @classmethod
    def of(cls, cloud: Cloud) -> BundleTasks:
        """The cloud's bundle tasks (loaded on first use)."""
        keeper = cloud.components.get("bundle_tasks")
        if keeper is None:
            keeper = cloud.components["bundle_tasks"] = cls(cloud)
        return keeper

    def save(self, task: BundleTask) -> None:
        """Write the task through (flushed with the request, or soon after an event)."""
        self.cloud.clc.save(task)

    # -- the task's life ---------------------------------------------------------------
    def start(self, task: BundleTask) -> None:
        """Schedule the first steps on the cloud's clock."""
        self.tasks[task.id] = task
        self.save(task)
        self.clock.call_later(PENDING_SECONDS, lambda: self._advance(task, "waiting-for-shutdown"))

    def _set(self, task: BundleTask, state: str, progress: int | None = None) -> None:
        task.state = state
        if progress is not None:
            task.progress = progress
        task.update_time = self.clock.now()
        self.save(task)

    def _advance(self, task: BundleTask, state: str) -> None:
        if task.state in FINAL:
            return
        if task.cancel_requested:
            self._set(task, "cancelled")
            return
        self._set(task, state)
        if state == "waiting-for-shutdown":
            self.clock.call_later(SHUTDOWN_SECONDS, lambda: self._advance(task, "bundling"))
        elif state == "bundling":
            inst = self.cloud.clc.instances.get(task.instance_id)
            if inst is None or inst.state != "running":
                self._fail(task, "Client.InvalidInstanceState",
                           f"instance {task.instance_id} stopped running before it was bundled")
                return
            image = self.cloud.clc.images.get(inst.image_id)
            location = image.location if image is not None else ""
            threading.Thread(target=self._work, args=(task, location), daemon=True,
                             name=f"bundle-{task.id}").start()

    def _on_loop(self, fn: Callable[[], None]) -> None:
        call_from_thread(self.clock, fn)

    def _after_phase(self, task: BundleTask, fn: Callable[[], None]) -> None:
        """From a worker: run ``fn`` on the loop once the current state has lasted
        MIN_PHASE_SECONDS of the cloud's clock."""
        def later() -> None:
            left = task.update_time + MIN_PHASE_SECONDS - self.clock.now()
            self.clock.call_later(max(0.0, left), fn)

        self._on_loop(later)

    def _work(self, task: BundleTask, location: str) -> None:
        """Worker thread: unbundle the instance's image, bundle it anew, store it."""
        workdir = tempfile.mkdtemp(prefix=f"{task.id}-", dir=self.cloud.data_dir)
        stored: list[str] = []
        try:
            files = self._bundle(task, location, workdir)
            stage = threading.Event()

            def storing() -> None:
                self._progress(task, "storing", 50)
                stage.set()

            self._after_phase(task, storing)
            stage.wait()
            self._store(task, files, stored)
        except _Cancelled:
            self._remove(task.bucket, stored)
            self._on_loop(lambda: self._set(task, "cancelled"))
        except Exception as exc:  # the task fails; the cloud goes on
            log.info("bundle task %s failed: %s", task.id, exc)
            self._remove(task.bucket, stored)
            code = getattr(exc, "code", "") or "Server.InternalError"
            message = getattr(exc, "message", "") or str(exc)
            self._on_loop(lambda: self._fail(task, code, message))
        else:
            self._after_phase(task, lambda: self._finish(task, stored))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _check(self, task: BundleTask) -> None:
        if task.cancel_requested:
            raise _Cancelled()

    def _bundle(self, task: BundleTask, location: str, workdir: str) -> list[str]:
        """The bundle's local files (parts, then the manifest last)."""
        from euca2ools.bundle.tasks import BundleSpec, make_bundle
        from server.walrus.certs import cloud_key

        walrus: ObjectStore | None = self.cloud.walrus
        if walrus is None:
            raise errors.AWSError("this cloud has no object storage to bundle into",
                                  code="Server.InternalError")
        bucket, _, key = location.partition("/")
        disk = os.path.join(workdir, "disk.img")
        try:
            walrus.unbundle_image(bucket, key, disk)
        except Exception as exc:
            raise errors.AWSError(f"the image of {task.instance_id} ({location}) cannot be "
                                  f"read: {getattr(exc, 'message', '') or exc}",
                                  code="Server.InternalError") from None
        self._check(task)
        self._on_loop(functools.partial(self._progress, task, "bundling", 25))
        signing = cloud_key(self.cloud)
        name = task.prefix.rsplit("/", 1)[-1]
        out = os.path.join(workdir, "bundle")
        spec = BundleSpec(image=disk, prefix=name, destination=out, architecture=self._arch(task),
                          user=task.account_id, cloud_cert=signing.public_key(),
                          image_size=os.path.getsize(disk), signing_key=signing)
        manifest_path, _manifest = make_bundle(spec)
        self._check(task)
        parts = sorted(os.path.join(out, f) for f in os.listdir(out)
                       if f != os.path.basename(manifest_path))
        return parts + [manifest_path]

    def _arch(self, task: BundleTask) -> str:
        inst = self.cloud.clc.instances.get(task.instance_id)
        return inst.architecture if inst is not None else "x86_64"

    def _store(self, task: BundleTask, files: list[str], stored: list[str]) -> None:
        """Upload the files into the task's bucket (made for the account if missing)."""
        from server.walrus import errors as s3errors

        walrus: ObjectStore | None = self.cloud.walrus
        assert walrus is not None  # _bundle() has read the image from it
        try:
            walrus.create_account_bucket(task.bucket, task.account_id)
        except s3errors.S3Error as exc:
            raise errors.AWSError(f"bucket {task.bucket}: {exc.message or exc.code}",
                                  code="Client.S3Error") from None
        folder = task.prefix.rsplit("/", 1)[0] + "/" if "/" in task.prefix else ""
        for n, path in enumerate(files):
            self._check(task)
            key = folder + os.path.basename(path)
            ctype = "text/xml" if key.endswith(".manifest.xml") else "application/octet-stream"
            walrus.put_object_from_file(task.bucket, key, path, ctype)
            stored.append(key)
            done = 50 + 50 * (n + 1) // len(files)
            self._on_loop(functools.partial(self._progress, task, "storing", min(done, 99)))

    def _remove(self, bucket: str, keys: list[str]) -> None:
        walrus: ObjectStore | None = self.cloud.walrus
        if walrus is None:
            return
        for key in keys:
            try:
                walrus.delete_object(bucket, key)
            except Exception:
                log.warning("could not remove %s/%s of a cancelled bundle", bucket, key)

    def _progress(self, task: BundleTask, state: str, progress: int) -> None:
        if task.state not in FINAL:
            self._set(task, "cancelling" if task.cancel_requested else state, progress)

    def _finish(self, task: BundleTask, stored: list[str]) -> None:
        if task.cancel_requested:  # cancelled while the last object went in
            self._set(task, "cancelled")
            threading.Thread(target=self._remove, args=(task.bucket, stored), daemon=True).start()
            return
        self._set(task, "complete", 100)

    def _fail(self, task: BundleTask, code: str, message: str) -> None:
        if task.cancel_requested:
            self._set(task, "cancelled")
            return
        task.error_code, task.error_message = code, message
        self._set(task, "failed")

    def cancel(self, task: BundleTask) -> None:
        """Ask a running task to stop: ``cancelling`` now, ``cancelled`` once it has."""
        task.cancel_requested = True
        self._set(task, "cancelling")


# -- the upload policy -------------------------------------------------------------------
def check_upload_policy(ctx: Context, bucket: str, prefix: str) -> None:
    """An S3 upload policy, when given, must be signed by one of the caller's account's
    keys and allow this bucket and prefix, as S3 would check it at upload time."""
    s3 = ctx.params.struct("Storage").struct("S3")
    policy_b64 = s3.str("UploadPolicy")
    if not policy_b64:
        return
    key_id = s3.str("AWSAccessKeyId")
    signature = s3.str("UploadPolicySignature")
    if not key_id or not signature:
        raise errors.MissingParameter("An upload policy needs AWSAccessKeyId and "
                                      "UploadPolicySignature")
    identity = ctx.cloud.identity
    secret = identity.secret_for(key_id)
    if secret is None or identity.principal_for(key_id).account_id != ctx.account_id:
        raise errors.InvalidParameterValue(f"The access key {key_id} is not one of this "
                                           "account's active keys")
    expected = base64.b64encode(hmac.new(secret.encode(), policy_b64.encode(),
                                         hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        raise errors.InvalidParameterValue("The upload policy signature does not match")
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
        conditions = policy.get("conditions", [])
    except (ValueError, TypeError, AttributeError):
        raise errors.InvalidParameterValue("The upload policy is not base64 JSON") from None
    from email.utils import parsedate_to_datetime

    expiration = policy.get("expiration", "")
    try:
        import datetime as _dt

        when = _dt.datetime.fromisoformat(expiration.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        try:
            when = parsedate_to_datetime(expiration).timestamp()
        except (TypeError, ValueError):
            raise errors.InvalidParameterValue("The upload policy has no valid expiration") \
                from None
    if when < ctx.cloud.clock.now():
        raise errors.InvalidParameterValue("The upload policy has expired")
    for cond in conditions:
        if isinstance(cond, dict) and "bucket" in cond and cond["bucket"] != bucket:
            raise errors.InvalidParameterValue(f"The upload policy is for bucket "
                                               f"{cond['bucket']}, not {bucket}")
        if (isinstance(cond, list) and len(cond) == 3 and cond[0] == "starts-with"
                and cond[1] == "$key" and not prefix.startswith(cond[2])):
            raise errors.InvalidParameterValue(f"The upload policy does not allow the "
                                               f"prefix {prefix}")


# -- actions -------------------------------------------------------------------------------
def _bundleable(ctx: Context, inst: Instance) -> None:
    if inst.root_device_type != "instance-store":
        raise errors.UnsupportedOperation(
            f"Instance {inst.id} is EBS-backed: use CreateImage to make an image of it")
    if inst.platform != "windows":
        raise errors.UnsupportedOperation(
            f"Instance {inst.id} is not a Windows instance: BundleInstance bundles "
            "instance-store Windows instances (bundle Linux images with euca-bundle-image)")
    if inst.state != "running":
        raise IncorrectInstanceState(f"The instance '{inst.id}' is not in the 'running' state.")


def bundle_instance(ctx: Context) -> Any:
    """BundleInstance: start bundling a running instance-store Windows instance."""
    p = ctx.params
    inst = get_instance(ctx, p.str("InstanceId", required=True))
    s3 = p.struct("Storage").struct("S3")
    bucket = s3.str("Bucket", required=True)
    prefix = s3.str("Prefix", required=True)
    from server.walrus.buckets import check_bucket_name
    from server.walrus.errors import S3Error

    try:
        check_bucket_name(bucket)
    except S3Error:
        raise errors.InvalidParameterValue(f"Invalid bucket name: {bucket}") from None
    if not prefix.strip("/") or prefix.endswith("/") or ".." in prefix.split("/"):
        raise errors.InvalidParameterValue(f"Invalid prefix: {prefix}")
    _bundleable(ctx, inst)
    tasks = BundleTasks.of(ctx.cloud)
    if any(t.instance_id == inst.id and t.state not in FINAL for t in tasks.tasks.values()):
        raise BundlingInProgress(f"Instance {inst.id} is already being bundled")
    check_upload_policy(ctx, bucket, prefix)
    walrus: ObjectStore | None = ctx.cloud.walrus
    if walrus is not None:
        owner = walrus.bucket_owner(bucket)
        if owner is not None and owner != inst.account_id:
            raise errors.AccessDenied(f"The bucket {bucket} belongs to another account")
    now = ctx.cloud.clock.now()
    task = BundleTask(ids.resource_id("bun"), inst.account_id, inst.id, bucket, prefix,
                      "pending", now, now, owner_key_id=s3.str("AWSAccessKeyId") or "")
    tasks.start(task)
    return {"bundleInstanceTask": task.xml()}


def _visible_tasks(ctx: Context, wanted: list[str]) -> list[BundleTask]:
    """The named tasks (each must be the caller's), or all the caller's tasks."""
    tasks = BundleTasks.of(ctx.cloud).tasks
    if wanted:
        out = []
        for bid in wanted:
            task = tasks.get(bid)
            if task is None or not (ctx.is_admin or task.account_id == ctx.account_id):
                if not bid.startswith("bun-"):
                    raise InvalidBundleIDMalformed(f"Invalid id: \"{bid}\"")
                raise InvalidBundleIDNotFound(f"The bundle task ID '{bid}' does not exist")
            out.append(task)
        return out
    return [t for t in tasks.values() if t.account_id == ctx.account_id]


def describe_bundle_tasks(ctx: Context) -> Any:
    """DescribeBundleTasks by ID and filters."""
    found = _visible_tasks(ctx, ctx.params.strings("BundleId"))
    filt = ctx.params.filters()
    if filt:
        found = Filters({
            "bundle-id": lambda t: t.id, "instance-id": lambda t: t.instance_id,
            "state": lambda t: t.state, "progress": lambda t: f"{t.progress}%",
            "s3-bucket": lambda t: t.bucket, "s3-prefix": lambda t: t.prefix,
            "s3-aws-access-key-id": lambda t: t.owner_key_id,
            "start-time": lambda t: iso8601(t.start_time),
            "update-time": lambda t: iso8601(t.update_time),
            "error-code": lambda t: t.error_code, "error-message": lambda t: t.error_message,
        }, lambda t: {}).apply(found, filt)
    found.sort(key=lambda t: (t.start_time, t.id))
    return {"bundleInstanceTasksSet": [t.xml() for t in found]}


def cancel_bundle_task(ctx: Context) -> Any:
    """CancelBundleTask: stop a task that has not completed."""
    (task,) = _visible_tasks(ctx, [ctx.params.str("BundleId", required=True)])
    tasks = BundleTasks.of(ctx.cloud)
    if task.state in FINAL:
        raise errors.InvalidParameterValue(
            f"The bundle task {task.id} is {task.state} and cannot be cancelled")
    tasks.cancel(task)
    return {"bundleInstanceTask": task.xml()}


ACTIONS = {
    "BundleInstance": action(bundle_instance, "ec2:BundleInstance",
                             resources=each_param("InstanceId", "instance")),
    "DescribeBundleTasks": action(describe_bundle_tasks, "ec2:DescribeBundleTasks"),
    # IAM has no resource type for bundle tasks: CancelBundleTask is authorized on "*".
    "CancelBundleTask": action(cancel_bundle_task, "ec2:CancelBundleTask"),
}
