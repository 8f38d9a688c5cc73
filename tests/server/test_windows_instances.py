"""Windows instances: platform images, GetPasswordData, and bundle tasks end to end.

A small random disk is bundled, uploaded and registered as a Windows image with the
euca2ools commands; instances of it get an administrator password encrypted to their key
pair, and BundleInstance writes a real bundle of them into a bucket, which registers and
unbundles back to the same bytes.  boto3 and the commands (as subprocesses) are the clients.
"""

from __future__ import annotations

import base64
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cloudproc import CloudProcess, cleanup, new_cloud, running_cloud
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from helpers import command as run
from helpers import error_code, wait_state

BIN = Path(sys.executable).parent
#: Instances boot in 2 s here, so a GetPasswordData right after launch sees "pending".
CONFIG = '[[zones]]\nname = "zone-1"\nnodes = 2\nboot_seconds = 2.0\n'
IMAGE_SIZE = 2 * 1024 * 1024 + 777
ORDER = ["pending", "waiting-for-shutdown", "bundling", "storing", "complete"]




@pytest.fixture(scope="module")
def wcloud() -> Iterator[CloudProcess]:
    """A cloud of our own: its data dir holds the cloud key the bundles are checked with."""
    with running_cloud(CONFIG) as c:
        yield c


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Windows image's bytes."""
    path = tmp_path_factory.mktemp("win") / "windows-server.img"
    path.write_bytes(os.urandom(IMAGE_SIZE))
    return path


