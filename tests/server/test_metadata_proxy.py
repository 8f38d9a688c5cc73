"""The node's metadata proxy against a real cloud: it names the guest by the address a
request comes from, never by what the guest sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from server.nc.metaproxy import MetadataProxy
from server.nc.netns import listen_in

SECRET = "proxy-test-secret"


@pytest.fixture(scope="module")
def two_instances() -> Iterator[Any]:
    """A cloud with a known metadata secret and two instances with their user data."""
    from cloudproc import cleanup, new_cloud

    c = new_cloud(f'[cloud]\nmetadata_secret = "{SECRET}"\n')
    c.start()
    ec2 = c.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    c.ids = [ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="m1.small",
                               UserData=f"data of {n}")["Instances"][0]["InstanceId"]
             for n in ("a", "b")]
    yield c
    cleanup(c)


def proxy_for(cloud: Any, secret: str, guests: dict[str, str]) -> MetadataProxy:
    """A proxy on 127.0.0.1 (an ephemeral port) that knows ``guests`` by address."""
    return MetadataProxy(listen_in("", "127.0.0.1", 0), cloud.url, secret, guests.get)


def latest(proxy: MetadataProxy) -> str:
    """The proxy's ``/latest`` URL."""
    host, port = proxy.address
    return f"http://{host}:{port}/latest"


def test_proxy_names_the_guest_by_its_address(two_instances: Any) -> None:
    a, b = two_instances.ids
    proxy = proxy_for(two_instances, SECRET, {"127.0.0.1": a})
    base = latest(proxy)
    try:
        assert requests.get(f"{base}/meta-data/instance-id", timeout=10).text == a
        assert requests.get(f"{base}/user-data", timeout=10).text == "data of a"
        # A guest claiming to be another instance is still itself.
        forged = {"X-Instance-ID": b, "X-Instance-ID-Signature": "0" * 64}
        assert requests.get(f"{base}/meta-data/instance-id", headers=forged,
                            timeout=10).text == a
        assert requests.head(f"{base}/meta-data/instance-id", timeout=10).status_code == 200
    finally:
        proxy.close()


def test_unknown_address_and_wrong_secret(two_instances: Any) -> None:
    a, _ = two_instances.ids
    proxy = proxy_for(two_instances, SECRET, {"127.0.0.2": a})  # not where we ask from
    base = latest(proxy)
    try:
        assert requests.get(f"{base}/meta-data/instance-id", timeout=10).status_code == 404
    finally:
        proxy.close()
    proxy = proxy_for(two_instances, "not-the-secret", {"127.0.0.1": a})
    base = latest(proxy)
    try:  # the cloud refuses a node that signs with the wrong secret
        assert requests.get(f"{base}/meta-data/instance-id", timeout=10).status_code == 403
    finally:
        proxy.close()
