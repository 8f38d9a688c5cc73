"""Stored bucket configurations (logging, notification, ownership controls, acceleration,
request payment, website) and the static website endpoint."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from conftest import empty_bucket, make_s3
from test_objects import code, status


def _fresh(s3: Any) -> str:
    name = "c-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    return name


# -- logging -----------------------------------------------------------------------------------
def test_logging_enable_get_disable(s3cloud: Any, s3: Any, bucket: str) -> None:
    target = _fresh(s3)
    loose = make_s3(s3cloud, parameter_validation=False)  # lets an empty LoggingEnabled out
    try:
        owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": target, "TargetPrefix": "logs/",
            "TargetGrants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]},
                 "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "Group",
                             "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                 "Permission": "READ"}]}})
        got = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
        assert got["TargetBucket"] == target and got["TargetPrefix"] == "logs/"
        grants = {(g["Grantee"].get("ID") or g["Grantee"].get("URI"), g["Permission"])
                  for g in got["TargetGrants"]}
        assert grants == {(owner["ID"], "FULL_CONTROL"),
                          ("http://acs.amazonaws.com/groups/global/AllUsers", "READ")}
        # An empty LoggingEnabled, like an empty status, turns logging off.
        loose.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {}})
        assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": target, "TargetPrefix": ""}})
        assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]["TargetPrefix"] == ""
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
        assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    finally:
        empty_bucket(s3, target)


def test_logging_target_must_exist_and_be_ours(s3cloud: Any, s3: Any, other: dict[str, str],
                                               bucket: str) -> None:
    missing = "nope-" + uuid.uuid4().hex[:12]
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": missing, "TargetPrefix": "x"}})
    assert code(exc) == "InvalidTargetBucketForLogging" and status(exc) == 400
    o3 = make_s3(s3cloud, other["key"], other["secret"])
    theirs = _fresh(o3)
    try:
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
                "TargetBucket": theirs, "TargetPrefix": "x"}})
        assert code(exc) == "InvalidTargetBucketForLogging"
        # Only the owner reads or changes a bucket's logging.
        with pytest.raises(ClientError) as exc:
            o3.get_bucket_logging(Bucket=bucket)
        assert code(exc) == "AccessDenied"
        with pytest.raises(ClientError) as exc:
            o3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
        assert code(exc) == "AccessDenied"
    finally:
        empty_bucket(o3, theirs)


# -- notification ------------------------------------------------------------------------------
def test_notification_store_and_validate(s3: Any, bucket: str) -> None:
    assert set(s3.get_bucket_notification_configuration(Bucket=bucket)) == {"ResponseMetadata"}
    config = {"TopicConfigurations": [{
        "Id": "t1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:topic",
        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/"},
                                           {"Name": "suffix", "Value": ".jpg"}]}}}],
        "QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:123456789012:q",
                                 "Events": ["s3:ObjectTagging:Put"]}]}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    topic = got["TopicConfigurations"][0]
    assert topic["Id"] == "t1" and topic["Events"] == ["s3:ObjectCreated:*",
                                                       "s3:ObjectRemoved:Delete"]
    assert {r["Name"].lower(): r["Value"] for r in topic["Filter"]["Key"]["FilterRules"]} \
        == {"prefix": "img/", "suffix": ".jpg"}
    queue = got["QueueConfigurations"][0]
    assert queue["QueueArn"].endswith(":q") and queue["Id"]  # an Id is made up when absent
    for bad, err in (
            ({"Events": ["s3:ObjectCreated:Sideways"]}, "InvalidArgument"),
            ({"Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}},
             "InvalidArgument"),
            ({"TopicArn": "not-an-arn"}, "InvalidArgument")):
        rule = {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                "Events": ["s3:ObjectCreated:Put"], **bad}
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [rule]})
        assert code(exc) == err and status(exc) == 400
    # The rejected documents left the stored one alone; an empty one clears it.
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["TopicConfigurations"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "TopicConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


# -- ownership controls, acceleration, request payment -----------------------------------------
def test_ownership_controls(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert code(exc) == "OwnershipControlsNotFoundError" and status(exc) == 404
    for setting in ("BucketOwnerEnforced", "ObjectWriter", "BucketOwnerPreferred"):
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
            "Rules": [{"ObjectOwnership": setting}]})
        rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": setting}]
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
            "Rules": [{"ObjectOwnership": "Whoever"}]})
    assert code(exc) == "MalformedXML"
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert code(exc) == "OwnershipControlsNotFoundError"


def test_accelerate_and_request_payment(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    s3.put_bucket_accelerate_configuration(Bucket=bucket,
                                           AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_accelerate_configuration(Bucket=bucket,
                                               AccelerateConfiguration={"Status": "Fast"})
    assert code(exc) == "MalformedXML"
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_request_payment(Bucket=bucket,
                                      RequestPaymentConfiguration={"Payer": "Nobody"})
    assert code(exc) == "MalformedXML"
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"


# -- website configuration ---------------------------------------------------------------------
def test_website_config_round_trip_and_validation(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_website(Bucket=bucket)
    assert code(exc) == "NoSuchWebsiteConfiguration" and status(exc) == 404
    rules = [{"Condition": {"KeyPrefixEquals": "docs/"},
              "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
             {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
              "Redirect": {"HostName": "example.com", "HttpRedirectCode": "302"}}]
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"},
        "RoutingRules": rules})
    got = s3.get_bucket_website(Bucket=bucket)
    assert got["IndexDocument"] == {"Suffix": "index.html"}
    assert got["ErrorDocument"] == {"Key": "err.html"}
    assert got["RoutingRules"] == rules
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "example.org", "Protocol": "https"}})
    got = s3.get_bucket_website(Bucket=bucket)
    assert got["RedirectAllRequestsTo"] == {"HostName": "example.org", "Protocol": "https"}
    assert "IndexDocument" not in got
    for bad in ({"ErrorDocument": {"Key": "e.html"}},                       # no index
                {"IndexDocument": {"Suffix": "a/b.html"}},                  # slash in suffix
                {"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
                    {"Redirect": {"Protocol": "gopher"}}]},
                {"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
                    {"Redirect": {"HttpRedirectCode": "300"}}]},
                {"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
                    {"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}}]},
                {"IndexDocument": {"Suffix": "i.html"},
                 "RedirectAllRequestsTo": {"HostName": "x.org"}}):
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=bad)
        assert status(exc) == 400 and code(exc) in ("InvalidArgument", "InvalidRequest"), bad
    s3.delete_bucket_website(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_website(Bucket=bucket)
    assert code(exc) == "NoSuchWebsiteConfiguration"


# -- the website endpoint ----------------------------------------------------------------------
def _site(cloud: Any, bucket: str, path: str = "/", method: str = "GET",
          **headers: str) -> requests.Response:
    """A request to the bucket's website endpoint (Host: BUCKET.s3-website.localhost)."""
    return requests.request(method, cloud.url + path, allow_redirects=False, timeout=10,
                            headers={"Host": f"{bucket}.s3-website.localhost", **headers})


