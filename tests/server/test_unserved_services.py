"""Services the cloud does not serve: absent from euca2ools.ini, and answered in their own
protocol ("not implemented") at their path and by SigV4 scope at ``/``."""

from __future__ import annotations

import configparser
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

#: boto3 client name, a harmless call, and the Eucalyptus path of the service.
UNSERVED = [
    ("cloudformation", "list_stacks", "/services/CloudFormation"),
]


def test_ini_lists_only_served_services(cloud: Any) -> None:
    """The written euca2ools.ini names every service the cloud serves, and nothing else."""
    cp = configparser.ConfigParser()
    cp.read(cloud.ini)
    region = next(s for s in cp.sections() if s.startswith("region "))
    urls = {k.removesuffix("-url"): v for k, v in cp[region].items() if k.endswith("-url")}
    assert set(urls) == {"ec2", "s3", "iam", "sts", "bootstrap", "autoscaling", "monitoring",
                         "properties", "elasticloadbalancing"}
    assert urls["ec2"] == cloud.url + "/services/compute"
    assert urls["bootstrap"] == cloud.url + "/services/Empyrean"
    for name, url in urls.items():  # each one answers as its service (not 404 / not S3)
        resp = requests.get(url, timeout=10)
        assert resp.status_code != 404 and resp.status_code != 501, (name, resp.text)


@pytest.mark.parametrize("service,call,path", UNSERVED)
@pytest.mark.parametrize("where", ["path", "root"])
def test_query_service_not_implemented(cloud: Any, service: str, call: str, path: str,
                                       where: str) -> None:
    """boto3 clients of unserved query-protocol services get NotImplemented (501), at the
    Eucalyptus path and at ``/`` by their SigV4 scope."""
    client = cloud.client(service, path=path if where == "path" else "/")
    with pytest.raises(ClientError) as err:
        getattr(client, call)()
    resp = err.value.response
    assert resp["Error"]["Code"] == "NotImplemented"
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "not available" in resp["Error"]["Message"]


def test_json_service_not_implemented(cloud: Any) -> None:
    """A JSON-protocol service by scope at ``/`` gets a JSON error boto3 parses."""
    client = cloud.client("logs", path="/")
    with pytest.raises(ClientError) as err:
        client.describe_log_groups()
    resp = err.value.response
    assert resp["Error"]["Code"] == "NotImplemented"
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_unknown_scope_and_unserved_path(cloud: Any) -> None:
    """A made-up scope service and the CloudFormation path are refused as not implemented, in
    the query protocol's XML, never by Walrus."""
    creds = cloud.credentials()
    req = AWSRequest("POST", cloud.url + "/", data={"Action": "DescribeThings",
                                                    "Version": "2020-01-01"})
    SigV4Auth(Credentials(creds["key"], creds["secret"]), "foo", "us-east-1").add_auth(req)
    resp = requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)
    assert resp.status_code == 501
    assert "<ErrorResponse>" in resp.text and "<Code>NotImplemented</Code>" in resp.text
    assert "foo service" in resp.text
    resp = requests.get(cloud.url + "/services/CloudFormation?Action=DescribeStacks", timeout=10)
    assert resp.status_code == 501 and "<Code>NotImplemented</Code>" in resp.text


def test_served_services_still_route_at_root(cloud: Any) -> None:
    """EC2, IAM, STS and S3 by scope at ``/`` are unaffected."""
    assert cloud.client("sts", path="/").get_caller_identity()["Account"]
    assert "Regions" in cloud.client("ec2", path="/").describe_regions()
    assert "Buckets" in cloud.client("s3", path="/").list_buckets()


def test_rpc_v2_cbor_service_not_implemented(cloud: Any) -> None:
    """A Smithy RPC v2 CBOR request for a service not served here gets a CBOR error that
    botocore's parser reads."""
    from botocore.parsers import RpcV2CBORParser

    creds = cloud.credentials()
    req = AWSRequest("POST", cloud.url + "/service/GraniteServiceVersion20100801/operation/"
                     "ListMetrics", data=b"\xa0",
                     headers={"smithy-protocol": "rpc-v2-cbor",
                              "content-type": "application/cbor", "accept": "application/cbor"})
    SigV4Auth(Credentials(creds["key"], creds["secret"]), "cloudformation",
              "us-east-1").add_auth(req)
    resp = requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)
    assert resp.status_code == 501 and resp.headers["content-type"] == "application/cbor"
    parsed = RpcV2CBORParser()._do_error_parse(
        {"body": resp.content, "headers": resp.headers, "status_code": 501}, None)
    assert parsed["Error"]["Code"] == "NotImplemented"
    assert "cloudformation" in parsed["Error"]["Message"]
