"""The instance-store image path end to end with the project's euca2ools commands:
euca-bundle-image -> euca-upload-bundle -> the cloud decrypts and rebuilds the image ->
euca-download-bundle -> euca-unbundle -> euca-delete-bundle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
COMMANDS = ("euca-bundle-image", "euca-upload-bundle", "euca-download-bundle", "euca-unbundle",
            "euca-delete-bundle")

pytestmark = pytest.mark.skipif(not all((BIN / c).exists() for c in COMMANDS),
                                reason="euca2ools bundle commands are not installed")


def euca(cloud: Any, *args: str) -> str:
    """Run a euca2ools command against the cloud."""
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True,
                          env=cloud.env(), timeout=300)
    assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def _server_side_unbundle(cloud: Any, bucket: str, manifest_key: str, out: Path) -> None:
    """What the NC will do: read the bundle from Walrus' store and decrypt it with the
    cloud key (a second reader of the running server's database)."""
    from cryptography.hazmat.primitives import serialization

    from server.db.store import make_engine
    from server.walrus.bundle import unbundle
    from server.walrus.provider import FilesystemProvider
    from server.walrus.sse import plaintext
    from server.walrus.store import WalrusStore

    data = Path(cloud.data_dir)
    engine = make_engine(f"sqlite:///{data / 'cloud.db'}")
    store = WalrusStore(engine, FilesystemProvider(str(data / "walrus")), lambda: 0.0)

    def read(key: str) -> Any:
        obj = store.head(bucket, key)
        return plaintext(store.provider, json.loads(obj["blobs"]), None, 0, obj["size"],
                         1 << 20)

    key = serialization.load_pem_private_key((data / "cloud-pk.pem").read_bytes(), None)
    folder = manifest_key.rsplit("/", 1)[0] + "/"
    with open(out, "wb") as fh:
        unbundle(b"".join(read(manifest_key)), lambda name: read(folder + name), fh, key)
    engine.dispose()


def test_bundle_upload_unbundle_delete(s3cloud: Any, s3: Any, tmp_path: Path) -> None:
    if s3cloud.database:
        pytest.skip("the server-side check reads the SQLite database directly")
    image = tmp_path / "disk.img"
    image.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    bundle_dir = tmp_path / "bundle"
    bundle_dir.mkdir()
    assert "Wrote manifest" in euca(s3cloud, "euca-bundle-image", "-i", str(image), "-r",
                                    "x86_64", "-d", str(bundle_dir))
    manifest = bundle_dir / "disk.img.manifest.xml"
    out = euca(s3cloud, "euca-upload-bundle", "-b", "cli-images/disk", "-m", str(manifest))
    assert "Uploaded cli-images/disk/disk.img.manifest.xml" in out
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="cli-images")["Contents"]]
    assert "disk/disk.img.manifest.xml" in keys and "disk/disk.img.part.00" in keys

    rebuilt = tmp_path / "rebuilt.img"
    _server_side_unbundle(s3cloud, "cli-images", "disk/disk.img.manifest.xml", rebuilt)
    assert rebuilt.read_bytes() == image.read_bytes()

    down = tmp_path / "down"
    down.mkdir()
    euca(s3cloud, "euca-download-bundle", "-b", "cli-images/disk", "-p", "disk.img", "-d",
         str(down))
    unbundled = tmp_path / "unbundled"
    unbundled.mkdir()
    euca(s3cloud, "euca-unbundle", "-m", str(down / "disk.img.manifest.xml"), "-s", str(down),
         "-d", str(unbundled), "-k", str(Path(s3cloud.data_dir) / "cloud-pk.pem"))
    assert (unbundled / "disk.img").read_bytes() == image.read_bytes()

    euca(s3cloud, "euca-delete-bundle", "-b", "cli-images/disk", "-p", "disk.img", "--clear")
    assert "cli-images" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    shutil.rmtree(bundle_dir)
