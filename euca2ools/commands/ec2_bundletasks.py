"""Instance bundling tasks (Windows instance-store instances): bundle, describe, cancel.

Every command prints ``BUNDLE`` records: bundleId, instanceId, S3 bucket, S3 prefix,
startTime, updateTime, state, progress, and the manifest (``bucket/prefix.manifest.xml``).
"""

from __future__ import annotations

from ..decl import Arg, Command
from ..xmlparse import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

#: Filter names of DescribeBundleTasks.
BUNDLE_FILTERS = ("bundle-id", "error-code", "error-message", "instance-id", "progress",
                  "s3-aws-access-key-id", "s3-bucket", "s3-prefix", "start-time", "state",
                  "update-time")


def print_bundle_task(inv: Invocation, task: dict[str, Any]) -> None:
    """One ``BUNDLE`` record."""
    s3 = (task.get("storage") or {}).get("S3") or {}
    bucket, prefix = s3.get("bucket"), s3.get("prefix")
    manifest = f"{bucket}/{prefix}.manifest.xml" if bucket and prefix else None
    inv.emit("BUNDLE", task.get("bundleId"), task.get("instanceId"), bucket, prefix,
             task.get("startTime"), task.get("updateTime"), task.get("state"),
             task.get("progress"), manifest)


def _print_one(inv: Invocation, result: Any) -> None:
    print_bundle_task(inv, result.get("bundleInstanceTask") or {})


def _print_many(inv: Invocation, result: Any) -> None:
    for task in as_list(result.get("bundleInstanceTasksSet")):
        print_bundle_task(inv, task)


def upload_policy(bucket: str, prefix: str, expires_hours: float, now: float) -> str:
    """The base64 S3 upload policy euca2ools makes when none is given: this bucket, keys
    under this prefix, the ``ec2-bundle-read`` ACL, valid for ``expires_hours``."""
    import base64
    import json
    import time

    expiration = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now + expires_hours * 3600))
    policy = {"expiration": expiration,
              "conditions": [{"bucket": bucket}, ["starts-with", "$key", prefix],
                             {"acl": "ec2-bundle-read"}]}
    return base64.b64encode(json.dumps(policy, separators=(",", ":")).encode()).decode()


def sign_policy(policy_b64: str, secret_key: str) -> str:
    """HMAC-SHA1 of the base64 policy with the owner's secret key, base64 (as S3 POST)."""
    import base64
    import hashlib
    import hmac

    return base64.b64encode(hmac.new(secret_key.encode(), policy_b64.encode(),
                                     hashlib.sha1).digest()).decode()


def _prepare_bundle(inv: Invocation) -> None:
    """Storage.S3.*: the given policy, or one made and signed with the owner's key."""
    import time

    from ..exceptions import ArgumentError

    a = inv.args
    policy, signature = a.get("policy"), a.get("policy_signature")
    owner_akid, owner_sak = a.get("owner_akid"), a.get("owner_sak")
    if policy and not signature and not owner_sak:
        raise ArgumentError("argument -c/--policy needs -s/--policy-signature or "
                            "-w/--owner-sak to sign it")
    if not owner_akid or (not signature and not owner_sak):
        creds = inv.session.credentials
        owner_akid = owner_akid or creds.key_id
        owner_sak = owner_sak or creds.secret_key
    if not policy:
        expires = float(a["expires"]) if a.get("expires") is not None else 24.0
        if expires <= 0:
            raise ArgumentError("argument -x/--expires: must be a positive number of hours")
        policy = upload_policy(a["bucket"], a["prefix"], expires, time.time())
    if not signature:
        signature = sign_policy(policy, str(owner_sak))
    inv.params["Storage"] = {"S3": {"Bucket": a["bucket"], "Prefix": a["prefix"],
                                    "AWSAccessKeyId": owner_akid, "UploadPolicy": policy,
                                    "UploadPolicySignature": signature}}


COMMANDS = [
    Command(
        "euca-bundle-instance", "ec2", "BundleInstance",
        "Bundle an S3-backed Windows instance",
        [Arg("INSTANCE", dest="InstanceId", complete="instance",
             help="ID of the instance to bundle"),
         Arg("-b", "--bucket", name="bucket", metavar="BUCKET", required=True,
             help="bucket in which to store the new machine image"),
         Arg("-p", "--prefix", name="prefix", metavar="PREFIX", required=True,
             help="beginning of the machine image bundle's name"),
         Arg("-o", "--owner-akid", name="owner_akid", metavar="KEY_ID",
             help="access key ID of the bucket's owner (default: the key in use)"),
         Arg("-c", "--policy", name="policy", metavar="POLICY",
             help="base64-encoded upload policy that allows the cloud to upload the bundle "
                  "(default: one is made for the bucket and prefix)"),
         Arg("-s", "--policy-signature", name="policy_signature", metavar="SIGNATURE",
             help="signature of the upload policy (default: signed with -w or the key in use)"),
         Arg("-w", "--owner-sak", name="owner_sak", metavar="KEY",
             help="secret key of the bucket's owner, to sign the upload policy"),
         Arg("-x", "--expires", name="expires", metavar="HOURS", type=float,
             help="validity of the generated upload policy in hours (default: 24)")],
        description="The instance must be a running instance-store Windows instance. The "
                    "bundle (BUCKET/PREFIX.manifest.xml and its parts) is written into the "
                    "bucket; register it with euca-register once the task is complete.",
        prepare=_prepare_bundle, output=_print_one,
    ),
    Command(
        "euca-describe-bundle-tasks", "ec2", "DescribeBundleTasks",
        "Describe current instance-bundling tasks",
        [Arg("BUNDLE", dest="BundleId", nargs="*", help="limit results to specific bundle tasks")],
        filters=BUNDLE_FILTERS, output=_print_many,
    ),
    Command(
        "euca-cancel-bundle-task", "ec2", "CancelBundleTask",
        "Cancel an instance bundling operation",
        [Arg("TASK-ID", dest="BundleId", help="ID of the bundle task to cancel")],
        output=_print_one,
    ),
]
