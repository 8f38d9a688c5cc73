"""Crash safety: a killed upload leaves no object and no garbage; acknowledged data survives."""

from __future__ import annotations

import http.client
import os
import time
from typing import Any

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cloudproc import cleanup, new_cloud
from conftest import make_s3


def _files(root: str) -> list[str]:
    out = []
    for dirpath, _, names in os.walk(root):
        out += [os.path.join(dirpath, n) for n in names]
    return out


def test_kill_during_upload() -> None:
    cloud = new_cloud().start()
    try:
        s3 = make_s3(cloud)
        s3.create_bucket(Bucket="crash")
        s3.put_object(Bucket="crash", Key="kept", Body=b"acknowledged")
        creds = cloud.credentials()
        size = 64 * 1024 * 1024
        req = AWSRequest("PUT", f"{cloud.url}/services/objectstorage/crash/torn",
                         headers={"Content-Length": str(size),
                                  "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})

        class Unsigned(S3SigV4Auth):
            def payload(self, request: Any) -> str:
                return "UNSIGNED-PAYLOAD"

        Unsigned(Credentials(creds["key"], creds["secret"]), "s3", "us-east-1").add_auth(req)
        conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=30)
        conn.putrequest("PUT", "/services/objectstorage/crash/torn", skip_host=True)
        conn.putheader("Host", f"127.0.0.1:{cloud.port}")
        for k, v in req.headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        block = os.urandom(1024 * 1024)
        for _ in range(20):  # a third of the body, then the server dies
            conn.send(block)
        time.sleep(0.5)
        tmp_dir = os.path.join(cloud.data_dir, "walrus", "tmp")
        assert _files(tmp_dir), "the partial upload should be in a temporary file"
        cloud.kill()
        conn.close()
        cloud.start()
        s3 = make_s3(cloud)
        assert s3.get_object(Bucket="crash", Key="kept")["Body"].read() == b"acknowledged"
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="crash")["Contents"]]
        assert keys == ["kept"]
        assert _files(tmp_dir) == []
        assert len(_files(os.path.join(cloud.data_dir, "walrus", "blobs"))) == 1
    finally:
        cleanup(cloud)