def _public(s3: Any, bucket: str, key: str, body: bytes, **extra: Any) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, ACL="public-read",
                  ContentType="text/html", **extra)


def test_website_endpoint_index_and_errors(s3cloud: Any, s3: Any, bucket: str) -> None:
    r = _site(s3cloud, "nope-" + uuid.uuid4().hex[:12])
    assert r.status_code == 404 and r.headers["x-amz-error-code"] == "NoSuchBucket"
    assert "<li>Code: NoSuchBucket</li>" in r.text
    r = _site(s3cloud, bucket)
    assert r.status_code == 404 and "NoSuchWebsiteConfiguration" in r.text
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}})
    # A private, empty bucket: anonymous callers may not learn what is missing.
    r = _site(s3cloud, bucket)
    assert r.status_code == 403 and r.headers["x-amz-error-code"] == "AccessDenied"
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    r = _site(s3cloud, bucket)
    assert r.status_code == 404 and r.headers["x-amz-error-code"] == "NoSuchKey"
    _public(s3, bucket, "index.html", b"<p>home</p>")
    _public(s3, bucket, "sub/index.html", b"<p>sub</p>")
    _public(s3, bucket, "page.html", b"<p>page</p>")
    s3.put_object(Bucket=bucket, Key="secret.html", Body=b"hidden")
    r = _site(s3cloud, bucket)
    assert r.status_code == 200 and r.content == b"<p>home</p>"
    assert r.headers["content-type"] == "text/html"
    assert _site(s3cloud, bucket, "/sub/").content == b"<p>sub</p>"
    assert _site(s3cloud, bucket, "/page.html").content == b"<p>page</p>"
    r = _site(s3cloud, bucket, "/sub")  # a "directory" without its slash
    assert r.status_code == 302 and r.headers["location"] == "/sub/"
    r = _site(s3cloud, bucket, "/page.html", "HEAD")
    assert r.status_code == 200 and r.headers["content-length"] == str(len(b"<p>page</p>"))
    r = _site(s3cloud, bucket, "/secret.html")
    assert r.status_code == 403 and "hidden" not in r.text
    r = _site(s3cloud, bucket, "/missing.html")
    assert r.status_code == 404 and r.headers["x-amz-error-code"] == "NoSuchKey"
    r = _site(s3cloud, bucket, "/page.html", "PUT")
    assert r.status_code == 405
    # Conditional requests work as on the REST endpoint.
    etag = s3.head_object(Bucket=bucket, Key="page.html")["ETag"]
    assert _site(s3cloud, bucket, "/page.html", **{"If-None-Match": etag}).status_code == 304
    # The error document stands in for error pages once it exists and is public.
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"}})
    s3.put_object(Bucket=bucket, Key="404.html", Body=b"<p>lost</p>")
    r = _site(s3cloud, bucket, "/missing.html")
    assert r.status_code == 404 and b"lost" not in r.content  # private: not used
    _public(s3, bucket, "404.html", b"<p>lost</p>")
    r = _site(s3cloud, bucket, "/missing.html")
    assert r.status_code == 404 and r.content == b"<p>lost</p>"
    r = _site(s3cloud, bucket, "/secret.html")
    assert r.status_code == 403 and r.content == b"<p>lost</p>"


