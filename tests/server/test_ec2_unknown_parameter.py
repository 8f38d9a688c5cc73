"""EC2 refuses parameters an action does not have with AWS's UnknownParameter (400),
checked against AWS's own EC2 API model; Eucalyptus' extensions stay accepted. Requests
are signed by botocore (boto3 itself refuses to send an unknown parameter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import ec2_query, put_manifest

AWS = str(Path(sys.executable).parent / "aws")


def _error(resp) -> tuple[int, str, str]:
    text = resp.text
    code = text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in text else ""
    message = text.split("<Message>")[1].split("</Message>")[0] if "<Message>" in text else ""
    return resp.status_code, code, message


def test_unknown_parameters_are_refused(cloud) -> None:
    """A misspelt or foreign parameter is UnknownParameter naming it; list members and
    structures are checked by their top-level name."""
    status, code, message = _error(ec2_query(cloud, "DescribeInstances",
                                             {"InstanceIds.1": "i-12345678"}))
    assert (status, code) == (400, "UnknownParameter")
    assert message == "The parameter InstanceIds is not recognized"
    status, code, _ = _error(ec2_query(cloud, "DescribeKeyPairs", {"Bogus": "1"}))
    assert (status, code) == (400, "UnknownParameter")
    # Known names, flattened lists and filters pass.
    ok = ec2_query(cloud, "DescribeInstances", {"Filter.1.Name": "instance-state-name",
                                                "Filter.1.Value.1": "running",
                                                "MaxResults": "5"})
    assert ok.status_code == 200, ok.text
    # A parameter of another action is not this one's.
    status, code, message = _error(ec2_query(cloud, "DescribeRegions", {"ImageId": "emi-1"}))
    assert (status, code) == (400, "UnknownParameter") and "ImageId" in message


def test_eucalyptus_extensions_are_accepted(cloud) -> None:
    """Parameters Eucalyptus adds (RegisterImage's Platform, DescribeInstanceTypes'
    Availability, RunInstances' AddressingType) and its own actions are not refused."""
    location = put_manifest(cloud, "unknown-param/img.manifest.xml")
    resp = ec2_query(cloud, "RegisterImage", {"ImageLocation": location, "Name": "img-x",
                                              "Platform": "windows"})
    assert resp.status_code == 200, resp.text
    resp = ec2_query(cloud, "DescribeInstanceTypes", {"Availability": "true"})
    assert resp.status_code == 200, resp.text
    resp = ec2_query(cloud, "DescribeAvailabilityZones", {"ZoneName.1": "verbose"})
    assert resp.status_code == 200, resp.text


def test_awscli_calls_pass(cloud) -> None:
    """awscli sends what AWS's model declares: its calls are unaffected."""
    env = {k: v for k, v in cloud.env().items() if not k.startswith("AWS_")}
    creds = cloud.credentials()
    env.update(AWS_ACCESS_KEY_ID=creds["key"], AWS_SECRET_ACCESS_KEY=creds["secret"],
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    for args in (["describe-instances", "--max-results", "5"],
                 ["describe-images", "--owners", "self"],
                 ["describe-security-groups", "--filters", "Name=group-name,Values=default"]):
        proc = subprocess.run([AWS, "--endpoint-url", cloud.url + "/services/compute",
                               "ec2", *args], capture_output=True, text=True, env=env,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
