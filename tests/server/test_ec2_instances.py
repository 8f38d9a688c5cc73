"""EC2 instances through boto3 against a real server: lifecycle, capacity, errors."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from helpers import error_code, wait_state


@pytest.fixture(scope="module")
def ec2(cloud):
    """An admin EC2 client."""
    return cloud.client("ec2")


@pytest.fixture(scope="module")
def image_id(ec2) -> str:
    """The default public image."""
    return ec2.describe_images()["Images"][0]["ImageId"]


def _zone_free(ec2, vm_type: str = "m1.small") -> tuple[int, int]:
    rows = ec2.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]
    state = next(r["State"] for r in rows if r["ZoneName"] == f"|- {vm_type}")
    free, _, most = state.split()[:3]
    return int(free), int(most)


def test_default_cloud_capacity_view(ec2) -> None:
    """The default cloud: one zone, 4 nodes of 8 cores -> 32 m1.small, in the verbose view."""
    rows = ec2.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]
    names = [r["ZoneName"] for r in rows]
    assert names[0] == "zone-1" and "|- vm types" in names
    small = next(r for r in rows if r["ZoneName"] == "|- m1.small")
    assert small["State"] == "0032 / 0032   1    256     5"
    assert len([n for n in names if n.startswith("|- ") and n != "|- vm types"]) == 18
    plain = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [(z["ZoneName"], z["State"]) for z in plain] == [("zone-1", "available")]


def test_run_pending_then_running_and_terminate(ec2, image_id) -> None:
    """Instances are pending when RunInstances returns, running by boot + 1 s, then terminate."""
    free_before, _ = _zone_free(ec2)
    t0 = time.time()
    r = ec2.run_instances(ImageId=image_id, MinCount=3, MaxCount=3)
    ids = [i["InstanceId"] for i in r["Instances"]]
    assert all(i["State"] == {"Code": 0, "Name": "pending"} for i in r["Instances"])
    assert all(i["InstanceType"] == "m1.small" for i in r["Instances"])
    assert r["ReservationId"].startswith("r-") and all(len(i) == 19 for i in ids)
    running = wait_state(ec2, ids, "running")
    assert time.time() - t0 < 1.0 + 1.5
    assert all(i["PrivateIpAddress"].startswith("10.1.") for i in running)
    assert all(i.get("PublicIpAddress") for i in running)
    assert _zone_free(ec2)[0] == free_before - 3
    out = ec2.terminate_instances(InstanceIds=ids)["TerminatingInstances"]
    assert {o["CurrentState"]["Name"] for o in out} == {"shutting-down"}
    wait_state(ec2, ids, "terminated")
    assert _zone_free(ec2)[0] == free_before


def test_full_zone_is_refused_with_insufficient_capacity(ec2, image_id) -> None:
    """MinCount beyond the zone's room starts nothing; MaxCount beyond it starts what fits."""
    free, _ = _zone_free(ec2, "c1.xlarge")
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image_id, MinCount=free + 1, MaxCount=free + 1,
                          InstanceType="c1.xlarge")
    assert error_code(err) == "InsufficientInstanceCapacity"
    assert _zone_free(ec2, "c1.xlarge")[0] == free
    r = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=free + 5,
                          InstanceType="c1.xlarge")
    ids = [i["InstanceId"] for i in r["Instances"]]
    assert len(ids) == free
    assert _zone_free(ec2, "c1.xlarge")[0] == 0
    ec2.terminate_instances(InstanceIds=ids)
    wait_state(ec2, ids, "terminated")


def test_instance_store_stop_is_unsupported(ec2, image_id) -> None:
    """Stop/Start are for EBS-backed instances; instance-store ones refuse as AWS does."""
    iid = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    with pytest.raises(ClientError) as err:
        ec2.stop_instances(InstanceIds=[iid])
    assert error_code(err) == "UnsupportedOperation"
    ec2.terminate_instances(InstanceIds=[iid])


def test_reboot_console_and_status(ec2, image_id) -> None:
    """Reboot, console output and instance status of a running instance."""
    iid = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    ec2.reboot_instances(InstanceIds=[iid])
    out = ec2.get_console_output(InstanceId=iid)
    assert iid in out["Output"]
    status = ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"]
    assert status[0]["InstanceState"]["Name"] == "running"
    assert status[0]["SystemStatus"]["Status"] == "ok"
    ec2.terminate_instances(InstanceIds=[iid])
    wait_state(ec2, [iid], "terminated")
    with pytest.raises(ClientError) as err:
        ec2.reboot_instances(InstanceIds=[iid])
    assert error_code(err) == "IncorrectInstanceState"


