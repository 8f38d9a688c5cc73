"""Import (conversion) task commands: import an instance or a volume from a disk image,
resume its upload, describe and cancel tasks, delete the uploaded image.

The upload and the import manifest live in :mod:`euca2ools.importing`.  Task lines are
key/value pairs after no tag word: ``TaskType IMPORTVOLUME|IMPORTINSTANCE TaskId ID
ExpirationTime T Status S [StatusMessage M] [InstanceID I]``, then one ``DISKIMAGE`` line
per disk (``DiskImageFormat``, ``DiskImageSize``, ``VolumeId``, ``VolumeSize``,
``AvailabilityZone``, ``ApproximateBytesConverted``, ``Status``, ``StatusMessage``, each
only when known), as euca2ools 3.x prints them.
"""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list
from .bundle import filesize

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def print_conversion_task(inv: Invocation, task: dict[str, Any]) -> None:
    """The task's key/value line, then its DISKIMAGE lines."""
    bits: list[Any] = []
    volume_task = task.get("importVolume")
    instance_task = task.get("importInstance")
    if volume_task:
        bits += ["TaskType", "IMPORTVOLUME"]
    if instance_task:
        bits += ["TaskType", "IMPORTINSTANCE"]
    for key, label in (("conversionTaskId", "TaskId"), ("expirationTime", "ExpirationTime"),
                       ("state", "Status"), ("statusMessage", "StatusMessage")):
        if task.get(key):
            bits += [label, task[key]]
    if instance_task and instance_task.get("instanceId"):
        bits += ["InstanceID", instance_task["instanceId"]]
    inv.emit(*bits)
    disks = [volume_task] if volume_task else as_list((instance_task or {}).get("volumes"))
    for disk in disks:
        _print_disk(inv, disk or {})


def _print_disk(inv: Invocation, disk: dict[str, Any]) -> None:
    image = disk.get("image") or {}
    volume = disk.get("volume") or {}
    bits: list[Any] = ["DISKIMAGE"]
    for value, label in ((image.get("format"), "DiskImageFormat"),
                         (image.get("size"), "DiskImageSize"),
                         (volume.get("id"), "VolumeId"), (volume.get("size"), "VolumeSize"),
                         (disk.get("availabilityZone"), "AvailabilityZone"),
                         (disk.get("bytesConverted"), "ApproximateBytesConverted"),
                         (disk.get("status"), "Status"),
                         (disk.get("statusMessage"), "StatusMessage")):
        if value:
            bits += [label, value]
    inv.emit(*bits)


def _print_tasks(inv: Invocation, result: Any) -> None:
    for task in as_list(result.get("conversionTasks")):
        print_conversion_task(inv, task)


# -- import-instance / import-volume ------------------------------------------------------------
def _run_import(inv: Invocation, action: str, disk: str) -> None:
    """Check the image, make the manifest URL, start the task, upload, print the task."""
    import math

    from .. import importing

    a, p = inv.args, inv.params
    source = a["source"]
    file_format = str(p[f"{disk}Image.Format"]).upper()
    if file_format in importing.FORMATS:
        p[f"{disk}Image.Format"] = file_format
    size = importing.image_size(source, file_format, p.get(f"{disk}Image.Bytes"))
    p[f"{disk}Image.Bytes"] = size
    if not p.get(f"{disk}Volume.Size"):
        p[f"{disk}Volume.Size"] = max(1, math.ceil(size / 2 ** 30))
    days = a.get("expires") or 30
    expires = importing.expiry(days)
    s3 = None
    if a.get("bucket"):
        s3 = importing.s3_client(inv)
        importing.ensure_bucket(inv, s3, a["bucket"])
        key = importing.manifest_key(source, a.get("prefix"))
        p[f"{disk}Image.ImportManifestUrl"] = importing.presign(s3, "GET", a["bucket"], key,
                                                                expires)
    result = inv.call(action, p)
    task = result.get("conversionTask") or {}
    if not a.get("no_upload"):
        importing.resume_upload(inv, s3 or importing.s3_client(inv), task, source, days)
    print_conversion_task(inv, task)


def _s3_args() -> list[Arg]:
    return [
        Arg("--s3-url", name="s3_url", metavar="URL",
            help="object storage service endpoint URL (default: the region's s3-url)"),
        Arg("-o", "--owner-akid", name="owner_akid", metavar="KEY_ID",
            help="access key to use for the object storage service (default: same as that "
            "for the compute service)"),
        Arg("-w", "--owner-sak", name="owner_sak", metavar="KEY",
            help="secret key to use for the object storage service (default: same as that "
            "for the compute service)"),
    ]


