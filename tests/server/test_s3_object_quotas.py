"""Eucalyptus' object quotas with boto3: s3:quota-bucketobjectnumber, s3:quota-bucketsize
and s3:quota-buckettotalsize are counted on PutObject, CopyObject and
CompleteMultipartUpload; a write over the limit is AccessDenied naming the quota."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from helpers import error_code, new_account
from test_authz_quotas import _doc, limit, put_account_policy
from test_authz_s3 import s3_client, user_with

MB = 1024 * 1024


def refused(call, key: str) -> None:
    """Assert the quota refusal: AccessDenied, 403, naming ``key``."""
    with pytest.raises(ClientError) as err:
        call()
    assert error_code(err) == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert key in err.value.response["Error"]["Message"]


def test_object_number_quota_counts_put_and_copy(cloud) -> None:
    """Objects of a bucket are capped by the account's quota; overwriting a key of an
    unversioned bucket adds nothing; a delete makes room again."""
    _, key, secret = new_account(cloud, "s3q-number")
    s3 = s3_client(cloud, key, secret)
    s3.create_bucket(Bucket="s3q-number")
    put_account_policy(cloud, "s3q-number", "objects",
                       _doc(limit("s3:PutObject", "s3:quota-bucketobjectnumber", 2)))
    s3.put_object(Bucket="s3q-number", Key="a", Body=b"a")
    s3.put_object(Bucket="s3q-number", Key="b", Body=b"b")
    s3.put_object(Bucket="s3q-number", Key="b", Body=b"bb")  # replaces: still 2
    refused(lambda: s3.put_object(Bucket="s3q-number", Key="c", Body=b"c"),
            "s3:quota-bucketobjectnumber")
    refused(lambda: s3.copy_object(Bucket="s3q-number", Key="c",
                                   CopySource={"Bucket": "s3q-number", "Key": "a"}),
            "s3:quota-bucketobjectnumber")
    s3.delete_object(Bucket="s3q-number", Key="a")
    s3.copy_object(Bucket="s3q-number", Key="c", CopySource={"Bucket": "s3q-number", "Key": "b"})
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="s3q-number")["Contents"]) == [
        "b", "c"]


def test_bucket_size_quota_counts_put_and_multipart(cloud) -> None:
    """A user's own quota of 1 MB per bucket: a PUT or a multipart completion that would
    pass it is refused, and nothing is stored."""
    _, key, secret = new_account(cloud, "s3q-size")
    iam = cloud.client("iam", key=key, secret=secret)
    s3_client(cloud, key, secret).create_bucket(Bucket="s3q-size")
    writer = user_with(cloud, iam, "writer", {
        "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Limit", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"NumericLessThanEquals": {"s3:quota-bucketsize": "1"}}})
    writer.put_object(Bucket="s3q-size", Key="half", Body=b"x" * (MB // 2))
    refused(lambda: writer.put_object(Bucket="s3q-size", Key="big", Body=b"x" * (MB // 2 + 1)),
            "s3:quota-bucketsize")
    writer.put_object(Bucket="s3q-size", Key="rest", Body=b"x" * (MB // 2))  # exactly 1 MB
    writer.delete_object(Bucket="s3q-size", Key="rest")
    upload = writer.create_multipart_upload(Bucket="s3q-size", Key="multi")["UploadId"]
    etag = writer.upload_part(Bucket="s3q-size", Key="multi", UploadId=upload, PartNumber=1,
                              Body=b"y" * (MB // 2 + 1))["ETag"]
    refused(lambda: writer.complete_multipart_upload(
        Bucket="s3q-size", Key="multi", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}), "s3:quota-bucketsize")
    with pytest.raises(ClientError) as err:
        writer.head_object(Bucket="s3q-size", Key="multi")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # The account's admin has no user quota of its own.
    s3_client(cloud, key, secret).put_object(Bucket="s3q-size", Key="admin",
                                             Body=b"z" * MB)


def test_total_size_quota_spans_the_accounts_buckets(cloud) -> None:
    """s3:quota-buckettotalsize adds up every bucket of the account."""
    _, key, secret = new_account(cloud, "s3q-total")
    s3 = s3_client(cloud, key, secret)
    for name in ("s3q-total-a", "s3q-total-b"):
        s3.create_bucket(Bucket=name)
    put_account_policy(cloud, "s3q-total", "total",
                       _doc(limit("s3:PutObject", "s3:quota-buckettotalsize", 1)))
    s3.put_object(Bucket="s3q-total-a", Key="a", Body=b"x" * (MB - 10))
    s3.put_object(Bucket="s3q-total-b", Key="b", Body=b"x" * 10)
    refused(lambda: s3.put_object(Bucket="s3q-total-b", Key="c", Body=b"x"),
            "s3:quota-buckettotalsize")


def test_object_quota_is_exact_under_concurrency(cloud) -> None:
    """16 concurrent PUTs of new keys against a quota of 5 objects: exactly 5 are stored
    (the count is taken again in the transaction that records each write)."""
    from concurrent.futures import ThreadPoolExecutor

    _, key, secret = new_account(cloud, "s3q-race")
    s3_client(cloud, key, secret).create_bucket(Bucket="s3q-race")
    put_account_policy(cloud, "s3q-race", "objects",
                       _doc(limit("s3:PutObject", "s3:quota-bucketobjectnumber", 5)))

    def put(n: int) -> str:
        s3 = s3_client(cloud, key, secret)
        try:
            s3.put_object(Bucket="s3q-race", Key=f"k{n}", Body=b"x" * 1000)
        except ClientError as err:
            return str(err.response["Error"]["Code"])
        return "ok"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(put, range(16)))
    assert outcomes.count("ok") == 5, outcomes
    assert set(outcomes) == {"ok", "AccessDenied"}
    listed = s3_client(cloud, key, secret).list_objects_v2(Bucket="s3q-race")
    assert listed["KeyCount"] == 5
