"""Image bundles: the cloud certificate, DescribeServiceCertificates, and unbundling.

The bundle is built here exactly as euca-bundle-image 3.x writes one (tar -> SHA-1 ->
gzip -> AES-128-CBC with the hex key and IV RSA-encrypted to the cloud certificate ->
parts + manifest), uploaded through S3, then rebuilt by the cloud's Python API.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from server.walrus import errors as e
from server.walrus.bundle import BundleError, parse_manifest


def make_bundle(image: bytes, name: str, cert_pem: bytes, part_size: int = 64 * 1024
                ) -> tuple[bytes, dict[str, bytes]]:
    """(manifest XML, {part filename: bytes}) in euca2ools' bundle format."""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(image)
        tar.addfile(info, io.BytesIO(image))
    tar_bytes = tar_buf.getvalue()
    digest = hashlib.sha1(tar_bytes).hexdigest()
    key, iv = os.urandom(16), os.urandom(16)
    padder = sym_padding.PKCS7(128).padder()
    plain = padder.update(gzip.compress(tar_bytes)) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    blob = enc.update(plain) + enc.finalize()
    public = x509.load_pem_x509_certificate(cert_pem).public_key()

    def wrap(value: bytes) -> str:
        return public.encrypt(value.hex().encode(), padding.PKCS1v15()).hex()  # type: ignore[union-attr]

    parts = {f"{name}.part.{i // part_size:02d}": blob[i:i + part_size]
             for i in range(0, len(blob), part_size)}
    part_xml = "".join(
        f'<part index="{n}"><filename>{fname}</filename>'
        f'<digest algorithm="SHA1">{hashlib.sha1(data).hexdigest()}</digest></part>'
        for n, (fname, data) in enumerate(parts.items()))
    manifest = (
        '<?xml version="1.0" ?><manifest><version>2007-10-10</version>'
        "<bundler><name>euca2ools</name><version>3.4.1</version><release>0</release></bundler>"
        "<machine_configuration><architecture>x86_64</architecture></machine_configuration>"
        f"<image><name>{name}</name><user>000000000000</user><type>machine</type>"
        f'<digest algorithm="SHA1">{digest}</digest><size>{len(image)}</size>'
        f"<bundled_size>{len(blob)}</bundled_size>"
        f'<ec2_encrypted_key algorithm="AES-128-CBC">{wrap(key)}</ec2_encrypted_key>'
        f"<user_encrypted_key algorithm=\"AES-128-CBC\"></user_encrypted_key>"
        f"<ec2_encrypted_iv>{wrap(iv)}</ec2_encrypted_iv><user_encrypted_iv></user_encrypted_iv>"
        f'<parts count="{len(parts)}">{part_xml}</parts></image>'
        "<signature>UNSIGNED</signature></manifest>")
    return manifest.encode(), parts


def test_certificate_in_ini_and_bootstrap(s3cloud: Any) -> None:
    ini = s3cloud.ini.read_text()
    cert_line = next(line for line in ini.splitlines() if line.startswith("certificate = "))
    pem = Path(cert_line.split(" = ", 1)[1]).read_bytes()
    x509.load_pem_x509_certificate(pem)
    resp = requests.get(f"{s3cloud.url}/services/Empyrean", timeout=10, params={
        "Action": "DescribeServiceCertificates", "Format": "pem",
        "FingerprintDigest": "SHA-256", "Version": "eucalyptus"})
    assert resp.status_code == 200, resp.text
    assert "<serviceType>compute</serviceType>" in resp.text
    assert "<certificateUsage>image-bundling</certificateUsage>" in resp.text
    assert "BEGIN CERTIFICATE" in resp.text


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: Any) -> Any:
    """An in-process cloud (no HTTP) for the Python API."""
    from server.cloud import Cloud
    from server.config import load

    data = tmp_path_factory.mktemp("cloud")
    c = Cloud(load(None, data_dir=str(data)))
    yield c
    c.engine.dispose()


def test_upload_register_unbundle(cloud: Any, tmp_path: Path) -> None:
    walrus = cloud.components["walrus"]
    image = os.urandom(300 * 1024 + 7)
    cert = Path(cloud.components["certificate_path"]).read_bytes()
    manifest, parts = make_bundle(image, "disk.img", cert)
    owner = cloud.identity.create_account("bundler")
    walrus.create_system_bucket("images", owner_account_id=owner.id)
    for fname, data in parts.items():
        (tmp_path / fname).write_bytes(data)
        walrus.put_object_from_file("images", f"disk/{fname}", str(tmp_path / fname))
    (tmp_path / "m.xml").write_bytes(manifest)
    walrus.put_object_from_file("images", "disk/disk.img.manifest.xml", str(tmp_path / "m.xml"))
    # RegisterImage's check: the registering account can read its manifest.
    assert walrus.read_object(owner.id, "images", "disk/disk.img.manifest.xml") == manifest
    stranger = cloud.identity.create_account("stranger")
    with pytest.raises(e.AccessDenied):
        walrus.read_object(stranger.id, "images", "disk/disk.img.manifest.xml")
    with pytest.raises(e.NoSuchKey):
        walrus.read_object(owner.id, "images", "disk/missing.manifest.xml")
    with pytest.raises(e.NoSuchBucket):
        walrus.read_object(owner.id, "nobucket", "x")
    assert walrus.read_manifest(owner.id, "images/disk/disk.img.manifest.xml").name == "disk.img"
    out = tmp_path / "image.out"
    result = walrus.unbundle_image("images", "disk/disk.img.manifest.xml", str(out))
    assert out.read_bytes() == image
    assert result.architecture == "x86_64" and result.size == len(image)