def _upload_args(disk: str) -> list[Arg | Group]:
    return [
        Arg("-s", "--volume-size", dest=f"{disk}Volume.Size", metavar="GiB", type=int,
            help="size of the volume to import to, in GiB (default: the image's size, "
            "rounded up)"),
        Arg("--image-size", dest=f"{disk}Image.Bytes", metavar="BYTES", type=filesize,
            help="size of the image (required for non-raw files, except sparse VMDK)"),
        Group(
            Arg("-b", "--bucket", name="bucket",
                help="the bucket to upload the disk image to (created if missing)"),
            Arg("--manifest-url", dest=f"{disk}Image.ImportManifestUrl", metavar="URL",
                help="a pre-signed URL that points to the import manifest to use"),
            required=True),
        Arg("--prefix", name="prefix",
            help="a prefix to add to the names of the image's parts as they are uploaded"),
        Arg("-x", "--expires", name="expires", metavar="DAYS", type=int, default=30,
            help="how long the import manifest should remain valid, in days (default: 30)"),
        Arg("--no-upload", name="no_upload", flag=True,
            help="start the import process, but do not upload the image (see "
            "euca-resume-import)"),
        Arg("-d", "--description", dest="Description", metavar="DESC",
            help="a description for the import task (not the volume)"),
    ]


def _prepare_user_data(inv: Invocation) -> None:
    from .types import base64_text, read_file_b64

    a, p = inv.args, inv.params
    if a.get("user_data"):
        p["LaunchSpecification.UserData.Data"] = base64_text(a["user_data"])
    elif a.get("user_data_file"):
        p["LaunchSpecification.UserData.Data"] = read_file_b64(a["user_data_file"])


def _run_import_instance(inv: Invocation) -> None:
    _prepare_user_data(inv)
    _run_import(inv, "ImportInstance", "DiskImage.1.")


# -- resume-import / delete-disk-image ------------------------------------------------------
def _run_resume(inv: Invocation) -> None:
    import os

    from .. import importing

    a = inv.args
    if not os.path.isfile(a["source"]):
        # Missing or a directory: a usage error naming the file (exit 2).
        raise FileNotFoundError(2, "No such file or directory", a["source"])
    importing.expiry(a.get("expires") or 30)
    inv.echo(f"Uploading image for task {a['task']}")
    inv.flush()
    task = importing.describe_task(inv, a["task"])
    importing.resume_upload(inv, importing.s3_client(inv), task, a["source"],
                            a.get("expires") or 30)


def _run_delete_disk_image(inv: Invocation) -> None:
    from .. import importing
    from ..exceptions import ArgumentError, Euca2oolsError

    a = inv.args
    if a.get("ignore_active_task") and not a.get("task"):
        raise ArgumentError("argument --ignore-active-task may only be used with -t/--task")
    s3 = importing.s3_client(inv)
    url = a.get("manifest_url")
    if a.get("task"):
        task = importing.describe_task(inv, a["task"])
        if task.get("state") == "active" and not a.get("ignore_active_task"):
            raise Euca2oolsError(f"import task {a['task']} is active; cancel it first or use "
                                 "--ignore-active-task")
        url = (importing.disk_container(task).get("image") or {}).get("importManifestUrl")
        if not url:
            raise Euca2oolsError(f"import task {a['task']} has no manifest URL")
    importing.delete_image(s3, str(url))


_SOURCE = Arg("FILE", name="source", complete="file",
              help="file containing the disk image to import (required)")
_FORMAT_HELP = "the image's format (\"vmdk\", \"raw\", or \"vhd\") (required)"

