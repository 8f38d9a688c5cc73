"""The load balancer view against a real ``eucalyptus-cloud`` (skipped while the cloud serves
no load balancing)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import cell, column, status, table, wait_for

from tui.app import EucaApp
from tui.cloud import Cloud

SIZE = (160, 45)

pytestmark = pytest.mark.skipif(importlib.util.find_spec("server.elb") is None,
                                reason="this cloud has no load balancing component")


async def check_load_balancer_view(ini: Path, elb: Any, ec2: Any) -> None:
    """A balancer with two running instances registered shows 2/2 in service, its listener,
    and both instances InService; deregistering one leaves 1/1."""
    image = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                 if i.get("ImageType", "machine") == "machine")
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    ids = sorted(i["InstanceId"] for i in ec2.run_instances(
        ImageId=image, MinCount=2, MaxCount=2, InstanceType="m1.small",
        Placement={"AvailabilityZone": zone})["Instances"])
    elb.create_load_balancer(LoadBalancerName="tui-web", AvailabilityZones=[zone], Listeners=[
        {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 8080}])
    elb.register_instances_with_load_balancer(LoadBalancerName="tui-web",
                                              Instances=[{"InstanceId": i} for i in ids])
    app = EucaApp(Cloud.from_config(config_path=str(ini)), interval=0.25)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        await pilot.press("e")
        await wait_for(pilot, lambda: cell(app, "loadbalancers", "tui-web", 7) == "2/2", timeout=90,
                       what="both instances in service")
        assert cell(app, "loadbalancers", "tui-web", 6) == "HTTP:80->HTTP:8080"
        assert column(app, "listeners", 1) == ["80"]
        await wait_for(pilot, lambda: sorted(column(app, "lb-instances", 0)) == ids, what="instances")
        assert column(app, "lb-instances", 1) == ["InService", "InService"]
        elb.deregister_instances_from_load_balancer(LoadBalancerName="tui-web",
                                                    Instances=[{"InstanceId": ids[0]}])
        await wait_for(pilot, lambda: table(app, "lb-instances").row_count == 1, what="deregistered")
        assert cell(app, "loadbalancers", "tui-web", 7) == "1/1"
        await pilot.press("q")
    elb.delete_load_balancer(LoadBalancerName="tui-web")
    ec2.terminate_instances(InstanceIds=ids)


async def test_load_balancer_view_of_a_real_cloud(cloud: Any) -> None:
    """See :func:`check_load_balancer_view`."""
    if "elasticloadbalancing-url" not in Path(cloud.ini).read_text():
        pytest.skip("the cloud serves no load balancing")
    await check_load_balancer_view(Path(cloud.ini), cloud.client("elb", path="/services/LoadBalancing"),
                                   cloud.client("ec2"))
