"""Every declared command runs as a real subprocess and sends its declared action.

A stub server answers every action with a minimal success document and records the
request, so this covers commands neither moto nor the cloud implement yet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from euca2ools.commands import all_commands, bundle

# command -> (arguments, expected parameter subset of the first request)
CASES: dict[str, tuple[list[str], dict[str, str]]] = {
    "euca-run-instances": (["emi-1", "-n", "2-3", "-g", "web", "-g", "sg-1", "-k", "k",
                            "-d", "hello", "-t", "m1.small", "-z", "zone-1",
                            "-b", "/dev/sdb=ephemeral0", "-b", "/dev/sdc=snap-1:5:true", "-m"],
                           {"ImageId": "emi-1", "MinCount": "2", "MaxCount": "3",
                            "SecurityGroup.1": "web", "SecurityGroupId.1": "sg-1", "KeyName": "k",
                            "UserData": "aGVsbG8=", "InstanceType": "m1.small",
                            "Placement.AvailabilityZone": "zone-1",
                            "BlockDeviceMapping.1.VirtualName": "ephemeral0",
                            "BlockDeviceMapping.2.Ebs.SnapshotId": "snap-1",
                            "BlockDeviceMapping.2.Ebs.VolumeSize": "5",
                            "BlockDeviceMapping.2.Ebs.DeleteOnTermination": "true",
                            "Monitoring.Enabled": "true"}),
    "euca-describe-instances": (["i-1", "verbose", "--filter", "tag:Name=a", "--filter",
                                 "tag:Name=b"],
                                {"InstanceId.1": "i-1", "InstanceId.2": "verbose",
                                 "Filter.1.Name": "tag:Name", "Filter.1.Value.1": "a",
                                 "Filter.1.Value.2": "b"}),
    "euca-terminate-instances": (["i-1", "i-2"], {"InstanceId.2": "i-2"}),
    "euca-stop-instances": (["i-1", "-f"], {"InstanceId.1": "i-1", "Force": "true"}),
    "euca-start-instances": (["i-1"], {"InstanceId.1": "i-1"}),
    "euca-reboot-instances": (["i-1"], {"InstanceId.1": "i-1"}),
    "euca-get-console-output": (["i-1"], {"InstanceId": "i-1"}),
    "euca-describe-instance-attribute": (["i-1", "-t"], {"InstanceId": "i-1",
                                                         "Attribute": "instanceType"}),
    "euca-modify-instance-attribute": (["i-1", "-t", "m1.large"],
                                       {"InstanceType.Value": "m1.large"}),
    "euca-reset-instance-attribute": (["i-1", "--kernel"], {"Attribute": "kernel"}),
    "euca-describe-instance-status": (["--include-all-instances"],
                                      {"IncludeAllInstances": "true"}),
    "euca-monitor-instances": (["i-1"], {"InstanceId.1": "i-1"}),
    "euca-unmonitor-instances": (["i-1"], {"InstanceId.1": "i-1"}),
    "euca-describe-images": ([], {"Owner.1": "self"}),
    "euca-register": (["bucket/img.manifest.xml", "-n", "img", "-a", "x86_64"],
                      {"ImageLocation": "bucket/img.manifest.xml", "Name": "img",
                       "Architecture": "x86_64"}),
    "euca-deregister": (["emi-1"], {"ImageId": "emi-1"}),
    "euca-create-image": (["i-1", "-n", "snapimg", "--no-reboot"],
                          {"InstanceId": "i-1", "Name": "snapimg", "NoReboot": "true"}),
    "euca-describe-image-attribute": (["emi-1", "-l"], {"Attribute": "launchPermission"}),
    "euca-modify-image-attribute": (["emi-1", "-l", "-a", "all", "-r", "111122223333"],
                                    {"LaunchPermission.Add.1.Group": "all",
                                     "LaunchPermission.Remove.1.UserId": "111122223333"}),
    "euca-reset-image-attribute": (["emi-1", "-l"], {"Attribute": "launchPermission"}),
    "euca-create-keypair": (["k"], {"KeyName": "k"}),
    "euca-get-password-data": (["i-1"], {"InstanceId": "i-1"}),
    "euca-get-password": (["i-1", "-k", "key.pem"], {"InstanceId": "i-1"}),
    "euca-bundle-instance": (["i-1", "-b", "bkt", "-p", "win"],
                             {"InstanceId": "i-1", "Storage.S3.Bucket": "bkt",
                              "Storage.S3.Prefix": "win", "Storage.S3.AWSAccessKeyId": "AKIDSTUB"}),
    "euca-describe-bundle-tasks": (["bun-1", "--filter", "state=complete"],
                                   {"BundleId.1": "bun-1", "Filter.1.Name": "state"}),
    "euca-cancel-bundle-task": (["bun-1"], {"BundleId": "bun-1"}),
    "euca-import-keypair": (["k", "-f", "-"], {"KeyName": "k",
                                               "PublicKeyMaterial": "c3NoLXJzYSBBQUFB"}),
    "euca-delete-keypair": (["k"], {"KeyName": "k"}),
    "euca-describe-keypairs": (["--filter", "key-name=k"], {"Filter.1.Name": "key-name"}),
    "euca-create-group": (["g", "-d", "desc"], {"GroupName": "g", "GroupDescription": "desc"}),
    "euca-delete-group": (["sg-1"], {"GroupId": "sg-1"}),
    "euca-describe-groups": (["g", "sg-2"], {"GroupName.1": "g", "GroupId.1": "sg-2"}),
    "euca-describe-group": (["g"], {"GroupName.1": "g"}),
    "euca-authorize": (["g", "-P", "udp", "-p", "-1", "-o", "other", "-u", "111122223333"],
                       {"Action": "AuthorizeSecurityGroupIngress",
                        "IpPermissions.1.IpProtocol": "udp", "IpPermissions.1.FromPort": "1",
                        "IpPermissions.1.ToPort": "65535",
                        "IpPermissions.1.Groups.1.GroupName": "other",
                        "IpPermissions.1.Groups.1.UserId": "111122223333"}),
    "euca-revoke": (["sg-1", "--egress", "-P", "all"],
                    {"Action": "RevokeSecurityGroupEgress", "GroupId": "sg-1",
                     "IpPermissions.1.IpProtocol": "-1",
                     "IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0"}),
    "euca-allocate-address": ([], {}),
    "euca-associate-address": (["198.51.100.1", "-i", "i-1"],
                               {"PublicIp": "198.51.100.1", "InstanceId": "i-1"}),
    "euca-disassociate-address": (["198.51.100.1"], {"PublicIp": "198.51.100.1"}),
    "euca-release-address": (["-a", "eipalloc-1"], {"AllocationId": "eipalloc-1"}),
    "euca-describe-addresses": (["eipalloc-1", "198.51.100.1"],
                                {"AllocationId.1": "eipalloc-1", "PublicIp.1": "198.51.100.1"}),
    "euca-describe-availability-zones": (["verbose"], {"ZoneName.1": "verbose"}),
    "euca-describe-regions": ([], {}),
    "euca-describe-account-attributes": (["supported-platforms"],
                                         {"AttributeName.1": "supported-platforms"}),
    "euca-describe-instance-types": (["--by-zone"], {"Availability": "true"}),
    "euca-modify-instance-type": (["m1.small", "-c", "2", "-m", "512"],
                                  {"Name": "m1.small", "Cpu": "2", "Memory": "512"}),
    "euca-create-tags": (["i-1", "--tag", "a=b", "--tag", "c"],
                         {"ResourceId.1": "i-1", "Tag.1.Key": "a", "Tag.1.Value": "b",
                          "Tag.2.Value": ""}),
    "euca-delete-tags": (["i-1", "--tag", "a"], {"Tag.1.Key": "a"}),
    "euca-describe-tags": (["--filter", "resource-type=instance"],
                           {"Filter.1.Value.1": "instance"}),
    "euserv-describe-node-controllers": (["zone-1"], {"ZoneName.1": "zone-1"}),
    "euserv-migrate-instances": (["-s", "node-1", "--exclude-dest", "node-2"],
                                 {"SourceHost": "node-1", "DestinationHost.1": "node-2",
                                  "AllowHosts": "false"}),
    "euca-create-volume": (["-z", "zone-1", "-s", "5"], {"AvailabilityZone": "zone-1", "Size": "5"}),
    "euca-delete-volume": (["vol-1"], {"VolumeId": "vol-1"}),
    "euca-describe-volumes": (["vol-1"], {"VolumeId.1": "vol-1"}),
    "euca-attach-volume": (["vol-1", "-i", "i-1", "-d", "/dev/sdf"],
                           {"VolumeId": "vol-1", "InstanceId": "i-1", "Device": "/dev/sdf"}),
    "euca-detach-volume": (["vol-1"], {"VolumeId": "vol-1"}),
    "euca-create-snapshot": (["vol-1", "-d", "nightly"], {"VolumeId": "vol-1",
                                                          "Description": "nightly"}),
    "euca-delete-snapshot": (["snap-1"], {"SnapshotId": "snap-1"}),
    "euca-describe-snapshots": (["-a"], {}),
    "euca-describe-snapshot-attribute": (["snap-1", "-c"], {"Attribute": "createVolumePermission"}),
    "euca-modify-snapshot-attribute": (["snap-1", "-c", "-a", "all"],
                                       {"CreateVolumePermission.Add.1.Group": "all"}),
    "euca-reset-snapshot-attribute": (["snap-1", "-c"], {"Attribute": "createVolumePermission"}),
    "euare-accountcreate": (["acme"], {"AccountName": "acme"}),
    "euare-accountlist": ([], {}),
    "euare-accountdel": (["acme", "-r"], {"AccountName": "acme", "Recursive": "true"}),
    "euare-usercreate": (["bob", "-p", "/dev/", "--as-account", "acme"],
                         {"UserName": "bob", "Path": "/dev/", "DelegateAccount": "acme"}),
    "euare-userdel": (["bob"], {"UserName": "bob"}),
    "euare-userlistbypath": (["-p", "/dev/"], {"PathPrefix": "/dev/"}),
    "euare-useraddkey": (["bob"], {"UserName": "bob"}),
    "euare-userdelkey": (["AKID", "-u", "bob"], {"AccessKeyId": "AKID", "UserName": "bob"}),
    "euare-userlistkeys": (["bob"], {"UserName": "bob"}),
    "euare-groupcreate": (["devs", "-p", "/x/"], {"GroupName": "devs", "Path": "/x/"}),
    "euare-groupadduser": (["devs", "-u", "bob"], {"GroupName": "devs", "UserName": "bob"}),
    "euare-grouplistbypath": ([], {}),
    "euwatch-put-data": (["-n", "App", "-m", "Hits", "-v", "3", "-d", "Host=a,Zone=b",
                          "-u", "Count"],
                         {"Namespace": "App", "MetricData.member.1.MetricName": "Hits",
                          "MetricData.member.1.Value": "3.0",
                          "MetricData.member.1.Dimensions.member.2.Value": "b",
                          "MetricData.member.1.Unit": "Count"}),
    "euwatch-get-stats": (["Hits", "-n", "App", "-s", "Sum,Average", "--period", "300"],
                          {"MetricName": "Hits", "Statistics.member.2": "Average",
                           "Period": "300"}),
    "euwatch-list-metrics": (["-n", "App", "-d", "Host=a"],
                             {"Namespace": "App", "Dimensions.member.1.Name": "Host"}),
    "euwatch-put-metric-alarm": (["hot", "--comparison-operator", "GreaterThanThreshold",
                                  "--evaluation-periods", "2", "--metric-name", "CPU",
                                  "--namespace", "AWS/EC2", "--period", "60", "--statistic",
                                  "Average", "--threshold", "70", "--alarm-actions", "arn:a,arn:b"],
                                 {"AlarmName": "hot", "Threshold": "70.0",
                                  "AlarmActions.member.2": "arn:b"}),
    "euwatch-describe-alarms": (["hot", "--state-value", "ALARM"],
                                {"AlarmNames.member.1": "hot", "StateValue": "ALARM"}),
    "euwatch-describe-alarms-for-metric": (["--metric-name", "CPU", "--namespace", "AWS/EC2"],
                                           {"MetricName": "CPU", "Namespace": "AWS/EC2"}),
    "euwatch-describe-alarm-history": (["hot", "--history-item-type", "Action"],
                                       {"AlarmName": "hot", "HistoryItemType": "Action"}),
    "euwatch-set-alarm-state": (["hot", "--state-value", "OK", "--state-reason", "test"],
                                {"AlarmName": "hot", "StateValue": "OK", "StateReason": "test"}),
    "euwatch-enable-alarm-actions": (["a", "b"], {"AlarmNames.member.2": "b"}),
    "euwatch-disable-alarm-actions": (["a"], {"AlarmNames.member.1": "a"}),
    "euwatch-delete-alarms": (["a"], {"AlarmNames.member.1": "a"}),
}
LOCAL = {"euca-version", "euca-generate-environment-config", "euca-fingerprint-key"}
# Bundle commands move files through S3 (not query actions): test_euca_bundle*.py runs them.
BUNDLE = {c.name for c in bundle.COMMANDS}


def test_every_command_has_a_case() -> None:
    """The table below covers every declared command."""
    names = {c.name for c in all_commands()}
    assert names - LOCAL - BUNDLE == set(CASES), sorted(names ^ (set(CASES) | LOCAL | BUNDLE))


@pytest.mark.parametrize("name", sorted(CASES))
def test_command_sends_its_action(euca, stub, name: str) -> None:  # type: ignore[no-untyped-def]
    """Run the command against the stub; check action, parameters and SigV4 service."""
    cloud, ini = stub
    command = next(c for c in all_commands() if c.name == name)
    args, expected = CASES[name]
    euca(name, *args, ini=ini, input="ssh-rsa AAAA")
    assert cloud.requests, "no request sent"
    first = cloud.requests[0]
    params = first["params"]
    if "Action" not in expected:
        assert params["Action"] == command.action
    for key, value in expected.items():
        assert params.get(key) == value, (key, params)
    scope = first["headers"]["authorization"].split("Credential=")[1].split(",")[0]
    assert scope.split("/")[3] == command.service  # SigV4 service name
    assert scope.split("/")[2] == "stub"  # region name from the section name


def test_local_commands(euca, tmp_path: Path, stub) -> None:  # type: ignore[no-untyped-def]
    """euca-version, euca-fingerprint-key and euca-generate-environment-config."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    proc = euca("euca-version")
    assert proc.stderr.startswith("euca2ools 3.4")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    (tmp_path / "k.pem").write_bytes(pem)
    out = euca("euca-fingerprint-key", str(tmp_path / "k.pem")).stdout.strip()
    assert len(out.split(":")) == 20
    _cloud, ini = stub
    out = euca("euca-generate-environment-config", ini=ini).stdout
    assert f"EC2_URL={_cloud.url}; export EC2_URL;" in out
    assert "AWS_ACCESS_KEY_ID=AKIDSTUB; export AWS_ACCESS_KEY_ID;" in out
    assert "# EUCALYPTUS_CERT is not set" in out
    out = euca("euca-generate-environment-config", "--simple", ini=ini).stdout
    assert "AWS_SECRET_ACCESS_KEY=stubsecret" in out.splitlines()