@pytest.fixture(scope="module")
def windows_image(wcloud: CloudProcess, disk: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A registered instance-store Windows image (``euca-register --platform windows``)."""
    out = tmp_path_factory.mktemp("bundle")
    run(wcloud, "euca-bundle-image", "-i", str(disk), "-r", "x86_64", "-d", str(out),
        "-p", "server2019")
    run(wcloud, "euca-upload-bundle", "-b", "win-images", "-m", str(out / "server2019.manifest.xml"))
    proc = run(wcloud, "euca-register", "win-images/server2019.manifest.xml", "-n", "server2019",
               "--platform", "windows")
    return proc.stdout.split()[1]


@pytest.fixture(scope="module")
def key(wcloud: CloudProcess, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A key pair made by the cloud, and its private key file."""
    path = tmp_path_factory.mktemp("keys") / "winkey.pem"
    run(wcloud, "euca-create-keypair", "-f", str(path), "winkey")
    return "winkey", path


@pytest.fixture(scope="module")
def windows_instance(wcloud: CloudProcess, windows_image: str, key: tuple[str, Path]) -> str:
    """A running Windows instance launched with the key pair."""
    ec2 = wcloud.client("ec2")
    iid = ec2.run_instances(ImageId=windows_image, MinCount=1, MaxCount=1,
                            KeyName=key[0])["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    return iid


def _tasks(ec2: Any, bid: str) -> dict[str, Any]:
    return ec2.describe_bundle_tasks(BundleIds=[bid])["BundleTasks"][0]  # type: ignore[no-any-return]


def _follow(ec2: Any, bid: str, timeout: float = 60.0) -> tuple[list[str], dict[str, Any]]:
    """Poll a task until it ends: the states seen, in order, and the last description."""
    seen: list[str] = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        task = _tasks(ec2, bid)
        if not seen or seen[-1] != task["State"]:
            seen.append(task["State"])
        if task["State"] in ("complete", "failed", "cancelled"):
            return seen, task
        time.sleep(0.1)
    raise AssertionError(f"bundle task {bid} did not end: {seen}")


def test_windows_platform_images(wcloud: CloudProcess, windows_image: str) -> None:
    """``--platform windows`` shows as platform windows in DescribeImages, its filter and the
    IMAGE record; a bundle named windows* is a Windows image as in Eucalyptus."""
    ec2 = wcloud.client("ec2")
    (img,) = ec2.describe_images(ImageIds=[windows_image])["Images"]
    assert img["Platform"] == "windows" and img["RootDeviceType"] == "instance-store"
    found = ec2.describe_images(Filters=[{"Name": "platform", "Values": ["windows"]}])["Images"]
    assert [i["ImageId"] for i in found] == [windows_image]
    record = run(wcloud, "euca-describe-images", windows_image).stdout.split("\n")[0].split("\t")
    assert record[:2] == ["IMAGE", windows_image] and record[10] == "windows"
    linux = [i for i in ec2.describe_images()["Images"] if i["ImageId"] != windows_image]
    assert linux and all("Platform" not in i for i in linux)


def test_password_data_encrypted_to_the_key_pair(wcloud: CloudProcess, windows_image: str,
                                                 key: tuple[str, Path]) -> None:
    """Empty while the instance boots; then the password, encrypted (PKCS#1 v1.5) to the
    key pair, the same ciphertext on every call; the commands print it and decrypt it."""
    ec2 = wcloud.client("ec2")
    inst = ec2.run_instances(ImageId=windows_image, MinCount=1, MaxCount=1,
                             KeyName=key[0])["Instances"][0]
    iid = inst["InstanceId"]
    assert inst["Platform"] == "windows"
    early = ec2.get_password_data(InstanceId=iid)
    assert early["PasswordData"] == "" and early["InstanceId"] == iid
    assert run(wcloud, "euca-get-password-data", iid).stdout == ""
    (described,) = wait_state(ec2, [iid], "running")
    assert described["Platform"] == "windows"
    data = ec2.get_password_data(InstanceId=iid)["PasswordData"]
    assert data and ec2.get_password_data(InstanceId=iid)["PasswordData"] == data
    private = serialization.load_pem_private_key(key[1].read_bytes(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    password = private.decrypt(base64.b64decode(data), padding.PKCS1v15()).decode()
    assert len(password) >= 16 and password.isprintable()
    assert run(wcloud, "euca-get-password-data", iid).stdout == data + "\n"
    assert run(wcloud, "euca-get-password", "-k", str(key[1]), iid).stdout == password + "\n"
    record = run(wcloud, "euca-describe-instances", iid).stdout.splitlines()[1].split("\t")
    assert record[0] == "INSTANCE" and "windows" in record


def test_password_wrong_key_and_linux_instances(wcloud: CloudProcess, windows_instance: str,
                                                tmp_path: Path) -> None:
    """Another key cannot decrypt it (one line, exit 1); Linux instances have no password."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = tmp_path / "other.pem"
    wrong.write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))
    proc = run(wcloud, "euca-get-password", "-k", str(wrong), windows_instance, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("euca-get-password: error: the password data cannot be "
                                  "decrypted")
    proc = run(wcloud, "euca-get-password", "-k", str(tmp_path / "none.pem"), windows_instance,
               check=False)
    assert proc.returncode == 2 and "No such file or directory" in proc.stderr
    ec2 = wcloud.client("ec2")
    linux = ec2.describe_images(Owners=["self", "amazon"],
                                Filters=[{"Name": "name", "Values": ["default-image"]}])
    iid = ec2.run_instances(ImageId=linux["Images"][0]["ImageId"], MinCount=1, MaxCount=1,
                            KeyName="winkey")["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    assert ec2.get_password_data(InstanceId=iid)["PasswordData"] == ""
    with pytest.raises(ClientError) as err:
        ec2.bundle_instance(InstanceId=iid, Storage={"S3": {"Bucket": "b-linux", "Prefix": "x"}})
    assert error_code(err) == "UnsupportedOperation"
    with pytest.raises(ClientError) as err:
        ec2.get_password_data(InstanceId="i-00000000000000000")
    assert error_code(err) == "InvalidInstanceID.NotFound"


def test_bundle_instance_writes_a_registrable_bundle(wcloud: CloudProcess, windows_instance: str,
                                                     disk: Path, tmp_path: Path) -> None:
    """pending -> waiting-for-shutdown -> bundling -> storing -> complete on the cloud's
    clock; the bucket then holds a bundle that registers, unbundles to the image's bytes
    with the cloud's key, and launches."""
    ec2 = wcloud.client("ec2")
    task = ec2.bundle_instance(InstanceId=windows_instance,
                               Storage={"S3": {"Bucket": "win-bundles", "Prefix": "golden"}})
    task = task["BundleTask"]
    assert task["State"] == "pending" and task["Progress"] == "0%"
    assert task["Storage"]["S3"] == {"Bucket": "win-bundles", "Prefix": "golden"}
    with pytest.raises(ClientError) as err:  # one task at a time per instance
        ec2.bundle_instance(InstanceId=windows_instance,
                            Storage={"S3": {"Bucket": "win-bundles", "Prefix": "again"}})
    assert error_code(err) == "BundlingInProgress"
    seen, done = _follow(ec2, task["BundleId"])
    assert seen == ORDER
    assert done["Progress"] == "100%" and done["UpdateTime"] > done["StartTime"]
    s3 = wcloud.client("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="win-bundles")["Contents"])
    assert "golden.manifest.xml" in keys and any(k.startswith("golden.part.") for k in keys)
    proc = run(wcloud, "euca-register", "win-bundles/golden.manifest.xml", "-n", "golden",
               "--platform", "windows")
    new_image = proc.stdout.split()[1]
    down = tmp_path / "golden.img"
    run(wcloud, "euca-download-and-unbundle", "-b", "win-bundles", "-p", "golden", "-d",
        str(down), "-k", str(wcloud.data_dir / "cloud-pk.pem"))
    assert down.read_bytes() == disk.read_bytes()
    iid = ec2.run_instances(ImageId=new_image, MinCount=1, MaxCount=1)["Instances"][0]
    (inst,) = wait_state(ec2, [iid["InstanceId"]], "running")
    assert inst["Platform"] == "windows"
    listed = ec2.describe_bundle_tasks(Filters=[{"Name": "state", "Values": ["complete"]}])
    assert task["BundleId"] in [t["BundleId"] for t in listed["BundleTasks"]]


def test_cancel_bundle_task(wcloud: CloudProcess, windows_instance: str) -> None:
    """Cancelling before completion answers cancelling, then the task is cancelled and
    nothing of it is left in the bucket; a finished task cannot be cancelled."""
    ec2 = wcloud.client("ec2")
    task = ec2.bundle_instance(InstanceId=windows_instance,
                               Storage={"S3": {"Bucket": "win-bundles", "Prefix": "dropped"}})
    bid = task["BundleTask"]["BundleId"]
    assert ec2.cancel_bundle_task(BundleId=bid)["BundleTask"]["State"] == "cancelling"
    seen, done = _follow(ec2, bid)
    assert seen[-1] == "cancelled" and done["Progress"] != "100%"
    s3 = wcloud.client("s3")
    try:  # the bucket is made by the first bundle that uploads (maybe none so far)
        listed = s3.list_objects_v2(Bucket="win-bundles", Prefix="dropped")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "NoSuchBucket"
        listed = {}
    assert "Contents" not in listed
    with pytest.raises(ClientError) as err:
        ec2.cancel_bundle_task(BundleId=bid)
    assert error_code(err) == "InvalidParameterValue"
    with pytest.raises(ClientError) as err:
        ec2.cancel_bundle_task(BundleId="bun-00000000000000000")
    assert error_code(err) == "InvalidBundleID.NotFound"
    with pytest.raises(ClientError) as err:
        ec2.describe_bundle_tasks(BundleIds=["nonsense"])
    assert error_code(err) == "InvalidBundleID.Malformed"


def test_bundle_request_errors(wcloud: CloudProcess, windows_instance: str) -> None:
    """Bad bucket names, a forged upload policy and someone else's bucket are refused."""
    ec2 = wcloud.client("ec2")
    for storage, code in (
            ({"Bucket": "Bad_Bucket", "Prefix": "p"}, "InvalidParameterValue"),
            ({"Bucket": "win-bundles", "Prefix": ""}, "MissingParameter"),
            ({"Bucket": "win-bundles", "Prefix": "p", "AWSAccessKeyId": wcloud.credentials()["key"],
              "UploadPolicy": base64.b64encode(b'{"expiration":"2999-01-01T00:00:00Z",'
                                               b'"conditions":[]}').decode(),
              "UploadPolicySignature": "Zm9yZ2Vk"}, "InvalidParameterValue")):
        with pytest.raises(ClientError) as err:
            ec2.bundle_instance(InstanceId=windows_instance, Storage={"S3": storage})
        assert error_code(err) == code, storage


def test_bundle_commands(wcloud: CloudProcess, windows_instance: str) -> None:
    """euca-bundle-instance signs its own upload policy; euca-describe-bundle-tasks and
    euca-cancel-bundle-task print BUNDLE records."""
    proc = run(wcloud, "euca-bundle-instance", windows_instance, "-b", "cmd-bundles",
               "-p", "fromcli")
    record = proc.stdout.rstrip("\n").split("\t")
    assert record[0] == "BUNDLE" and record[1].startswith("bun-")
    assert record[2:5] == [windows_instance, "cmd-bundles", "fromcli"]
    assert record[7:] == ["pending", "0%", "cmd-bundles/fromcli.manifest.xml"]
    bid = record[1]
    described = run(wcloud, "euca-describe-bundle-tasks", bid).stdout.split("\t")
    assert described[1] == bid and described[7] in ORDER
    cancelled = run(wcloud, "euca-cancel-bundle-task", bid).stdout.split("\t")
    assert cancelled[1] == bid and cancelled[7] == "cancelling"
    seen, _ = _follow(wcloud.client("ec2"), bid)
    assert seen[-1] == "cancelled"
    states = run(wcloud, "euca-describe-bundle-tasks", "--filter", "state=cancelled").stdout
    assert bid in states
    key_id = wcloud.credentials()["key"]  # the command signed its policy with the user's key
    by_key = run(wcloud, "euca-describe-bundle-tasks", "--filter",
                 f"s3-aws-access-key-id={key_id}").stdout
    assert bid in by_key
    (task,) = wcloud.client("ec2").describe_bundle_tasks(BundleIds=[bid])["BundleTasks"]
    assert task["Storage"]["S3"]["AWSAccessKeyId"] == key_id
    proc = run(wcloud, "euca-cancel-bundle-task", "bun-00000000000000000", check=False)
    assert proc.returncode == 1 and "InvalidBundleID.NotFound" in proc.stderr


def test_create_image_of_instance_store_points_at_bundle_instance(
        wcloud: CloudProcess, windows_instance: str) -> None:
    """CreateImage refuses an instance-store instance and names BundleInstance."""
    ec2 = wcloud.client("ec2")
    with pytest.raises(ClientError) as err:
        ec2.create_image(InstanceId=windows_instance, Name="nope-image")
    assert "BundleInstance" in err.value.response["Error"]["Message"]
    assert "euca-bundle-instance" in err.value.response["Error"]["Message"]


def test_restart_keeps_passwords_and_ends_running_tasks(disk: Path,
                                                        tmp_path: Path) -> None:
    """After a restart the password data is the same ciphertext, and a task that was
    running when the cloud stopped is failed (its worker is gone), not stuck."""
    cloud = new_cloud(CONFIG)
    try:
        cloud.start()
        out = tmp_path / "bundle"
        run(cloud, "euca-bundle-image", "-i", str(disk), "-r", "x86_64", "-d", str(out),
            "-p", "windows-core")
        run(cloud, "euca-upload-bundle", "-b", "imgs", "-m", str(out / "windows-core.manifest.xml"))
        image = run(cloud, "euca-register", "imgs/windows-core.manifest.xml",
                    "-n", "core").stdout.split()[1]
        ec2 = cloud.client("ec2")
        assert ec2.describe_images(ImageIds=[image])["Images"][0]["Platform"] == "windows"
        ec2.create_key_pair(KeyName="k")
        iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                KeyName="k")["Instances"][0]["InstanceId"]
        wait_state(ec2, [iid], "running")
        data = ec2.get_password_data(InstanceId=iid)["PasswordData"]
        bid = ec2.bundle_instance(InstanceId=iid, Storage={"S3": {"Bucket": "imgs", "Prefix": "b"}})
        bid = bid["BundleTask"]["BundleId"]
        cloud.restart()
        ec2 = cloud.client("ec2")
        wait_state(ec2, [iid], "running")
        assert ec2.get_password_data(InstanceId=iid)["PasswordData"] == data
        task = _tasks(ec2, bid)
        assert task["State"] == "failed" and task["BundleTaskError"]["Code"]
    finally:
        cleanup(cloud)
