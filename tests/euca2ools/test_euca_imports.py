"""Import (conversion) task commands as subprocesses: EC2 answered by the stub (moto and this
cloud implement no ImportVolume/ImportInstance), the image parts and the import manifest
uploaded to moto_server's S3 for real."""

from __future__ import annotations

import configparser
import hashlib
import struct
import xml.sax.saxutils
from pathlib import Path
from typing import Any

import pytest

from euca2ools.importing import ImportManifest

MiB = 1024 * 1024


def _task_xml(task_id: str, kind: str, manifest_url: str, size: int, state: str) -> str:
    image = (f"<image><format>RAW</format><size>{size}</size><importManifestUrl>"
             f"{xml.sax.saxutils.escape(manifest_url)}</importManifestUrl></image>")
    disk = (f"<bytesConverted>0</bytesConverted><availabilityZone>zone-1</availabilityZone>"
            f"{image}<volume><size>1</size></volume>")
    if kind == "volume":
        body = f"<importVolume>{disk}</importVolume>"
    else:
        body = (f"<importInstance><volumes><item>{disk}<status>active</status></item>"
                f"</volumes><instanceId>i-imported</instanceId><platform>Linux</platform>"
                f"</importInstance>")
    return (f"<conversionTaskId>{task_id}</conversionTaskId>"
            f"<expirationTime>2030-01-01T00:00:00Z</expirationTime>{body}<state>{state}</state>")


class Tasks:
    """The stub's import tasks: ImportVolume/ImportInstance create, Describe lists them."""

    def __init__(self) -> None:
        self.tasks: dict[str, tuple[str, str, str]] = {}
        self.state = "active"

    def import_volume(self, params: dict[str, str]) -> tuple[int, str]:
        task_id = f"import-vol-{len(self.tasks) + 1}"
        self.tasks[task_id] = (params["Image.ImportManifestUrl"], params["Image.Bytes"], "volume")
        return 200, (f"<ImportVolumeResponse><requestId>r</requestId><conversionTask>"
                     f"{self._xml(task_id)}</conversionTask></ImportVolumeResponse>")

    def import_instance(self, params: dict[str, str]) -> tuple[int, str]:
        task_id = f"import-i-{len(self.tasks) + 1}"
        self.tasks[task_id] = (params["DiskImage.1.Image.ImportManifestUrl"],
                               params["DiskImage.1.Image.Bytes"], "instance")
        return 200, (f"<ImportInstanceResponse><requestId>r</requestId><conversionTask>"
                     f"{self._xml(task_id)}</conversionTask></ImportInstanceResponse>")

    def describe(self, params: dict[str, str]) -> tuple[int, str]:
        wanted = {v for k, v in params.items() if k.startswith("ConversionTaskId.")}
        items = "".join(f"<item>{self._xml(t)}</item>" for t in self.tasks
                        if not wanted or t in wanted)
        return 200, (f"<DescribeConversionTasksResponse><requestId>r</requestId>"
                     f"<conversionTasks>{items}</conversionTasks>"
                     f"</DescribeConversionTasksResponse>")

    def _xml(self, task_id: str) -> str:
        url, size, kind = self.tasks[task_id]
        return _task_xml(task_id, kind, url, int(size), self.state)


@pytest.fixture()
def imports(stub, moto_ini: Path, tmp_path: Path) -> tuple[Any, Path, Tasks, Any]:  # type: ignore[no-untyped-def]
    """(stub cloud, ini with EC2 at the stub and S3 at moto, tasks, boto3 S3 client)."""
    import boto3

    cloud, stub_ini = stub
    tasks = Tasks()
    cloud.answers.update(ImportVolume=tasks.import_volume, ImportInstance=tasks.import_instance,
                         DescribeConversionTasks=tasks.describe)
    moto = configparser.ConfigParser()
    moto.read(moto_ini)
    s3_url = moto["region moto"]["s3-url"]
    ini = tmp_path / "imports.ini"
    ini.write_text(stub_ini.read_text().replace("[region stub]\n",
                                                f"[region stub]\ns3-url = {s3_url}\n"
                                                "s3-location-constraint = stub\n", 1)
                   .replace(f"s3-url = http://127.0.0.1:{cloud.port}/services/objectstorage\n",
                            ""))
    s3 = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1",
                      aws_access_key_id="AKIDSTUB", aws_secret_access_key="stubsecret")
    return cloud, ini, tasks, s3


