"""Windows passwords and bundle tasks as a second tester would try them (issue 12, item 2).

awscli decrypts the password with ``--priv-launch-key``; other accounts see neither the
password nor the bundle tasks of an instance; a terminated instance cannot be bundled;
DescribeBundleTasks filters narrow as documented; euca-get-password checks its key file
before it asks the cloud.  boto3, awscli and the commands (as subprocesses) are the clients.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cloudproc import CloudProcess, running_cloud
from helpers import command as run
from helpers import error_code, new_account, wait_state

BIN = Path(sys.executable).parent
CONFIG = '[[zones]]\nname = "zone-1"\nnodes = 2\nboot_seconds = 1.5\n'




def aws(cloud: CloudProcess, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The aws command with the admin's keys, at the cloud's EC2 endpoint."""
    creds = cloud.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EUCA"))}
    env.update(AWS_ACCESS_KEY_ID=creds["key"], AWS_SECRET_ACCESS_KEY=creds["secret"],
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    proc = subprocess.run([str(BIN / "aws"), "--endpoint-url", cloud.url + "/services/compute",
                           "--output", "json", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def wcloud() -> Iterator[CloudProcess]:
    """A cloud of this module's own."""
    with running_cloud(CONFIG) as c:
        yield c


@pytest.fixture(scope="module")
def image(wcloud: CloudProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Windows image bundled, uploaded and registered with the commands."""
    work = tmp_path_factory.mktemp("img")
    disk = work / "disk.img"
    disk.write_bytes(os.urandom(1024 * 1024 + 13))
    run(wcloud, "euca-bundle-image", "-i", str(disk), "-r", "x86_64", "-d", str(work),
        "-p", "win2022")
    run(wcloud, "euca-upload-bundle", "-b", "accept-images", "-m",
        str(work / "win2022.manifest.xml"))
    return run(wcloud, "euca-register", "accept-images/win2022.manifest.xml", "-n", "win2022",
               "--platform", "windows").stdout.split()[1]


@pytest.fixture(scope="module")
def keyfile(wcloud: CloudProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The private key of key pair ``acceptkey``, made by the cloud."""
    path = tmp_path_factory.mktemp("keys") / "acceptkey.pem"
    run(wcloud, "euca-create-keypair", "-f", str(path), "acceptkey")
    return path


@pytest.fixture(scope="module")
def instance(wcloud: CloudProcess, image: str, keyfile: Path) -> str:
    """A running Windows instance with key pair ``acceptkey``."""
    ec2 = wcloud.client("ec2")
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            KeyName="acceptkey")["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    return str(iid)


def _wait_password(ec2: Any, iid: str, timeout: float = 20.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        data = ec2.get_password_data(InstanceId=iid)["PasswordData"]
        if data:
            return str(data)
        time.sleep(0.1)
    raise AssertionError("no password data")


def test_awscli_decrypts_with_priv_launch_key(wcloud: CloudProcess, instance: str,
                                              keyfile: Path) -> None:
    """``aws ec2 get-password-data --priv-launch-key`` prints the clear password, the same
    one euca-get-password prints; without the key it prints the ciphertext."""
    data = _wait_password(wcloud.client("ec2"), instance)
    raw = json.loads(aws(wcloud, "ec2", "get-password-data", "--instance-id", instance).stdout)
    assert raw["InstanceId"] == instance and raw["PasswordData"] == data
    clear = json.loads(aws(wcloud, "ec2", "get-password-data", "--instance-id", instance,
                           "--priv-launch-key", str(keyfile)).stdout)["PasswordData"]
    assert clear != data and len(clear) >= 8 and clear.isprintable()
    assert run(wcloud, "euca-get-password", instance, "-k", str(keyfile)).stdout == clear + "\n"


def test_password_before_boot_is_empty_for_every_client(wcloud: CloudProcess, image: str,
                                                        keyfile: Path) -> None:
    """While the instance is pending: boto3 gets an empty PasswordData (no error), awscli
    with the key prints an empty one, and the commands print nothing and succeed."""
    ec2 = wcloud.client("ec2")
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            KeyName="acceptkey")["Instances"][0]["InstanceId"]
    try:
        answer = ec2.get_password_data(InstanceId=iid)
        assert answer["PasswordData"] == "" and answer["InstanceId"] == iid
        early = json.loads(aws(wcloud, "ec2", "get-password-data", "--instance-id", iid,
                               "--priv-launch-key", str(keyfile)).stdout)
        assert early["PasswordData"] == ""
        assert run(wcloud, "euca-get-password", iid, "-k", str(keyfile)).stdout == ""
    finally:
        ec2.terminate_instances(InstanceIds=[iid])


def test_other_account_sees_neither_password_nor_tasks(wcloud: CloudProcess,
                                                       instance: str) -> None:
    """Another account's GetPasswordData, BundleInstance and CancelBundleTask on this
    account's instance and task are NotFound, and its DescribeBundleTasks lists nothing of
    ours."""
    ec2 = wcloud.client("ec2")
    _wait_password(ec2, instance)
    task = ec2.bundle_instance(InstanceId=instance,
                               Storage={"S3": {"Bucket": "accept-bundles", "Prefix": "mine"}})
    bid = task["BundleTask"]["BundleId"]
    _, key, secret = new_account(wcloud, "windows-other")
    other = wcloud.client("ec2", key=key, secret=secret)
    with pytest.raises(ClientError) as err:
        other.get_password_data(InstanceId=instance)
    assert error_code(err) == "InvalidInstanceID.NotFound"
    with pytest.raises(ClientError) as err:
        other.bundle_instance(InstanceId=instance,
                              Storage={"S3": {"Bucket": "other-bundles", "Prefix": "theirs"}})
    assert error_code(err) == "InvalidInstanceID.NotFound"
    assert other.describe_bundle_tasks()["BundleTasks"] == []
    with pytest.raises(ClientError) as err:
        other.describe_bundle_tasks(BundleIds=[bid])
    assert error_code(err) == "InvalidBundleID.NotFound"
    with pytest.raises(ClientError) as err:
        other.cancel_bundle_task(BundleId=bid)
    assert error_code(err) == "InvalidBundleID.NotFound"
    _finish(ec2, bid)


def _finish(ec2: Any, bid: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        (task,) = ec2.describe_bundle_tasks(BundleIds=[bid])["BundleTasks"]
        if task["State"] in ("complete", "failed", "cancelled"):
            return task  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"bundle task {bid} did not end")


def test_bundle_task_filters(wcloud: CloudProcess, instance: str) -> None:
    """bundle-id, instance-id, state, s3-bucket, s3-prefix and progress filters select the
    task; values that match nothing select nothing; an unknown filter is refused."""
    ec2 = wcloud.client("ec2")
    _wait_password(ec2, instance)
    for task in ec2.describe_bundle_tasks(
            Filters=[{"Name": "instance-id", "Values": [instance]}])["BundleTasks"]:
        _finish(ec2, task["BundleId"])  # one task at a time per instance
    bid = ec2.bundle_instance(InstanceId=instance, Storage={
        "S3": {"Bucket": "filter-bundles", "Prefix": "filtered"}})["BundleTask"]["BundleId"]
    done = _finish(ec2, bid)
    assert done["State"] == "complete"

    def ids(name: str, *values: str) -> list[str]:
        tasks = ec2.describe_bundle_tasks(Filters=[{"Name": name, "Values": list(values)}])
        return [t["BundleId"] for t in tasks["BundleTasks"]]

    assert ids("bundle-id", bid) == [bid]
    assert bid in ids("instance-id", instance)
    assert bid in ids("state", "complete") and bid not in ids("state", "pending", "failed")
    assert ids("s3-bucket", "filter-bundles") == [bid]
    assert ids("s3-prefix", "filtered") == [bid]
    assert bid in ids("progress", "100%")
    assert ids("s3-bucket", "no-such-bucket") == []
    assert ids("instance-id", "i-00000000000000000") == []
    with pytest.raises(ClientError) as err:
        ids("colour", "blue")
    assert error_code(err) == "InvalidParameterValue"
    # The finished task's bundle landed in the bucket, and a finished task stays finished.
    s3 = wcloud.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="filter-bundles")["Contents"]]
    assert "filtered.manifest.xml" in keys
    with pytest.raises(ClientError) as err:
        ec2.cancel_bundle_task(BundleId=bid)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert ec2.describe_bundle_tasks(BundleIds=[bid])["BundleTasks"][0]["State"] == "complete"
    listed = run(wcloud, "euca-describe-bundle-tasks", "--filter", "s3-prefix=filtered").stdout
    assert listed.endswith("\n") and listed.split("\t")[1] == bid


def test_terminated_instance_cannot_be_bundled(wcloud: CloudProcess, image: str) -> None:
    """BundleInstance of a terminated instance is IncorrectInstanceState (it still shows in
    DescribeInstances); GetPasswordData of it still answers."""
    ec2 = wcloud.client("ec2")
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    ec2.terminate_instances(InstanceIds=[iid])
    wait_state(ec2, [iid], "terminated")
    with pytest.raises(ClientError) as err:
        ec2.bundle_instance(InstanceId=iid,
                            Storage={"S3": {"Bucket": "accept-bundles", "Prefix": "dead"}})
    assert error_code(err) == "IncorrectInstanceState"
    assert ec2.get_password_data(InstanceId=iid)["InstanceId"] == iid
    proc = run(wcloud, "euca-bundle-instance", iid, "-b", "accept-bundles", "-p", "dead",
               check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "IncorrectInstanceState" in proc.stderr


def test_get_password_key_file_errors(wcloud: CloudProcess, instance: str,
                                      tmp_path: Path) -> None:
    """A missing key file is a usage error (2) even for an instance that does not exist
    (the file is read first); a file that is not a private key is one line, status 1."""
    proc = run(wcloud, "euca-get-password", "i-00000000000000000", "-k",
               str(tmp_path / "absent.pem"), check=False)
    assert proc.returncode == 2
    assert proc.stderr == (f"euca-get-password: error: No such file or directory: "
                           f"{tmp_path / 'absent.pem'}\n")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key\n")
    proc = run(wcloud, "euca-get-password", instance, "-k", str(junk), check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "is not an unencrypted PEM private key" in proc.stderr
    proc = run(wcloud, "euca-get-password", instance, "-k", str(tmp_path), check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_awscli_bundle_instance_registers_and_runs(wcloud: CloudProcess, instance: str) -> None:
    """``aws ec2 bundle-instance`` (awscli signs the upload policy itself with
    --owner-sak): the task completes, the manifest and parts are in the bucket, and
    ``aws ec2 register-image`` of the manifest gives an image that runs; named windows*,
    it is a Windows image (Eucalyptus' rule for bundles)."""
    ec2 = wcloud.client("ec2")
    _wait_password(ec2, instance)
    for task in ec2.describe_bundle_tasks(
            Filters=[{"Name": "instance-id", "Values": [instance]}])["BundleTasks"]:
        _finish(ec2, task["BundleId"])
    creds = wcloud.credentials()
    task = json.loads(aws(wcloud, "ec2", "bundle-instance", "--instance-id", instance,
                          "--bucket", "awscli-bundles", "--prefix", "windows-viacli",
                          "--owner-akid", creds["key"],
                          "--owner-sak", creds["secret"]).stdout)["BundleTask"]
    assert task["State"] == "pending" and task["Storage"]["S3"]["Prefix"] == "windows-viacli"
    assert _finish(ec2, task["BundleId"])["State"] == "complete"
    keys = [o["Key"] for o in
            wcloud.client("s3").list_objects_v2(Bucket="awscli-bundles")["Contents"]]
    assert "windows-viacli.manifest.xml" in keys and "windows-viacli.part.00" in keys
    image = json.loads(aws(wcloud, "ec2", "register-image", "--image-location",
                           "awscli-bundles/windows-viacli.manifest.xml",
                           "--name", "viacli").stdout)
    iid = ec2.run_instances(ImageId=image["ImageId"], MinCount=1,
                            MaxCount=1)["Instances"][0]["InstanceId"]
    (running,) = wait_state(ec2, [iid], "running")
    assert running["Platform"] == "windows"
    ec2.terminate_instances(InstanceIds=[iid])