def test_website_endpoint_redirects(s3cloud: Any, s3: Any, bucket: str) -> None:
    host = f"{bucket}.s3-website.localhost"
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "docs/"},
             "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
            {"Condition": {"KeyPrefixEquals": "images/"},
             "Redirect": {"ReplaceKeyWith": "gone.html", "HttpRedirectCode": "307"}},
            {"Condition": {"HttpErrorCodeReturnedEquals": "404", "KeyPrefixEquals": "old/"},
             "Redirect": {"HostName": "archive.example.com", "Protocol": "https",
                          "ReplaceKeyPrefixWith": "report-404/"}}]})
    r = _site(s3cloud, bucket, "/docs/a b.html")
    assert r.status_code == 301 and r.headers["location"] == f"http://{host}/documents/a%20b.html"
    assert r.content == b""
    r = _site(s3cloud, bucket, "/images/x.png")
    assert r.status_code == 307 and r.headers["location"] == f"http://{host}/gone.html"
    r = _site(s3cloud, bucket, "/old/page")
    assert r.status_code == 301
    assert r.headers["location"] == "https://archive.example.com/report-404/page"
    _public(s3, bucket, "old/here", b"still here")
    assert _site(s3cloud, bucket, "/old/here").content == b"still here"
    # An object's own redirect, for readers who may read it.
    _public(s3, bucket, "moved", b"x", WebsiteRedirectLocation="/elsewhere")
    r = _site(s3cloud, bucket, "/moved")
    assert r.status_code == 301 and r.headers["location"] == "/elsewhere"
    s3.put_object(Bucket=bucket, Key="moved-private", Body=b"x",
                  WebsiteRedirectLocation="http://example.com/")
    assert _site(s3cloud, bucket, "/moved-private").status_code == 403
    # Redirect everything, path kept.
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "www.example.net"}})
    r = _site(s3cloud, bucket, "/some/path")
    assert r.status_code == 301 and r.headers["location"] == "http://www.example.net/some/path"


