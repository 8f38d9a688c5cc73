"""The dashboard against "AWS" (moto's in-process mock): the same code, no Eucalyptus extensions."""

from __future__ import annotations

import pytest
from tui_helpers import column, status, table, wait_for

from tui.app import EucaApp
from tui.cloud import Cloud

moto = pytest.importorskip("moto")



async def test_aws_region(aws_env: None) -> None:
    """--region aws:us-east-1: instances, zones (no verbose rows, no nodes), buckets."""
    import boto3

    ec2 = boto3.client("ec2", region_name="us-east-1")
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2,
                                                      InstanceType="t2.micro")["Instances"]]
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="tui-bucket")
    cloud = Cloud.from_config("aws:us-east-1")
    assert cloud.is_aws
    app = EucaApp(cloud, interval=0.3)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        await wait_for(pilot, lambda: sorted(column(app, "instances", 0)) == sorted(ids), what="instances")
        await pilot.press("2")
        await wait_for(pilot, lambda: "us-east-1a" in column(app, "zones", 0), what="zones")
        assert table(app, "vmtypes").row_count == 0 and table(app, "nodes").row_count == 0
        note = str(app.query_one("#nodes-note").render())
        assert note.startswith("Per-node view needs the cloud admin")
        await pilot.press("9")
        await wait_for(pilot, lambda: column(app, "buckets", 0) == ["tui-bucket"], what="buckets")