def _keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_import_volume_upload_resume_delete(euca, imports, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The image goes up in 10 MiB parts with a manifest; resume re-sends only what is
    missing; delete-disk-image removes everything (refusing while the task is active)."""
    cloud, ini, tasks, s3 = imports
    image = tmp_path / "disk.raw"
    data = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(21 * MiB // 32 + 5))
    image.write_bytes(data)

    out = euca("euca-import-volume", str(image), "-f", "raw", "-z", "zone-1", "-b", "imports",
               "--prefix", "uploads", "-d", "my disk", ini=ini).stdout.splitlines()
    assert out[0].split("\t") == ["TaskType", "IMPORTVOLUME", "TaskId", "import-vol-1",
                                  "ExpirationTime", "2030-01-01T00:00:00Z", "Status", "active"]
    assert out[1].split("\t") == ["DISKIMAGE", "DiskImageFormat", "RAW", "DiskImageSize",
                                  str(len(data)), "VolumeSize", "1", "AvailabilityZone", "zone-1",
                                  "ApproximateBytesConverted", "0"]
    sent = next(r["params"] for r in cloud.requests if r["params"]["Action"] == "ImportVolume")
    assert (sent["Image.Format"], sent["Image.Bytes"], sent["Volume.Size"],
            sent["Description"]) == ("RAW", str(len(data)), "1", "my disk")
    assert "Signature=" in sent["Image.ImportManifestUrl"]

    keys = _keys(s3, "imports")
    [manifest_key] = [k for k in keys if k.endswith(".manifest.xml")]
    assert manifest_key.startswith("uploads/") and manifest_key.endswith("/disk.raw.manifest.xml")
    manifest = ImportManifest.from_xml(s3.get_object(Bucket="imports",
                                                     Key=manifest_key)["Body"].read())
    assert (manifest.file_format, manifest.image_size, manifest.volume_size) == \
        ("RAW", len(data), 1)
    assert [(p.start, p.end) for p in manifest.parts] == [
        (0, 10 * MiB - 1), (10 * MiB, 20 * MiB - 1), (20 * MiB, len(data) - 1)]
    prefix = manifest_key.rsplit("/", 1)[0]
    assert [p.key for p in manifest.parts] == [f"{prefix}/disk.raw.part.{i}" for i in range(3)]
    assert all("Signature=" in p.get_url for p in manifest.parts)
    joined = b"".join(s3.get_object(Bucket="imports", Key=p.key)["Body"].read()
                      for p in manifest.parts)
    assert joined == data

    # An interrupted upload: part 1 is missing; resume puts it back, keeps the rest.
    s3.delete_object(Bucket="imports", Key=manifest.parts[1].key)
    before = s3.head_object(Bucket="imports", Key=manifest.parts[0].key)["LastModified"]
    # -U names the compute endpoint only; the parts still go to the region's S3.
    out = euca("euca-resume-import", str(image), "-t", "import-vol-1", "-U", cloud.url,
               ini=ini).stdout
    assert out == "Uploading image for task import-vol-1\n"
    assert s3.get_object(Bucket="imports", Key=manifest.parts[1].key)["Body"].read() == \
        data[10 * MiB:20 * MiB]
    assert s3.head_object(Bucket="imports", Key=manifest.parts[0].key)["LastModified"] == before

    other = tmp_path / "other.raw"
    other.write_bytes(b"x" * 100)
    proc = euca("euca-resume-import", str(other), "-t", "import-vol-1", ini=ini, check=False)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        f'euca-resume-import: error: file "{other}" is not the same size as the file the '
        f"import started with (expected: {len(data)}, actual: 100)")

    proc = euca("euca-delete-disk-image", "-t", "import-vol-1", ini=ini, check=False)
    assert (proc.returncode, proc.stderr) == (
        1, "euca-delete-disk-image: error: import task import-vol-1 is active; cancel it "
           "first or use --ignore-active-task\n")
    assert euca("euca-delete-disk-image", "-t", "import-vol-1", "--ignore-active-task",
                ini=ini).stdout == ""
    assert _keys(s3, "imports") == []
    tasks.state = "cancelled"
    proc = euca("euca-delete-disk-image", "-t", "import-vol-1", ini=ini, check=False)
    assert (proc.returncode, proc.stderr) == (
        2, f'euca-delete-disk-image: error: import manifest "imports/{manifest_key}" does not '
           "exist\n")


def test_import_instance_and_describe(euca, imports, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """import-instance sends the launch specification; a sparse VMDK's size is read from its
    header; --no-upload leaves the bucket empty; describe prints the instance's disks."""
    cloud, ini, tasks, s3 = imports
    vmdk = tmp_path / "disk.vmdk"
    vmdk.write_bytes(b"KDMV" + struct.pack("<II", 1, 3) + struct.pack("<Q", 4 * 2 * 1024 * 1024)
                     + b"\0" * 492)
    out = euca("euca-import-instance", str(vmdk), "-t", "m1.small", "-f", "vmdk", "-a", "x86_64",
               "-p", "Linux", "-b", "instimports", "--no-upload", "-g", "web", "-z", "zone-1",
               "--user-data", "hello", "--monitor", "--key", "k1",
               "--instance-initiated-shutdown-behavior", "terminate", ini=ini).stdout
    sent = next(r["params"] for r in cloud.requests if r["params"]["Action"] == "ImportInstance")
    assert sent["DiskImage.1.Image.Format"] == "VMDK"
    assert sent["DiskImage.1.Image.Bytes"] == str(4 * 1024 ** 3)
    assert sent["DiskImage.1.Volume.Size"] == "4"
    assert (sent["LaunchSpecification.InstanceType"], sent["LaunchSpecification.Architecture"],
            sent["Platform"], sent["LaunchSpecification.GroupName.1"],
            sent["LaunchSpecification.Placement.AvailabilityZone"],
            sent["LaunchSpecification.UserData.Data"],
            sent["LaunchSpecification.Monitoring.Enabled"],
            sent["LaunchSpecification.KeyName"],
            sent["LaunchSpecification.InstanceInitiatedShutdownBehavior"]) == (
        "m1.small", "x86_64", "Linux", "web", "zone-1", "aGVsbG8=", "true", "k1", "terminate")
    lines = out.splitlines()
    assert lines[0].endswith("\tStatus\tactive\tInstanceID\ti-imported")
    assert lines[1].startswith("DISKIMAGE\tDiskImageFormat\tRAW")
    assert lines[1].endswith("\tStatus\tactive")
    assert _keys(s3, "instimports") == []

    out = euca("euca-describe-conversion-tasks", ini=ini).stdout
    assert out.splitlines() == lines
    # A VHD needs its size given; nothing is sent without it.
    vhd = tmp_path / "disk.vhd"
    vhd.write_bytes(b"conectix")
    proc = euca("euca-import-volume", str(vhd), "-f", "vhd", "-z", "zone-1", "-b", "b",
                ini=ini, check=False)
    assert (proc.returncode, proc.stderr.splitlines()[-1]) == (
        2, "euca-import-volume: error: argument --image-size is required for VHD files")
    proc = euca("euca-import-volume", str(tmp_path / "nope.raw"), "-f", "raw", "-z", "zone-1",
                "-b", "b", ini=ini, check=False)
    assert proc.returncode == 2 and "No such file or directory" in proc.stderr


def test_conversion_tasks_on_our_cloud(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """The cloud imports nothing: the answer is one readable line, exit 1."""
    for args in (["euca-describe-conversion-tasks"],
                 ["euca-cancel-conversion-task", "import-vol-1"]):
        proc = euca(*args, ini=cloud_ini, check=False)
        assert proc.returncode == 1, proc.stderr
        assert len(proc.stderr.splitlines()) == 1
        assert proc.stderr.startswith(f"{args[0]}: error (")


def test_presigned_urls_on_our_walrus(cloud_ini: Path) -> None:
    """The manifest's presigned GET/HEAD/DELETE URLs work against the cloud's S3 as is
    (the service fetches the image through them); an expired one is refused."""
    import time

    import requests

    from euca2ools.bundle.s3 import S3Client
    from euca2ools.client import Session
    from euca2ools.importing import presign

    session = Session.from_config(config_path=str(cloud_ini))
    s3 = S3Client(session.endpoint("s3"), session.credentials)
    s3.create_bucket("presigned")
    s3.put_object("presigned", "task/disk.raw.part.0", data=b"part zero")
    later = int(time.time()) + 3600
    get = presign(s3, "GET", "presigned", "task/disk.raw.part.0", later)
    assert requests.get(get, timeout=30).content == b"part zero"
    head = presign(s3, "HEAD", "presigned", "task/disk.raw.part.0", later)
    assert requests.head(head, timeout=30).status_code == 200
    expired = presign(s3, "GET", "presigned", "task/disk.raw.part.0", int(time.time()) - 60)
    assert requests.get(expired, timeout=30).status_code == 403
    delete = presign(s3, "DELETE", "presigned", "task/disk.raw.part.0", later)
    assert requests.delete(delete, timeout=30).status_code == 204
    assert requests.get(get, timeout=30).status_code == 404
