"""Instance profiles on instances: RunInstances with IamInstanceProfile and the metadata
service's ``iam/`` tree, whose role credentials work against the cloud's services."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from helpers import error_code

from server.metadata import sign

SECRET = "iam-md-secret"
EC2_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
     "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def md_cloud() -> Any:
    """A cloud with a known metadata secret."""
    from cloudproc import running_cloud

    with running_cloud(f'[cloud]\nmetadata_secret = "{SECRET}"\n') as c:
        yield c


def _get(cloud: Any, path: str, iid: str) -> requests.Response:
    return requests.get(cloud.url + path, timeout=10,
                        headers={"X-Instance-ID": iid, "X-Instance-ID-Signature": sign(SECRET,
                                                                                        iid)})


def test_instance_profile_credentials(md_cloud: Any) -> None:
    """The instance's role credentials come from iam/security-credentials/ROLE and work."""
    iam = md_cloud.client("iam")
    ec2 = md_cloud.client("ec2")
    iam.create_role(RoleName="web-role", AssumeRolePolicyDocument=EC2_TRUST)
    profile = iam.create_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web-role")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                          IamInstanceProfile={"Name": "missing"})
    assert error_code(err) == "InvalidParameterValue"
    inst = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                             IamInstanceProfile={"Arn": profile["Arn"]})["Instances"][0]
    assert inst["IamInstanceProfile"] == {"Arn": profile["Arn"],
                                          "Id": profile["InstanceProfileId"]}
    described = ec2.describe_instances(InstanceIds=[inst["InstanceId"]])
    assert described["Reservations"][0]["Instances"][0]["IamInstanceProfile"]["Arn"] == \
        profile["Arn"]
    iid = inst["InstanceId"]
    found = ec2.describe_instances(Filters=[{"Name": "iam-instance-profile.arn",
                                             "Values": [profile["Arn"]]}])
    assert [i["InstanceId"] for r in found["Reservations"] for i in r["Instances"]] == [iid]
    assert "iam/" in _get(md_cloud, "/latest/meta-data/", iid).text.splitlines()
    assert _get(md_cloud, "/latest/meta-data/iam/", iid).text.splitlines() == \
        ["info", "security-credentials/"]
    info = json.loads(_get(md_cloud, "/latest/meta-data/iam/info", iid).text)
    assert info["Code"] == "Success" and info["InstanceProfileArn"] == profile["Arn"]
    assert info["InstanceProfileId"] == profile["InstanceProfileId"]
    assert _get(md_cloud, "/latest/meta-data/iam/security-credentials/", iid).text == \
        "web-role"
    creds = json.loads(_get(md_cloud, "/latest/meta-data/iam/security-credentials/web-role",
                            iid).text)
    assert creds["Code"] == "Success" and creds["Type"] == "AWS-HMAC"
    assert creds["AccessKeyId"].startswith("ASIA") and creds["Token"]
    assert creds["Expiration"].endswith("Z")
    # Asked again, the same credentials (they are far from expiry).
    again = json.loads(_get(md_cloud, "/latest/meta-data/iam/security-credentials/web-role",
                            iid).text)
    assert again["AccessKeyId"] == creds["AccessKeyId"]
    sts = boto3.client("sts", endpoint_url=md_cloud.url + "/services/Tokens",
                       region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["Token"], config=Config(retries={
                           "max_attempts": 1}))
    me = sts.get_caller_identity()
    assert me["Arn"].endswith(f":assumed-role/web-role/{iid}")
    # Without the profile's role (removed), the instance gets info but no credentials.
    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="web-role")
    assert _get(md_cloud, "/latest/meta-data/iam/security-credentials/web-role",
                iid).status_code == 404
    ec2.terminate_instances(InstanceIds=[iid])