def test_unknown_ids_and_bad_parameters(ec2, image_id) -> None:
    """AWS's error codes for unknown IDs and bad values, never a 500."""
    cases = [
        (lambda: ec2.describe_instances(InstanceIds=["i-00000000000000000"]),
         "InvalidInstanceID.NotFound"),
        (lambda: ec2.terminate_instances(InstanceIds=["i-00000000000000000"]),
         "InvalidInstanceID.NotFound"),
        (lambda: ec2.run_instances(ImageId="emi-00000000", MinCount=1, MaxCount=1),
         "InvalidAMIID.NotFound"),
        (lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                   InstanceType="x9.huge"), "InvalidParameterValue"),
        (lambda: ec2.run_instances(ImageId=image_id, MinCount=2, MaxCount=1),
         "InvalidParameterValue"),
        (lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, KeyName="nope"),
         "InvalidKeyPair.NotFound"),
        (lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                   SecurityGroups=["nope"]), "InvalidGroup.NotFound"),
        (lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                   Placement={"AvailabilityZone": "nowhere"}),
         "InvalidParameterValue"),
        (lambda: ec2.describe_instances(Filters=[{"Name": "bogus-filter", "Values": ["x"]}]),
         "InvalidParameterValue"),
        (lambda: ec2.describe_instances(MaxResults=2), "InvalidParameterValue"),
        (lambda: ec2.describe_instances(NextToken="garbage!"), "InvalidPaginationToken"),
    ]
    for call, code in cases:
        with pytest.raises(ClientError) as err:
            call()
        assert error_code(err) == code
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500 or \
            code == "InsufficientInstanceCapacity"


def test_filters_tags_and_paging(ec2, image_id) -> None:
    """tag: filters, state filters and MaxResults/NextToken paging."""
    r = ec2.run_instances(ImageId=image_id, MinCount=7, MaxCount=7)
    ids = [i["InstanceId"] for i in r["Instances"]]
    ec2.create_tags(Resources=ids[:3], Tags=[{"Key": "role", "Value": "web"}])
    ec2.create_tags(Resources=ids[3:], Tags=[{"Key": "role", "Value": "db"}])
    web = ec2.describe_instances(Filters=[{"Name": "tag:role", "Values": ["web"]}])
    assert sorted(i["InstanceId"] for r in web["Reservations"] for i in r["Instances"]) == \
        sorted(ids[:3])
    wild = ec2.describe_instances(Filters=[{"Name": "tag:role", "Values": ["d*"]},
                                           {"Name": "instance-state-name",
                                            "Values": ["pending", "running"]}])
    assert len([i for r in wild["Reservations"] for i in r["Instances"]]) == 4
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxResults": 5, "Filters": [{"Name": "reservation-id",
                                            "Values": [r["ReservationId"]]}]}
        if token:
            kw["NextToken"] = token
        resp = ec2.describe_instances(**kw)
        seen += [i["InstanceId"] for res in resp["Reservations"] for i in res["Instances"]]
        pages += 1
        token = resp.get("NextToken")
        if not token:
            break
    assert pages == 2 and sorted(seen) == sorted(ids)
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": ids[:2]}])["Tags"]
    assert {(t["ResourceId"], t["Key"], t["Value"], t["ResourceType"]) for t in tags} == \
        {(i, "role", "web", "instance") for i in ids[:2]}
    ec2.delete_tags(Resources=[ids[0]], Tags=[{"Key": "role"}])
    assert not ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [ids[0]]}])["Tags"]
    ec2.terminate_instances(InstanceIds=ids)
    wait_state(ec2, ids, "terminated")


def test_client_token_is_idempotent(ec2, image_id) -> None:
    """The same ClientToken returns the same reservation."""
    a = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, ClientToken="tok-1")
    b = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, ClientToken="tok-1")
    assert a["ReservationId"] == b["ReservationId"]
    ec2.terminate_instances(InstanceIds=[a["Instances"][0]["InstanceId"]])


def test_attributes_and_user_data(ec2, image_id) -> None:
    """User data round-trips; attributes describe and modify."""
    iid = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                            UserData="#!/bin/sh\necho hi\n")["Instances"][0]["InstanceId"]
    ud = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")
    import base64

    assert base64.b64decode(ud["UserData"]["Value"]) == b"#!/bin/sh\necho hi\n"
    ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": True})
    with pytest.raises(ClientError) as err:
        ec2.terminate_instances(InstanceIds=[iid])
    assert error_code(err) == "OperationNotPermitted"
    ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": False})
    assert ec2.describe_instance_attribute(
        InstanceId=iid, Attribute="instanceType")["InstanceType"]["Value"] == "m1.small"
    ec2.terminate_instances(InstanceIds=[iid])


def test_instance_types_and_account_attributes(ec2) -> None:
    """DescribeInstanceTypes in AWS's shape; EC2-Classic account attributes."""
    types = {t["InstanceType"]: t for t in ec2.describe_instance_types()["InstanceTypes"]}
    assert len(types) == 18
    assert types["m1.small"]["VCpuInfo"]["DefaultVCpus"] == 1
    assert types["m1.small"]["MemoryInfo"]["SizeInMiB"] == 256
    assert types["m1.small"]["InstanceStorageInfo"]["TotalSizeInGB"] == 5
    attrs = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
             for a in ec2.describe_account_attributes()["AccountAttributes"]}
    assert attrs["supported-platforms"] == ["EC2"] and attrs["default-vpc"] == ["none"]
    assert "max-instances" in attrs


def test_dry_run(ec2, image_id) -> None:
    """DryRun answers DryRunOperation and changes nothing."""
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, DryRun=True)
    assert error_code(err) == "DryRunOperation"