def test_help_for_every_command(euca) -> None:  # type: ignore[no-untyped-def]
    """--help works for every command and names it."""
    for command in all_commands():
        out = euca(command.name, "--help").stdout
        assert command.name in out


EXTRA_CASES = [
    ("euca-run-instances", ["emi-1", "-a", ":0:subnet-1::10.0.0.5:sg-1,sg-2:true:2"],
     {"NetworkInterface.1.DeviceIndex": "0", "NetworkInterface.1.SubnetId": "subnet-1",
      "NetworkInterface.1.PrivateIpAddress": "10.0.0.5",
      "NetworkInterface.1.SecurityGroupId.2": "sg-2",
      "NetworkInterface.1.DeleteOnTermination": "true",
      "NetworkInterface.1.SecondaryPrivateIpAddressCount": "2"}),
    ("euca-run-instances", ["emi-1", "-s", "subnet-1", "--associate-public-ip-address", "yes",
                            "-g", "sg-1", "-p", "arn:aws:iam::1:instance-profile/x"],
     {"NetworkInterface.1.SubnetId": "subnet-1",
      "NetworkInterface.1.AssociatePublicIpAddress": "true",
      "NetworkInterface.1.SecurityGroupId.1": "sg-1",
      "IamInstanceProfile.Arn": "arn:aws:iam::1:instance-profile/x"}),
    ("euca-run-instances", ["emi-1", "-f", "-"], {"UserData": "c3NoLXJzYSBBQUFB"}),
    ("euca-delete-tags", ["i-1", "--tag", "a=", "--tag", "b=c"],
     {"Tag.1.Key": "a", "Tag.1.Value": "", "Tag.2.Value": "c"}),
    ("euca-register", ["-n", "ebsimg", "-s", "snap-1"],
     {"RootDeviceName": "/dev/sda1", "BlockDeviceMapping.1.DeviceName": "/dev/sda1",
      "BlockDeviceMapping.1.Ebs.SnapshotId": "snap-1"}),
    ("euca-authorize", ["g", "-P", "icmp", "-t", "8:0", "-s", "10.0.0.0/8"],
     {"IpPermissions.1.FromPort": "8", "IpPermissions.1.ToPort": "0",
      "IpPermissions.1.IpRanges.1.CidrIp": "10.0.0.0/8"}),
    ("euca-authorize", ["g", "-p", "ssh"], {"IpPermissions.1.FromPort": "22"}),
]


@pytest.mark.parametrize("name,args,expected", EXTRA_CASES)
def test_friendly_options(euca, stub, name: str, args: list[str], expected: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Compound option syntaxes turn into the right wire parameters."""
    cloud, ini = stub
    euca(name, *args, ini=ini, input="ssh-rsa AAAA")
    params = cloud.requests[0]["params"]
    for key, value in expected.items():
        assert params.get(key) == value, (key, params)
    if "-d" not in args and "UserData" not in expected:
        assert "UserData" not in params
    if name == "euca-delete-tags":
        assert "Tag.1.Value" in params
