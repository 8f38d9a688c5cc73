"""S3 conformance of objects, multipart, versioning, tagging, CORS, listing, Object Lock
and lifecycle details (repeated Complete, x-amz-expiration, rule validation, ...)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import requests  # type: ignore[import-untyped]
from botocore.exceptions import ClientError
from cloudproc import CloudProcess, cleanup, new_cloud
from conftest import make_s3
from test_objects import code, status

# -- multipart -------------------------------------------------------------------------------


def _upload_one_part(s3: Any, bucket: str, key: str, body: bytes) -> tuple[str, list[Any]]:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1,
                          Body=body)["ETag"]
    return upload_id, [{"PartNumber": 1, "ETag": etag}]


def test_repeated_complete_answers_like_the_first(s3: Any, bucket: str) -> None:
    upload_id, parts = _upload_one_part(s3, bucket, "mp", b"x")
    first = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    again = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    assert again["ETag"] == first["ETag"]
    digest = hashlib.md5(hashlib.md5(b"x").digest()).hexdigest()
    assert first["ETag"] == f'"{digest}-1"'
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"x"
    # Once the object is replaced, the old upload is simply gone.
    s3.put_object(Bucket=bucket, Key="mp", Body=b"other")
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts})
    assert code(exc) == "NoSuchUpload"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId="0" * 48,
                                     MultipartUpload={"Parts": parts})
    assert code(exc) == "NoSuchUpload"


def test_repeated_complete_in_versioned_bucket_names_the_version(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    upload_id, parts = _upload_one_part(s3, bucket, "mp", b"abc")
    first = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    again = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    assert again["VersionId"] == first["VersionId"]
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == [first["VersionId"]]


def test_part_listed_twice_uses_the_stored_upload(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    old = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1,
                         Body=b"B" * 8)["ETag"]
    new = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1,
                         Body=b"A" * 8)["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": old}, {"PartNumber": 1, "ETag": new}]})
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"A" * 8


def test_parts_out_of_order_still_refused(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    parts = []
    for n in (1, 2):
        etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=n,
                              Body=str(n).encode() * (5 * 1024 * 1024))["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts[::-1]})
    assert code(exc) == "InvalidPartOrder"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": 1, "ETag": parts[1]["ETag"]}]})
    assert code(exc) == "InvalidPart"


# -- versioning --------------------------------------------------------------------------------


def test_suspended_bucket_writes_announce_no_version(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    upload_id, parts = _upload_one_part(s3, bucket, "mp", b"2")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
    assert "VersionId" not in done
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"3")["VersionId"] != "null"


# -- tagging, listing, Object Lock -----------------------------------------------------------


def test_header_tags_come_back_in_key_order(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"", Tagging="zeta=1&alpha&mid=x")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [
        {"Key": "alpha", "Value": ""}, {"Key": "mid", "Value": "x"},
        {"Key": "zeta", "Value": "1"}]


def test_list_v1_prefix_with_control_character(s3: Any, bucket: str) -> None:
    for key in ("a/b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    v1 = s3.list_objects(Bucket=bucket, Prefix="\n")
    assert v1["Prefix"] == "\n"
    assert "Contents" not in v1 and "CommonPrefixes" not in v1
    v2 = s3.list_objects_v2(Bucket=bucket, Prefix="\n")
    assert v2["Prefix"] == "\n"
    assert v2["KeyCount"] == 0
    assert s3.list_objects(Bucket=bucket, Prefix="a/")["Prefix"] == "a/"


def test_key_escapes_must_decode_to_utf8(s3: Any, s3cloud: CloudProcess, bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    url = f"{s3cloud.url}/services/objectstorage/{bucket}/"
    bad = requests.get(url + "%AE%8A-", timeout=10)
    assert bad.status_code == 400 and "<Code>InvalidURI</Code>" in bad.text
    # A valid (if odd) UTF-8 key is just a key: missing here, so 404.
    missing = requests.get(url + "%C2%AE%C2%8A-", timeout=10)
    assert missing.status_code == 404 and "<Code>NoSuchKey</Code>" in missing.text


def test_retention_mode_change_needs_bypass(s3: Any) -> None:
    name = "lockc-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    vid = s3.put_object(Bucket=name, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                        ObjectLockRetainUntilDate=until)["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=name, Key="k", Retention={
            "Mode": "COMPLIANCE", "RetainUntilDate": until})
    assert status(exc) == 403 and code(exc) == "AccessDenied"
    # Extending a GOVERNANCE retention in the same mode needs nothing special.
    s3.put_object_retention(Bucket=name, Key="k", Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": until + dt.timedelta(seconds=5)})
    s3.put_object_retention(Bucket=name, Key="k", BypassGovernanceRetention=True, Retention={
        "Mode": "COMPLIANCE", "RetainUntilDate": until + dt.timedelta(seconds=5)})
    assert s3.get_object_retention(Bucket=name, Key="k")["Retention"]["Mode"] == "COMPLIANCE"
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=name, Key="k", VersionId=vid, BypassGovernanceRetention=True)
    assert code(exc) == "AccessDenied"


# -- CORS ---------------------------------------------------------------------------------------


def test_cors_wildcard_origins_and_requested_method(s3: Any, s3cloud: CloudProcess,
                                                    bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*suffix"]},
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["start*end"]},
        {"AllowedMethods": ["PUT"], "AllowedOrigins": ["*.put"]}]})
    url = f"{s3cloud.url}/services/objectstorage/{bucket}"

    def allowed(method: str, target: str, **headers: str) -> tuple[int, Any, Any]:
        r = requests.request(method, target, headers=headers, timeout=10)
        return (r.status_code, r.headers.get("access-control-allow-origin"),
                r.headers.get("access-control-allow-methods"))

    assert allowed("GET", url, Origin="a.suffix") == (200, "a.suffix", "GET")
    assert allowed("GET", url, Origin="start12end") == (200, "start12end", "GET")
    assert allowed("GET", url, Origin="0start12end") == (200, None, None)
    assert allowed("GET", url, Origin="a.suffix.x") == (200, None, None)
    # An actual request naming Access-Control-Request-Method is matched as that method.
    assert allowed("PUT", url + "/o", Origin="a.suffix",
                   **{"Access-Control-Request-Method": "GET"}) == (403, "a.suffix", "GET")
    assert allowed("PUT", url + "/o", Origin="a.suffix") == (403, None, None)
    assert allowed("PUT", url + "/o", Origin="a.put") == (403, "a.put", "PUT")


# -- lifecycle ----------------------------------------------------------------------------------


def test_lifecycle_rule_without_id_gets_one(s3: Any, bucket: str) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"Expiration": {"Days": 3}, "Prefix": "a/", "Status": "Enabled"},
        {"ID": "named", "Expiration": {"Days": 4}, "Prefix": "b/", "Status": "Enabled"}]})
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules[0]["ID"] and rules[0]["ID"] != "named"
    assert rules[1]["ID"] == "named"
    # The generated ID is stored, not made up anew on every read.
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["ID"] \
        == rules[0]["ID"]


@pytest.mark.parametrize("rule", [
    {"Expiration": {"Date": dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)}},
    {"Expiration": {"Date": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
     "Transitions": [{"Date": dt.datetime(2029, 5, 5, 0, 55, 27, tzinfo=dt.UTC),
                      "StorageClass": "GLACIER"}]},
])
def test_lifecycle_dates_must_be_midnight(s3: Any, bucket: str, rule: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={
            "Rules": [{"ID": "r", "Prefix": "", "Status": "Enabled", **rule}]})
    assert status(exc) == 400 and code(exc) == "InvalidArgument"


def test_lifecycle_midnight_dates_accepted(s3: Any, bucket: str) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "r", "Prefix": "", "Status": "Enabled",
         "Expiration": {"Date": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
         "Transitions": [{"Date": dt.datetime(2029, 1, 1, tzinfo=dt.UTC),
                          "StorageClass": "GLACIER"}]}]})


def _expiration(headers: dict[str, str]) -> tuple[dt.datetime, str] | None:
    value = headers.get("x-amz-expiration")
    if value is None:
        return None
    m = re.fullmatch(r'expiry-date="([^"]+)", rule-id="([^"]+)"', value)
    assert m is not None, value
    return parsedate_to_datetime(m.group(1)), m.group(2)


def test_expiration_header_on_put_head_get_and_complete(s3: Any, bucket: str) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "short", "Expiration": {"Days": 1}, "Filter": {"Prefix": "d1/"},
         "Status": "Enabled"},
        {"ID": "off", "Expiration": {"Days": 1}, "Filter": {"Prefix": "off/"},
         "Status": "Disabled"}]})
    put = s3.put_object(Bucket=bucket, Key="d1/a", Body=b"x")
    got = _expiration(put["ResponseMetadata"]["HTTPHeaders"])
    assert got is not None
    when, rule_id = got
    assert rule_id == "short"
    # Creation time plus one day, rounded up to the next midnight UTC.
    assert (when.hour, when.minute, when.second) == (0, 0, 0)
    now = dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=1) <= when - now <= dt.timedelta(days=2)
    for answer in (s3.head_object(Bucket=bucket, Key="d1/a"),
                   s3.get_object(Bucket=bucket, Key="d1/a")):
        assert _expiration(answer["ResponseMetadata"]["HTTPHeaders"]) == got
    upload_id, parts = _upload_one_part(s3, bucket, "d1/mp", b"y")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="d1/mp", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
    assert _expiration(done["ResponseMetadata"]["HTTPHeaders"])[1] == "short"  # type: ignore[index]
    for key in ("other", "off/a"):
        answer = s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        assert _expiration(answer["ResponseMetadata"]["HTTPHeaders"]) is None


def test_expiration_header_date_rule_and_earliest_wins(s3: Any, bucket: str) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "far", "Expiration": {"Days": 3000}, "Prefix": "", "Status": "Enabled"},
        {"ID": "dated", "Expiration": {"Date": dt.datetime(2031, 3, 1, tzinfo=dt.UTC)},
         "Prefix": "x", "Status": "Enabled"}]})
    head = s3.put_object(Bucket=bucket, Key="x1", Body=b"")["ResponseMetadata"]["HTTPHeaders"]
    assert _expiration(head) == (dt.datetime(2031, 3, 1, tzinfo=dt.UTC), "dated")
    head = s3.put_object(Bucket=bucket, Key="y1", Body=b"")["ResponseMetadata"]["HTTPHeaders"]
    assert _expiration(head)[1] == "far"  # type: ignore[index]


def test_tag_filters_select_objects(s3: Any, bucket: str) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "tagged", "Filter": {"Tag": {"Key": "k1", "Value": "v1"}},
         "Expiration": {"Days": 1}, "Status": "Enabled"}]})
    s3.put_object(Bucket=bucket, Key="o", Body=b"")
    assert _expiration(s3.head_object(Bucket=bucket, Key="o")
                       ["ResponseMetadata"]["HTTPHeaders"]) is None
    s3.put_object_tagging(Bucket=bucket, Key="o", Tagging={"TagSet": [
        {"Key": "k1", "Value": "v1"}, {"Key": "k5", "Value": "v5"}]})
    assert _expiration(s3.head_object(Bucket=bucket, Key="o")
                       ["ResponseMetadata"]["HTTPHeaders"])[1] == "tagged"  # type: ignore[index]
    # Every tag of an And filter must be present with its value.
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "both", "Filter": {"And": {"Prefix": "o", "Tags": [
            {"Key": "k1", "Value": "v1"}, {"Key": "k5", "Value": "other"}]}},
         "Expiration": {"Days": 1}, "Status": "Enabled"}]})
    assert _expiration(s3.head_object(Bucket=bucket, Key="o")
                       ["ResponseMetadata"]["HTTPHeaders"]) is None
    rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert rule["Filter"] == {"And": {"Prefix": "o", "Tags": [
        {"Key": "k1", "Value": "v1"}, {"Key": "k5", "Value": "other"}]}}


# -- lifecycle passes with a short "day" --------------------------------------------------------

DAY_SECONDS = 2


@pytest.fixture(scope="module")
def quick_s3() -> Iterator[Any]:
    """A cloud whose lifecycle days last two seconds."""
    cloud = new_cloud(f"[cloud]\nwalrus_lifecycle_day_seconds = {DAY_SECONDS}\n")
    cloud.start()
    try:
        yield make_s3(cloud)
    finally:
        cleanup(cloud)


def _keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def _wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


def test_expiration_pass_honours_prefix_and_tags(quick_s3: Any) -> None:
    s3 = quick_s3
    name = "lc-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="gone/a", Body=b"")
    s3.put_object(Bucket=name, Key="keep/a", Body=b"")
    s3.put_object(Bucket=name, Key="t/tagged", Body=b"", Tagging="kind=tmp")
    s3.put_object(Bucket=name, Key="t/plain", Body=b"")
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "p", "Filter": {"Prefix": "gone/"}, "Expiration": {"Days": 1},
         "Status": "Enabled"},
        {"ID": "t", "Filter": {"Tag": {"Key": "kind", "Value": "tmp"}},
         "Expiration": {"Days": 1}, "Status": "Enabled"},
        {"ID": "late", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": 30},
         "Status": "Enabled"}]})
    # One day (rounded up to a day boundary) plus a pass interval.
    assert _wait_for(lambda: _keys(s3, name) == ["keep/a", "t/plain"], 4 * DAY_SECONDS)
    time.sleep(DAY_SECONDS)
    assert _keys(s3, name) == ["keep/a", "t/plain"]


def test_noncurrent_versions_and_uploads_expire(quick_s3: Any) -> None:
    s3 = quick_s3
    name = "lcv-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"1", b"2", b"3"):
        s3.put_object(Bucket=name, Key="v", Body=body)
    s3.create_multipart_upload(Bucket=name, Key="up")
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "nc", "Prefix": "", "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})

    def settled() -> bool:
        versions = s3.list_object_versions(Bucket=name).get("Versions", [])
        uploads = s3.list_multipart_uploads(Bucket=name).get("Uploads", [])
        return len(versions) == 1 and not uploads
    assert _wait_for(settled, 4 * DAY_SECONDS)
    assert s3.get_object(Bucket=name, Key="v")["Body"].read() == b"3"
