"""The instance metadata service: EC2 paths for the instance that asks.

Over HTTP against a real cloud (instances identified by the signed ``X-Instance-ID``
header a node-local proxy adds), and in-process for identification by the caller's
private address (a test cannot connect from an instance's address).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
import requests

from server.metadata import MetadataService, instance_hostname, shared_secret, sign

SECRET = "metadata-test-secret"


def _public_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


PUBLIC_KEY = _public_key()


@pytest.fixture(scope="module")
def md_cloud() -> Any:
    """A cloud with a known metadata secret, one key pair and one instance with user data."""
    from cloudproc import cleanup, new_cloud

    c = new_cloud(f'[cloud]\nmetadata_secret = "{SECRET}"\n')
    c.start()
    ec2 = c.client("ec2")
    ec2.import_key_pair(KeyName="mdkey", PublicKeyMaterial=PUBLIC_KEY.encode())
    image = ec2.describe_images()["Images"][0]["ImageId"]
    inst = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, KeyName="mdkey",
                             InstanceType="m1.small", UserData="#!/bin/sh\necho hi\n")
    c.instance = inst["Instances"][0]
    c.image_id = image
    yield c
    cleanup(c)


def get(cloud: Any, path: str, iid: str | None = None, signature: str | None = None
        ) -> requests.Response:
    """GET a metadata path as the instance ``iid`` (signed) or anonymously."""
    headers = {}
    if iid is not None:
        headers = {"X-Instance-ID": iid,
                   "X-Instance-ID-Signature": signature or sign(SECRET, iid)}
    return requests.get(cloud.url + path, headers=headers, timeout=10)


#: path -> expected answer, from the instance's own record ({iid}, {ip}, ... filled in).
PATHS = [
    ("/latest/meta-data/instance-id", "{iid}"),
    ("/latest/meta-data/ami-id", "{ami}"),
    ("/latest/meta-data/instance-type", "m1.small"),
    ("/latest/meta-data/local-ipv4", "{ip}"),
    ("/latest/meta-data/public-ipv4", "{public}"),
    ("/latest/meta-data/placement/availability-zone", "{zone}"),
    ("/latest/meta-data/placement/", "availability-zone"),
    ("/latest/meta-data/security-groups", "default"),
    ("/latest/meta-data/hostname", "{hostname}"),
    ("/latest/meta-data/local-hostname", "{hostname}"),
    ("/latest/meta-data/ami-launch-index", "0"),
    ("/latest/meta-data/reservation-id", "{reservation}"),
    ("/latest/meta-data/public-keys/", "0=mdkey"),
    ("/latest/meta-data/public-keys/0/", "openssh-key"),
    ("/latest/meta-data/public-keys/0/openssh-key", "{key}"),
    ("/latest/meta-data/block-device-mapping/root", "/dev/sda1"),
    ("/2009-04-04/meta-data/instance-id", "{iid}"),
    ("/latest/user-data", "#!/bin/sh\necho hi\n"),
]


@pytest.mark.parametrize(("path", "expected"), PATHS)
def test_metadata_paths(md_cloud: Any, path: str, expected: str) -> None:
    """Each EC2 metadata path answers the asking instance's value."""
    inst = md_cloud.instance
    ec2 = md_cloud.client("ec2")
    now = ec2.describe_instances(InstanceIds=[inst["InstanceId"]])["Reservations"][0]
    live = now["Instances"][0]
    values = {
        "iid": inst["InstanceId"], "ami": md_cloud.image_id, "ip": live["PrivateIpAddress"],
        "public": live.get("PublicIpAddress", ""), "zone": live["Placement"]["AvailabilityZone"],
        "hostname": instance_hostname(live["PrivateIpAddress"], "eucalyptus.internal"),
        "reservation": now["ReservationId"], "key": PUBLIC_KEY}
    resp = get(md_cloud, path, inst["InstanceId"])
    assert resp.status_code == 200, resp.text
    if expected == "{key}":  # the CLC may append the key's name as the comment
        assert resp.text.startswith(PUBLIC_KEY)
    else:
        assert resp.text == expected.format(**values)


def test_listing(md_cloud: Any) -> None:
    """``meta-data/`` lists leaves and directories (with a slash), as EC2 does."""
    iid = md_cloud.instance["InstanceId"]
    names = get(md_cloud, "/latest/meta-data/", iid).text.split("\n")
    for name in ("ami-id", "instance-id", "instance-type", "local-ipv4", "hostname",
                 "local-hostname", "public-hostname", "reservation-id", "security-groups",
                 "ami-launch-index", "placement/", "public-keys/", "block-device-mapping/"):
        assert name in names
    assert get(md_cloud, "/latest/", iid).text.split("\n") == ["dynamic", "meta-data",
                                                               "user-data"]
    doc = get(md_cloud, "/latest/dynamic/instance-identity/document", iid).json()
    assert doc["instanceId"] == iid and doc["instanceType"] == "m1.small"