def test_tampered_bundle(cloud: Any, tmp_path: Path) -> None:
    walrus = cloud.components["walrus"]
    cert = Path(cloud.components["certificate_path"]).read_bytes()
    manifest, parts = make_bundle(b"x" * 5000, "t.img", cert, part_size=1024)
    walrus.create_system_bucket("tamper")
    for i, (fname, data) in enumerate(parts.items()):
        (tmp_path / fname).write_bytes(data if i else b"\0" + data[1:])
        walrus.put_object_from_file("tamper", fname, str(tmp_path / fname))
    (tmp_path / "m").write_bytes(manifest)
    walrus.put_object_from_file("tamper", "t.img.manifest.xml", str(tmp_path / "m"))
    with pytest.raises(BundleError):
        walrus.unbundle_image("tamper", "t.img.manifest.xml", str(tmp_path / "o"))
    with pytest.raises(BundleError):
        parse_manifest(b"<notamanifest/>")


def test_internal_api_round_trip(cloud: Any, tmp_path: Path) -> None:
    walrus = cloud.components["walrus"]
    walrus.create_system_bucket("snapshots-test")
    walrus.create_system_bucket("snapshots-test")  # idempotent
    src = tmp_path / "vol"
    data = os.urandom(12 * 1024 * 1024 + 1)
    src.write_bytes(data)
    etag = walrus.multipart_upload_from_file("snapshots-test", "snap-1", str(src),
                                             part_size=5 * 1024 * 1024)
    assert etag.endswith("-3")
    dest = tmp_path / "back"
    assert walrus.get_object_to_file("snapshots-test", "snap-1", str(dest)) == len(data)
    assert dest.read_bytes() == data
    assert walrus.put_object_from_file("snapshots-test", "small", str(src)) == \
        hashlib.md5(data).hexdigest()
    assert walrus.list_keys("snapshots-test") == ["small", "snap-1"]
    walrus.delete_object("snapshots-test", "snap-1")
    with pytest.raises(e.NoSuchKey):
        walrus.object_size("snapshots-test", "snap-1")
    with pytest.raises(e.BucketNotEmpty):
        walrus.delete_bucket("snapshots-test")
    walrus.delete_bucket("snapshots-test", force=True)
    with pytest.raises(e.NoSuchBucket):
        walrus.list_keys("snapshots-test")


async def _asgi_get(app: Any, url: str) -> tuple[int, bytes]:
    """GET through the ASGI app in-process (no socket)."""
    from urllib.parse import urlsplit

    u = urlsplit(url)
    scope = {"type": "http", "method": "GET", "path": u.path, "raw_path": u.path.encode(),
             "query_string": u.query.encode(), "headers": [(b"host", u.netloc.encode())],
             "client": ("127.0.0.1", 1)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def test_presigned_part_urls_for_nodes(cloud: Any, tmp_path: Path) -> None:
    walrus = cloud.components["walrus"]
    if "eucalyptus" not in cloud.identity.account_by_name:  # made at start by the CLC
        cloud.identity.create_account("eucalyptus")
    owner = cloud.identity.create_account("nodeuser")
    walrus.create_system_bucket("nc-parts", owner_account_id=owner.id)
    src = tmp_path / "p"
    src.write_bytes(b"part bytes")
    walrus.put_object_from_file("nc-parts", "img/disk.part.00", str(src))
    bucket = walrus.store.bucket("nc-parts")
    obj = walrus.store.head("nc-parts", "img/disk.part.00")
    from server.walrus import acl

    grant = acl.canned("aws-exec-read", owner.id, exec_account=walrus.exec_account)
    walrus.store.update_object(obj["id"], acl=__import__("json").dumps(grant))
    url = walrus.presign_get("nc-parts", "img/disk.part.00")
    assert await _asgi_get(cloud.app, url) == (200, b"part bytes")
    forged = url.replace("Signature=", "Signature=x")
    assert (await _asgi_get(cloud.app, forged))[0] == 403
    del bucket