def test_website_endpoint_honours_policy_and_regional_host(s3cloud: Any, s3: Any,
                                                           bucket: str) -> None:
    import json

    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}})
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"by policy")
    assert _site(s3cloud, bucket).status_code == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    assert _site(s3cloud, bucket).content == b"by policy"
    r = requests.get(s3cloud.url + "/", timeout=10, allow_redirects=False,
                     headers={"Host": f"{bucket}.s3-website-us-east-1.example.com"})
    assert r.status_code == 200 and r.content == b"by policy"
    # Signed REST requests on the ordinary endpoint are unaffected by the website.
    assert s3.get_object(Bucket=bucket, Key="index.html")["Body"].read() == b"by policy"


# -- access-log delivery -----------------------------------------------------------------------
def _wait_for_logs(s3: Any, target: str, prefix: str, count: int = 1) -> list[str]:
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=target, Prefix=prefix)
                .get("Contents", [])]
        if len(keys) >= count:
            return keys
        time.sleep(0.5)
    raise AssertionError(f"no access log under {target}/{prefix}")


def test_access_logs_are_delivered(s3cloud: Any, s3: Any, other: dict[str, str],
                                   bucket: str) -> None:
    target = _fresh(s3)
    try:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": target, "TargetPrefix": "access/",
            "TargetGrants": [{"Grantee": {"Type": "CanonicalUser", "ID": other["account"]},
                              "Permission": "READ"}]}})
        s3.put_object(Bucket=bucket, Key="dir/a file.txt", Body=b"12345")
        s3.get_object(Bucket=bucket, Key="dir/a file.txt")["Body"].read()
        with pytest.raises(ClientError):
            s3.get_object(Bucket=bucket, Key="absent")
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}})
        assert _site(s3cloud, bucket, "/dir/a file.txt").status_code == 403
        keys = _wait_for_logs(s3, target, "access/")
        text = "".join(s3.get_object(Bucket=target, Key=k)["Body"].read().decode()
                       for k in keys)
        lines = text.splitlines()
        put = next(line for line in lines if " REST.PUT.OBJECT " in line)
        assert f" {bucket} " in put and " dir/a%20file.txt " in put and '" 200 ' in put
        get = next(line for line in lines if " REST.GET.OBJECT dir/" in line)
        assert " 5 " in get  # bytes sent
        missing = next(line for line in lines if " REST.GET.OBJECT absent " in line)
        assert " 404 NoSuchKey " in missing
        site = next(line for line in lines if " WEBSITE.GET.OBJECT " in line)
        assert " dir/a%20file.txt " in site and " 403 AccessDenied " in site
        assert site.split(" ")[5] == "-"  # anonymous requester
        # The grantee of the configuration may read the log objects.
        o3 = make_s3(s3cloud, other["key"], other["secret"])
        assert o3.get_object(Bucket=target, Key=keys[0])["Body"].read()
        # Disabled: nothing more arrives for new requests (checked after a delivery round).
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
        s3.put_object(Bucket=bucket, Key="quiet", Body=b"")
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": target, "TargetPrefix": "second/",
            "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}})
        s3.head_object(Bucket=bucket, Key="quiet")
        key = _wait_for_logs(s3, target, "second/")[0]
        # PREFIX ACCOUNT/REGION/BUCKET/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-UNIQUE
        assert key.split("/")[3] == bucket and len(key.split("/")) == 8
        body = s3.get_object(Bucket=target, Key=key)["Body"].read().decode()
        assert "REST.HEAD.OBJECT quiet" in body
        everything = "".join(s3.get_object(Bucket=target, Key=k)["Body"].read().decode()
                             for k in _wait_for_logs(s3, target, ""))
        assert "REST.PUT.OBJECT quiet" not in everything
    finally:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
        empty_bucket(s3, target)
