"""Key pairs, security groups, addresses and images through boto3; account isolation."""

from __future__ import annotations

import base64
import hashlib

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from helpers import error_code, put_manifest, wait_state


@pytest.fixture(scope="module")
def ec2(cloud):
    """An admin EC2 client."""
    return cloud.client("ec2")


def test_create_keypair_fingerprint_matches_aws(ec2) -> None:
    """CreateKeyPair returns a real RSA key whose fingerprint is SHA-1 of its PKCS#8 DER."""
    kp = ec2.create_key_pair(KeyName="kp-create")
    key = serialization.load_pem_private_key(kp["KeyMaterial"].encode(), None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    assert kp["KeyFingerprint"] == ":".join(f"{b:02x}" for b in hashlib.sha1(der).digest())
    listed = ec2.describe_key_pairs(KeyNames=["kp-create"])["KeyPairs"]
    assert listed[0]["KeyFingerprint"] == kp["KeyFingerprint"]
    with pytest.raises(ClientError) as err:
        ec2.create_key_pair(KeyName="kp-create")
    assert error_code(err) == "InvalidKeyPair.Duplicate"
    ec2.delete_key_pair(KeyName="kp-create")
    with pytest.raises(ClientError) as err:
        ec2.describe_key_pairs(KeyNames=["kp-create"])
    assert error_code(err) == "InvalidKeyPair.NotFound"


def test_import_rsa_and_ed25519(ec2) -> None:
    """Imported keys: MD5 of the DER public key (RSA); SHA-256 of the blob (ed25519)."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    line = rsa_key.public_bytes(serialization.Encoding.OpenSSH,
                                serialization.PublicFormat.OpenSSH) + b" me@host"
    got = ec2.import_key_pair(KeyName="kp-rsa", PublicKeyMaterial=line)
    der = rsa_key.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
    assert got["KeyFingerprint"] == ":".join(f"{b:02x}" for b in hashlib.md5(der).digest())
    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    line = ed.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    got = ec2.import_key_pair(KeyName="kp-ed", PublicKeyMaterial=line)
    blob = base64.b64decode(line.split()[1])
    assert got["KeyFingerprint"] == base64.b64encode(hashlib.sha256(blob).digest()).decode()
    with pytest.raises(ClientError) as err:
        ec2.import_key_pair(KeyName="kp-bad", PublicKeyMaterial=b"not a key")
    assert error_code(err) == "InvalidKey.Format"
    names = {k["KeyName"] for k in ec2.describe_key_pairs(
        Filters=[{"Name": "key-name", "Values": ["kp-*"]}])["KeyPairs"]}
    assert {"kp-rsa", "kp-ed"} <= names


def test_security_groups_rules(ec2) -> None:
    """Create a group, authorize CIDR and group sources, revoke, delete."""
    gid = ec2.create_security_group(GroupName="web", Description="web tier")["GroupId"]
    assert gid.startswith("sg-")
    ec2.authorize_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=22,
                                         ToPort=22, CidrIp="10.0.0.0/8")
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "UserIdGroupPairs": [{"GroupName": "default"}]}])
    with pytest.raises(ClientError) as err:
        ec2.authorize_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=22,
                                             ToPort=22, CidrIp="10.0.0.0/8")
    assert error_code(err) == "InvalidPermission.Duplicate"
    sg = ec2.describe_security_groups(GroupNames=["web"])["SecurityGroups"][0]
    perms = {(p["IpProtocol"], p["FromPort"]): p for p in sg["IpPermissions"]}
    assert perms[("tcp", 22)]["IpRanges"] == [{"CidrIp": "10.0.0.0/8"}]
    assert perms[("tcp", 80)]["UserIdGroupPairs"][0]["GroupName"] == "default"
    found = ec2.describe_security_groups(
        Filters=[{"Name": "ip-permission.cidr", "Values": ["10.0.0.0/8"]}])["SecurityGroups"]
    assert [g["GroupId"] for g in found] == [gid]
    ec2.revoke_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=22, ToPort=22,
                                      CidrIp="10.0.0.0/8")
    # EC2-Classic (as AWS): revoking a rule that is not there is no error; the answer
    # lists it as unknown.
    again = ec2.revoke_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=22,
                                              ToPort=22, CidrIp="10.0.0.0/8")
    assert again["Return"] is True
    assert again["UnknownIpPermissions"][0]["IpRanges"] == [{"CidrIp": "10.0.0.0/8"}]
    with pytest.raises(ClientError) as err:
        ec2.delete_security_group(GroupName="default")
    assert error_code(err) == "CannotDelete"
    ec2.delete_security_group(GroupId=gid)
    with pytest.raises(ClientError) as err:
        ec2.describe_security_groups(GroupIds=[gid])
    assert error_code(err) == "InvalidGroup.NotFound"


def test_group_in_use_cannot_be_deleted(ec2) -> None:
    """A group with live instances refuses deletion."""
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.create_security_group(GroupName="busy", Description="in use")
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            SecurityGroups=["busy"])["Instances"][0]["InstanceId"]
    with pytest.raises(ClientError) as err:
        ec2.delete_security_group(GroupName="busy")
    assert error_code(err) == "InvalidGroup.InUse"
    ec2.terminate_instances(InstanceIds=[iid])
    wait_state(ec2, [iid], "terminated")
    ec2.delete_security_group(GroupName="busy")


def test_addresses_allocate_associate_release(ec2) -> None:
    """An elastic IP replaces the instance's automatic address and comes back on release."""
    image = ec2.describe_images()["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    alloc = ec2.allocate_address()
    ip = alloc["PublicIp"]
    assert alloc["Domain"] == "standard" and alloc["AllocationId"].startswith("eipalloc-")
    ec2.associate_address(PublicIp=ip, InstanceId=iid)
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert inst["PublicIpAddress"] == ip
    addr = ec2.describe_addresses(PublicIps=[ip])["Addresses"][0]
    assert addr["InstanceId"] == iid and addr["PrivateIpAddress"] == inst["PrivateIpAddress"]
    ec2.disassociate_address(PublicIp=ip)
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert inst.get("PublicIpAddress") and inst["PublicIpAddress"] != ip
    ec2.release_address(PublicIp=ip)
    with pytest.raises(ClientError) as err:
        ec2.describe_addresses(PublicIps=[ip])
    assert error_code(err) == "InvalidAddress.NotFound"
    ec2.terminate_instances(InstanceIds=[iid])


def test_address_pool_exhaustion_is_a_clear_error(make_cloud) -> None:
    """Running out of public addresses answers AddressLimitExceeded, not a crash."""
    c = make_cloud('[[zones]]\nname = "z"\nnodes = 1\npublic_ips = ["198.51.100.5-198.51.100.6"]\n')
    ec2 = c.client("ec2")
    ec2.allocate_address()
    ec2.allocate_address()
    with pytest.raises(ClientError) as err:
        ec2.allocate_address()
    assert error_code(err) == "AddressLimitExceeded"
    image = ec2.describe_images()["Images"][0]["ImageId"]
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
    assert error_code(err) == "AddressLimitExceeded"


def test_images_register_attributes(cloud, ec2) -> None:
    """Register an image, share it, describe by owner, deregister."""
    location = put_manifest(cloud, "bucket/my-image.manifest.xml")
    with pytest.raises(ClientError) as err:
        ec2.register_image(Name="ghost", ImageLocation="bucket/ghost.manifest.xml")
    assert error_code(err) == "InvalidManifest"
    put_manifest(cloud, "bucket/kern.manifest.xml", image_type="kernel")
    kernel = ec2.register_image(Name="kern", ImageLocation="bucket/kern.manifest.xml")["ImageId"]
    assert kernel.startswith("eki-")
    iid = ec2.register_image(Name="my-image", ImageLocation=location,
                             Architecture="x86_64")["ImageId"]
    assert iid.startswith("emi-")
    mine = ec2.describe_images(Owners=["self"])["Images"]
    assert iid in [i["ImageId"] for i in mine]
    ec2.modify_image_attribute(ImageId=iid, LaunchPermission={"Add": [{"Group": "all"}]})
    perms = ec2.describe_image_attribute(ImageId=iid, Attribute="launchPermission")
    assert perms["LaunchPermissions"] == [{"Group": "all"}]
    ec2.reset_image_attribute(ImageId=iid, Attribute="launchPermission")
    assert not ec2.describe_image_attribute(ImageId=iid,
                                            Attribute="launchPermission")["LaunchPermissions"]
    by_name = ec2.describe_images(Filters=[{"Name": "name", "Values": ["my-*"]}])["Images"]
    assert [i["ImageId"] for i in by_name] == [iid]
    ec2.deregister_image(ImageId=iid)
    with pytest.raises(ClientError) as err:
        ec2.describe_images(ImageIds=[iid])
    assert error_code(err) == "InvalidAMIID.NotFound"
