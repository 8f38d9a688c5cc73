"""TLS on the internal links (``--internal-tls``): a CLC, a CC and an NC on their own hosts.

Each component serves HTTPS with a certificate issued by the CA of the shared keys
directory and verifies its peers against it; requests stay signed inside TLS.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cbor2
import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netcloud import NetCloud, netns_unavailable, start_netcloud  # noqa: E402

from server.remote.signing import Keyring  # noqa: E402

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def cloud() -> Iterator[NetCloud]:
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    net = start_netcloud({"zone-a": ["node-a1"]}, poll_interval=1.0, extra=["--internal-tls"])
    try:
        yield net
    finally:
        net.stop()


def test_instances_run_over_tls_links(cloud: NetCloud) -> None:
    ec2 = cloud.client()
    image = ec2.describe_images()["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": "zone-a"})["Instances"][0]["InstanceId"]
    deadline = time.monotonic() + 30
    state = ""
    while time.monotonic() < deadline and state != "running":
        time.sleep(0.2)
        state = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0][
            "State"]["Name"]
    assert state == "running"


def test_plain_http_is_not_served(cloud: NetCloud) -> None:
    body = cbor2.dumps({"after": 0})
    clc = Keyring(str(cloud.keys_dir), "clc")
    ok = cloud.internal("cc-zone-a", "/cc/state", body, clc.sign("POST", "/cc/state", body))
    assert ok.status_code == 200
    with pytest.raises(requests.ConnectionError):
        cloud.internal("cc-zone-a", "/cc/state", body, clc.sign("POST", "/cc/state", body),
                       scheme="http")