def test_refusals(md_cloud: Any) -> None:
    """Bad signatures get 403; unknown instances, anonymous callers and paths get 404."""
    iid = md_cloud.instance["InstanceId"]
    assert get(md_cloud, "/latest/meta-data/instance-id", iid, "00" * 32).status_code == 403
    assert get(md_cloud, "/latest/meta-data/instance-id", "i-0000000000000dead").status_code \
        == 404
    assert get(md_cloud, "/latest/meta-data/instance-id").status_code == 404  # 127.0.0.1
    assert get(md_cloud, "/latest/meta-data/no-such-thing", iid).status_code == 404
    assert get(md_cloud, "/latest/meta-data/placement/nope", iid).status_code == 404
    # The API still works beside it: /services paths and signed requests are not claimed.
    assert md_cloud.client("ec2").describe_regions()["Regions"]


def test_terminated_instance_is_unknown(md_cloud: Any) -> None:
    """A terminated instance's metadata is gone."""
    ec2 = md_cloud.client("ec2")
    iid = ec2.run_instances(ImageId=md_cloud.image_id, MinCount=1,
                            MaxCount=1)["Instances"][0]["InstanceId"]
    assert get(md_cloud, "/latest/meta-data/instance-id", iid).text == iid
    ec2.terminate_instances(InstanceIds=[iid])
    for _ in range(100):
        if get(md_cloud, "/latest/meta-data/instance-id", iid).status_code == 404:
            return
        asyncio.run(asyncio.sleep(0.1))
    pytest.fail("terminated instance still answered")


# -- in process: identification by address, the generated secret ---------------------
@pytest.fixture
def local_cloud(tmp_path: Any) -> Any:
    """An in-process cloud (not serving) with one instance at 127.0.0.5."""
    from server.clc.model import Instance
    from server.cloud import Cloud
    from server.config import load

    c = Cloud(load(None, data_dir=str(tmp_path)))
    inst = Instance("i-0123456789abcdef0", "acct", "r-1", "emi-1", "m1.small", "zone-a",
                    "running", 0.0, private_ip="127.0.0.5", user_data=base64.b64encode(
                        b"data").decode(), groups=[["sg-1", "web"], ["sg-2", "db"]])
    c.clc.instances[inst.id] = inst
    yield c
    c.engine.dispose()


def ask(service: MetadataService, path: str, client: str) -> tuple[int, bytes]:
    """Serve one request as if it came from ``client``."""
    from server.protocol.http import Request

    scope = {"type": "http", "method": "GET", "path": path, "headers": [],
             "client": (client, 40000), "query_string": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    request = Request(scope, receive)
    assert service.claims(request)
    response = asyncio.run(service.handle(request))
    return response.status, response.body


def test_identified_by_private_address(local_cloud: Any) -> None:
    """An instance asking from its private address gets its own metadata."""
    service = MetadataService(local_cloud, "s")
    assert ask(service, "/latest/meta-data/instance-id", "127.0.0.5") == \
        (200, b"i-0123456789abcdef0")
    assert ask(service, "/latest/meta-data/security-groups", "127.0.0.5") == (200, b"web\ndb")
    assert ask(service, "/latest/user-data", "127.0.0.5") == (200, b"data")
    assert ask(service, "/latest/meta-data/instance-id", "127.0.0.6")[0] == 404
    local_cloud.clc.instances["i-0123456789abcdef0"].state = "terminated"
    assert ask(service, "/latest/meta-data/instance-id", "127.0.0.5")[0] == 404


def test_secret_generated_once_and_kept(local_cloud: Any, tmp_path: Any) -> None:
    """With no configured secret one is generated, kept (sealed) in the data dir and reused."""
    first = shared_secret(local_cloud)
    assert len(first) == 64 and first not in (tmp_path / "metadata_secret").read_text()
    assert local_cloud.secrets.read_file(str(tmp_path / "metadata_secret"), "metadata_secret") \
        == first
    assert shared_secret(local_cloud) == first
    assert (tmp_path / "metadata_secret").stat().st_mode & 0o077 == 0


def test_claims_only_unsigned_metadata_paths(local_cloud: Any) -> None:
    """Signed requests and other paths are left to the API services."""
    from server.protocol.http import Request

    service = MetadataService(local_cloud, "s")

    def request(path: str, headers: list[tuple[bytes, bytes]] | None = None,
                method: str = "GET") -> Request:
        return Request({"type": "http", "method": method, "path": path,
                        "headers": headers or [], "query_string": b""}, None)  # type: ignore[arg-type]

    assert service.claims(request("/latest/meta-data/"))
    assert service.claims(request("/2009-04-04/user-data"))
    assert not service.claims(request("/latest/meta-data/", [(b"authorization", b"AWS4 x")]))
    assert not service.claims(request("/latest/meta-data/", method="PUT"))
    assert not service.claims(request("/mybucket/key"))
    assert not service.claims(request("/"))
