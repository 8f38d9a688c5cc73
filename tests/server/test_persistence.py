"""Restart and crash: every account, key, group, address, image and instance survives."""

from __future__ import annotations

import pytest
from helpers import put_manifest, wait_state


@pytest.mark.parametrize("crash", [False, True], ids=["restart", "kill-9"])
def test_state_survives_restart(make_cloud, crash: bool, database: str) -> None:
    """Stop (or kill) the server and start it on the same data dir: nothing acknowledged is lost."""
    c = make_cloud(postgres=database == "postgresql")
    ec2 = c.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.create_key_pair(KeyName="persist")
    gid = ec2.create_security_group(GroupName="keep", Description="kept")["GroupId"]
    ec2.authorize_security_group_ingress(GroupName="keep", IpProtocol="tcp", FromPort=22,
                                         ToPort=22, CidrIp="0.0.0.0/0")
    ip = ec2.allocate_address()["PublicIp"]
    mine = ec2.register_image(Name="kept-image",
                              ImageLocation=put_manifest(c, "kept-bundles/k.manifest.xml"))["ImageId"]
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2,
                                                      KeyName="persist",
                                                      SecurityGroups=["keep"])["Instances"]]
    wait_state(ec2, ids, "running")
    ec2.associate_address(PublicIp=ip, InstanceId=ids[0])
    ec2.create_tags(Resources=ids, Tags=[{"Key": "Name", "Value": "survivor"}])
    before = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    if crash:
        c.kill()
        c.start()
    else:
        c.restart()
    ec2 = c.client("ec2")
    after = wait_state(ec2, ids, "running")
    assert {i["InstanceId"]: (i["PrivateIpAddress"], i.get("PublicIpAddress"))
            for i in after} == {i["InstanceId"]: (i["PrivateIpAddress"], i.get("PublicIpAddress"))
                                for r in before for i in r["Instances"]}
    assert all({"Key": "Name", "Value": "survivor"} in i["Tags"] for i in after)
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["persist"]
    sg = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    assert sg["IpPermissions"][0]["FromPort"] == 22
    assert ec2.describe_addresses(PublicIps=[ip])["Addresses"][0]["InstanceId"] == ids[0]
    assert mine in [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]]
    # Capacity accounting survives too: the two instances still hold their cores.
    rows = ec2.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]
    small = next(r for r in rows if r["ZoneName"] == "|- m1.small")
    assert small["State"].startswith("0030 / 0032")
    ec2.terminate_instances(InstanceIds=ids)
    wait_state(ec2, ids, "terminated")
