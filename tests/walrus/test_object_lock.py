"""Object Lock: configuration, retention modes, legal hold, protected version deletes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_objects import code, status


@pytest.fixture
def locked(s3: Any) -> str:
    name = "lock-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def test_configuration(s3: Any, locked: str, bucket: str) -> None:
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    conf = s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]
    assert conf["ObjectLockEnabled"] == "Enabled"
    rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": rule})
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]["Rule"] \
        == rule
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 0}}})
    assert code(exc) == "InvalidRetentionPeriod"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Suspended"})
    assert code(exc) == "InvalidBucketState"
    with pytest.raises(ClientError) as exc:
        s3.get_object_lock_configuration(Bucket=bucket)
    assert code(exc) == "ObjectLockConfigurationNotFoundError"
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled"})
    assert status(exc) == 409
    # Default retention applies to new versions.
    vid = s3.put_object(Bucket=locked, Key="d", Body=b"x")["VersionId"]
    head = s3.head_object(Bucket=locked, Key="d")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=locked, Key="d", VersionId=vid)
    s3.delete_object(Bucket=locked, Key="d", VersionId=vid, BypassGovernanceRetention=True)


def test_retention_and_legal_hold(s3: Any, locked: str) -> None:
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    vid = s3.put_object(Bucket=locked, Key="c", Body=b"x", ObjectLockMode="COMPLIANCE",
                        ObjectLockRetainUntilDate=until)["VersionId"]
    ret = s3.get_object_retention(Bucket=locked, Key="c", VersionId=vid)["Retention"]
    assert ret["Mode"] == "COMPLIANCE"
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=locked, Key="c", VersionId=vid, BypassGovernanceRetention=True)
    assert code(exc) == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=locked, Key="c", VersionId=vid, Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": until})
    assert code(exc) == "AccessDenied"
    marker = s3.delete_object(Bucket=locked, Key="c")  # a delete marker is always allowed
    assert marker["DeleteMarker"] is True
    r = s3.delete_objects(Bucket=locked, Delete={"Objects": [{"Key": "c", "VersionId": vid}]})
    assert r["Errors"][0]["Code"] == "AccessDenied"

    hv = s3.put_object(Bucket=locked, Key="h", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert s3.get_object_legal_hold(Bucket=locked, Key="h")["LegalHold"]["Status"] == "ON"
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=locked, Key="h", VersionId=hv["VersionId"])
    s3.put_object_legal_hold(Bucket=locked, Key="h", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked, Key="h", VersionId=hv["VersionId"])
    with pytest.raises(ClientError) as exc:
        s3.get_object_retention(Bucket=locked, Key="c", VersionId="nope")
    assert status(exc) == 404


def test_lock_headers_need_a_locked_bucket(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert code(exc) == "InvalidRequest"