COMMANDS = [
    Command(
        "euca-import-instance", "ec2", "ImportInstance", "Import an instance into the cloud",
        [
            _SOURCE,
            Arg("-t", "--instance-type", dest="LaunchSpecification.InstanceType",
                metavar="INSTANCETYPE", required=True, complete="instance-type",
                help="the type of instance to import to (required)"),
            Arg("-f", "--format", dest="DiskImage.1.Image.Format", metavar="FORMAT",
                required=True, help=_FORMAT_HELP),
            Arg("-a", "--architecture", dest="LaunchSpecification.Architecture",
                metavar="ARCH", required=True,
                help="the instance's processor architecture (required)"),
            Arg("-p", "--platform", dest="Platform", required=True, choices=("Windows", "Linux"),
                help="the instance's operating system (required)"),
            *_upload_args("DiskImage.1."),
            Arg("-g", "--group", dest="LaunchSpecification.GroupName.1", metavar="GROUP",
                complete="group", help="name of the security group to create the instance in"),
            Arg("-z", "--availability-zone",
                dest="LaunchSpecification.Placement.AvailabilityZone", metavar="ZONE",
                complete="zone", help="the zone in which to create the instance"),
            Group(
                Arg("--user-data", name="user_data", metavar="DATA",
                    help="user data to supply to the instance"),
                Arg("--user-data-file", name="user_data_file", metavar="FILE", complete="file",
                    help="file containing user data to supply to the instance")),
            Arg("--subnet", dest="LaunchSpecification.SubnetId", metavar="SUBNET",
                help="[VPC only] subnet to create the instance's network interface in"),
            Arg("--private-ip-address", dest="LaunchSpecification.PrivateIpAddress",
                metavar="ADDRESS",
                help="[VPC only] assign a specific primary private IP address to the "
                "instance's interface"),
            Arg("--monitor", dest="LaunchSpecification.Monitoring.Enabled", flag=True,
                help="enable detailed monitoring for the instance"),
            Arg("--instance-initiated-shutdown-behavior",
                dest="LaunchSpecification.InstanceInitiatedShutdownBehavior",
                choices=("stop", "terminate"),
                help="whether to \"stop\" (default) or \"terminate\" the instance when it "
                "shuts down"),
            Arg("--key", dest="LaunchSpecification.KeyName", metavar="KEYPAIR",
                complete="keypair",
                help="[Eucalyptus only] name of the key pair to use when running the instance"),
            *_s3_args(),
        ],
        run=_run_import_instance, fast=False,
        description="Creates the import task, then uploads the image in 10 MiB parts with "
        "an import manifest to the bucket (skipping parts already there; see "
        "euca-resume-import) and prints the task.",
    ),
    Command(
        "euca-import-volume", "ec2", "ImportVolume", "Import a file to a volume in the cloud",
        [
            _SOURCE,
            Arg("-f", "--format", dest="Image.Format", metavar="FORMAT", required=True,
                help=_FORMAT_HELP),
            Arg("-z", "--availability-zone", dest="AvailabilityZone", metavar="ZONE",
                required=True, complete="zone",
                help="the zone in which to create the volume (required)"),
            *_upload_args(""),
            *_s3_args(),
        ],
        run=lambda inv: _run_import(inv, "ImportVolume", ""), fast=False,
        description="Creates the import task, then uploads the image in 10 MiB parts with "
        "an import manifest to the bucket and prints the task.",
    ),
    Command(
        "euca-resume-import", "ec2", "DescribeConversionTasks",
        "Perform the upload step of an import task",
        [
            _SOURCE,
            Arg("-t", "--task", name="task", required=True, metavar="TASK",
                help="the ID of the import task to resume (required)"),
            Arg("-x", "--expires", name="expires", metavar="DAYS", type=int, default=30,
                help="how long the import manifest should remain valid, in days (default: 30)"),
            *_s3_args(),
        ],
        run=_run_resume, fast=False,
        description="Uploads the parts of the task's image that the bucket does not have "
        "yet (and the manifest, if it is missing).  FILE must be the file the import "
        "started with.",
    ),
    Command(
        "euca-describe-conversion-tasks", "ec2", "DescribeConversionTasks",
        "Show information about import operations",
        [Arg("TASK", dest="ConversionTaskId", nargs="*", help="limit results to specific tasks")],
        output=_print_tasks,
    ),
    Command(
        "euca-cancel-conversion-task", "ec2", "CancelConversionTask", "Cancel an import task",
        [Arg("TASK", dest="ConversionTaskId", help="ID of the task to cancel (required)")],
    ),
    Command(
        "euca-delete-disk-image", "ec2", "DescribeConversionTasks",
        "Delete a disk image used for an import task",
        [
            Group(
                Arg("-t", "--task", name="task", metavar="TASK",
                    help="ID of the task to delete the image from"),
                Arg("-u", "--manifest-url", name="manifest_url", metavar="URL",
                    help="location of the import manifest"),
                required=True),
            Arg("--ignore-active-task", name="ignore_active_task", flag=True,
                help="delete the image even if the import task is active (only works with "
                "-t/--task)"),
            *_s3_args(),
        ],
        run=_run_delete_disk_image, fast=False,
        description="Deletes the image's parts and its import manifest from object storage "
        "(no EC2 action deletes them).",
    ),
]
