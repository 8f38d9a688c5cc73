"""Instance-store images end to end against a real eucalyptus-cloud (Walrus S3 + EC2).

A random ~25 MiB image (three parts) is bundled with the cloud's certificate from the
euca2ools.ini the cloud writes, uploaded, registered, downloaded and unbundled with the
cloud's key, and must come back byte-identical; the other commands are checked the same
way, plus the bootstrap certificate lookup and the error cases.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudproc import CloudProcess, running_cloud

from euca2ools.bundle.manifest import Manifest

BIN = Path(sys.executable).parent
IMAGE_SIZE = 25 * 1024 * 1024 + 4321


@pytest.fixture(scope="module")
def bcloud() -> Iterator[CloudProcess]:
    """A cloud of our own (its data dir holds the cloud key for unbundling)."""
    with running_cloud() as c:
        yield c


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random image of IMAGE_SIZE bytes."""
    path = tmp_path_factory.mktemp("img") / "random.img"
    path.write_bytes(os.urandom(IMAGE_SIZE))
    return path


def _keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def _cloud_key(cloud: CloudProcess) -> str:
    return str(cloud.data_dir / "cloud-pk.pem")


def test_bundle_upload_register_download_unbundle(euca, bcloud: CloudProcess, image: Path,  # type: ignore[no-untyped-def]
                                                  tmp_path: Path) -> None:
    """The whole instance-store path; the image comes back byte-identical."""
    ini = bcloud.ini
    out = tmp_path / "bundle"
    proc = euca("euca-bundle-image", "-i", str(image), "-r", "x86_64", "-d", str(out),
                "-p", "img1", ini=ini)
    manifest_path = out / "img1.manifest.xml"
    assert proc.stdout == f"Wrote manifest {manifest_path}\n"
    manifest = Manifest.from_xml(manifest_path.read_bytes())
    assert len(manifest.parts) == 3 and manifest.size == IMAGE_SIZE
    assert manifest.user == bcloud.credentials()["account"]  # from the user's account-id
    proc = euca("euca-upload-bundle", "-b", "images/v1", "-m", str(manifest_path), ini=ini)
    assert proc.stdout == "Uploaded images/v1/img1.manifest.xml\n"
    s3 = bcloud.client("s3")
    assert _keys(s3, "images") == ["v1/img1.manifest.xml", "v1/img1.part.00",
                                   "v1/img1.part.01", "v1/img1.part.02"]
    grants = s3.get_object_acl(Bucket="images", Key="v1/img1.part.00")["Grants"]
    assert grants and all(g["Permission"] in ("FULL_CONTROL", "READ") for g in grants)
    proc = euca("euca-register", "images/v1/img1.manifest.xml", "-n", "bundled-1", ini=ini)
    image_id = proc.stdout.split()[1]
    assert re.fullmatch(r"IMAGE\temi-[0-9a-f]{8}\n", proc.stdout)
    described = euca("euca-describe-images", image_id, ini=ini).stdout
    assert "images/v1/img1.manifest.xml" in described and "x86_64" in described

    down = tmp_path / "down"
    proc = euca("euca-download-bundle", "-b", "images/v1", "-p", "img1", "-d", str(down),
                ini=ini)
    assert proc.stdout == f"Wrote manifest {down / 'img1.manifest.xml'}\n"
    assert sorted(p.name for p in down.iterdir()) == sorted(p.name for p in out.iterdir())
    for part in manifest.parts:
        assert (down / part.filename).read_bytes() == (out / part.filename).read_bytes()
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    proc = euca("euca-unbundle", "-m", str(down / "img1.manifest.xml"), "-s", str(down),
                "-d", str(rebuilt), "-k", _cloud_key(bcloud), ini=ini)
    assert proc.stdout == f"Wrote {rebuilt / 'img1'}\n"
    assert (rebuilt / "img1").read_bytes() == image.read_bytes()

    # Streamed straight from S3 through the unbundling pipeline, no part files.
    streamed = tmp_path / "streamed.img"
    proc = euca("euca-download-and-unbundle", "-b", "images/v1", "-m", "img1.manifest.xml",
                "-d", str(streamed), "-k", _cloud_key(bcloud), ini=ini)
    assert proc.stdout == f"Wrote {streamed}\n"
    assert streamed.read_bytes() == image.read_bytes()

    # The cloud decrypts what it was given (Walrus' own unbundler).
    walrus = tmp_path / "walrus.img"
    from cryptography.hazmat.primitives import serialization

    from server.walrus.bundle import unbundle
    from server.walrus.certs import KEY_FILE

    key = serialization.load_pem_private_key((bcloud.data_dir / KEY_FILE).read_bytes(), None)
    with open(walrus, "wb") as handle:
        unbundle(manifest_path.read_bytes(),
                 lambda name: [s3.get_object(Bucket="images", Key=f"v1/{name}")["Body"].read()],
                 handle, key)
    assert walrus.read_bytes() == image.read_bytes()

    # euca-delete-bundle removes parts and manifest; --clear then the bucket.
    proc = euca("euca-delete-bundle", "-b", "images/v1", "-p", "img1", ini=ini)
    assert proc.stdout == ""
    assert _keys(s3, "images") == []
    proc = euca("euca-delete-bundle", "-b", "images/v1", "-p", "img1", "--clear", ini=ini)
    assert "images" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_install_image(euca, bcloud: CloudProcess, image: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Bundle, upload and register in one go; the staged parts are removed."""
    ini = bcloud.ini
    stage = tmp_path / "stage"
    proc = euca("euca-install-image", "-i", str(image), "-r", "x86_64", "-b", "installed",
                "-n", "installed-1", "--description", "one go", "-d", str(stage),
                "--max-pending-parts", "1", ini=ini)
    assert re.fullmatch(r"IMAGE\temi-[0-9a-f]{8}\n", proc.stdout), proc.stdout
    image_id = proc.stdout.split()[1]
    assert list(stage.iterdir()) == []
    described = euca("euca-describe-images", image_id, ini=ini).stdout
    assert "installed/random.img.manifest.xml" in described
    s3 = bcloud.client("s3")
    assert _keys(s3, "installed") == ["random.img.manifest.xml", "random.img.part.00",
                                      "random.img.part.01", "random.img.part.02"]
    out = tmp_path / "out"
    out.mkdir()
    euca("euca-download-and-unbundle", "-b", "installed", "-p", "random.img", "-d", str(out),
         "-k", _cloud_key(bcloud), ini=ini)
    assert (out / "random.img").read_bytes() == image.read_bytes()


def test_bundle_and_upload_preserving(euca, bcloud: CloudProcess, image: Path,  # type: ignore[no-untyped-def]
                                      tmp_path: Path) -> None:
    """--preserve-bundle keeps the local files; the upload matches them."""
    stage = tmp_path / "stage"
    proc = euca("euca-bundle-and-upload-image", "-i", str(image), "-r", "i386", "-p", "kept",
                "-b", "preserved/a/b", "-d", str(stage), "--preserve-bundle", ini=bcloud.ini)
    assert proc.stdout == "Uploaded preserved/a/b/kept.manifest.xml\n"
    s3 = bcloud.client("s3")
    for name in sorted(p.name for p in stage.iterdir()):
        body = s3.get_object(Bucket="preserved", Key=f"a/b/{name}")["Body"].read()
        assert body == (stage / name).read_bytes()
    # The whole bundle to stdout: the concatenated parts, checked against the manifest.
    manifest = Manifest.from_xml((stage / "kept.manifest.xml").read_bytes())
    proc = subprocess.run([str(BIN / "euca-download-bundle"), "-b", "preserved/a/b", "-p",
                           "kept", "-d", "-"], env={**euca.env, "EUCA_CONFIG_PATH": str(bcloud.ini)},
                          capture_output=True, check=True, timeout=120)
    assert proc.stdout == b"".join((stage / p.filename).read_bytes() for p in manifest.parts)
    assert len(proc.stdout) == manifest.bundled_size and proc.stderr == b""


def test_certificate_from_bootstrap(euca, bcloud: CloudProcess, image: Path,  # type: ignore[no-untyped-def]
                                    tmp_path: Path) -> None:
    """Without a certificate option, DescribeServiceCertificates supplies it; without a
    bootstrap URL either, the error names what to set."""
    text = bcloud.ini.read_text()
    no_cert = tmp_path / "no-cert.ini"
    no_cert.write_text("\n".join(line for line in text.splitlines()
                                 if not line.startswith("certificate")) + "\n")
    out = tmp_path / "out"
    euca("euca-bundle-image", "-i", str(image), "-r", "x86_64", "-d", str(out), ini=no_cert)
    manifest = Manifest.from_xml((out / "random.img.manifest.xml").read_bytes())
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(Path(_cloud_key(bcloud)).read_bytes(), None)
    assert len(manifest.decrypt_key(key)[0]) == 16  # type: ignore[arg-type]
    bare = tmp_path / "bare.ini"
    bare.write_text("\n".join(line for line in text.splitlines()
                              if not line.startswith(("certificate", "bootstrap-url"))) + "\n")
    proc = euca("euca-bundle-image", "-i", str(image), "-r", "x86_64", "-d",
                str(tmp_path / "none"), ini=bare, check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("euca-bundle-image: error: missing cloud certificate; "
                                  "please supply one with --ec2cert, the EUCALYPTUS_CERT")
    # --bootstrap-url on the command line works as the option does.
    base = bcloud.url
    euca("euca-bundle-image", "-i", str(image), "-r", "x86_64", "-d", str(tmp_path / "bs"),
         "--bootstrap-url", f"{base}/services/Empyrean", ini=bare)
    assert (tmp_path / "bs" / "random.img.manifest.xml").exists()


def test_errors(euca, bcloud: CloudProcess, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Missing bundles and parts: one line, the S3 error code, exit 1."""
    ini = bcloud.ini
    proc = euca("euca-download-bundle", "-b", "nobucket-here", "-p", "x", "-d", str(tmp_path),
                ini=ini, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("euca-download-bundle: error (NoSuchBucket): ")
    proc = euca("euca-download-bundle", "-b", "nobucket-here", "-d", str(tmp_path), ini=ini,
                check=False)
    assert proc.returncode == 2 and "one of the arguments" in proc.stderr
    manifest = tmp_path / "m.manifest.xml"
    manifest.write_text("<manifest><image><name>m</name><parts count='1'><part index='0'>"
                        "<filename>m.part.00</filename><digest>00</digest></part></parts>"
                        "</image></manifest>")
    proc = euca("euca-upload-bundle", "-b", "somebucket", "-m", str(manifest), ini=ini,
                check=False)
    assert proc.returncode == 1
    assert proc.stderr == (f"euca-upload-bundle: error: part file {tmp_path / 'm.part.00'} is "
                           "missing (use -d to say where the parts are)\n")


def test_upload_with_a_policy(euca, bcloud: CloudProcess, image: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--upload-policy-file + signature + -I: POST form uploads without the secret key."""
    import base64
    import hashlib
    import hmac
    import json

    creds = bcloud.credentials()
    s3 = bcloud.client("s3")
    s3.create_bucket(Bucket="granted")
    policy = json.dumps({"expiration": "2099-01-01T00:00:00Z",
                         "conditions": [{"bucket": "granted"}, ["starts-with", "$key", "up/"],
                                        {"acl": "ec2-bundle-read"}]})
    (tmp_path / "policy.json").write_text(policy)
    encoded = base64.b64encode(policy.encode())
    signature = base64.b64encode(hmac.new(creds["secret"].encode(), encoded,
                                          hashlib.sha1).digest()).decode()
    out = tmp_path / "b"
    euca("euca-bundle-image", "-i", str(image), "-r", "x86_64", "-d", str(out), "-p", "pol",
         ini=bcloud.ini)
    # Only the key ID: an ini without the secret proves the secret is not needed.
    no_secret = tmp_path / "no-secret.ini"
    no_secret.write_text("\n".join(line for line in bcloud.ini.read_text().splitlines()
                                   if not line.startswith("secret-key")) + "\n")
    proc = euca("euca-upload-bundle", "-b", "granted/up", "-m", str(out / "pol.manifest.xml"),
                "--acl", "ec2-bundle-read", "-I", creds["key"], "--upload-policy-file",
                str(tmp_path / "policy.json"), "--upload-policy-signature", signature,
                ini=no_secret)
    assert proc.stdout == "Uploaded granted/up/pol.manifest.xml\n"
    assert _keys(s3, "granted") == ["up/pol.manifest.xml", "up/pol.part.00", "up/pol.part.01",
                                    "up/pol.part.02"]
    streamed = tmp_path / "pol.img"
    euca("euca-download-and-unbundle", "-b", "granted/up", "-p", "pol", "-d", str(streamed),
         "-k", _cloud_key(bcloud), ini=bcloud.ini)
    assert streamed.read_bytes() == image.read_bytes()
    # A policy the signature does not match: S3's error, one line.
    proc = euca("euca-upload-bundle", "-b", "granted/up", "-m", str(out / "pol.manifest.xml"),
                "-I", creds["key"], "--upload-policy", policy, "--upload-policy-signature",
                "AAAA" + signature, ini=no_secret, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("euca-upload-bundle: error (SignatureDoesNotMatch): ")
    proc = euca("euca-upload-bundle", "-b", "granted/up", "-m", str(out / "pol.manifest.xml"),
                "--upload-policy", policy, "--upload-policy-signature", signature,
                ini=no_secret, check=False)
    assert proc.returncode == 2
    assert "-I/--access-key-id is required when using an upload policy" in proc.stderr


def test_install_kernel_and_machine(euca, bcloud: CloudProcess, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A kernel (--kernel true) and a machine image that names it; no compute URL fails
    before anything is uploaded."""
    ini = bcloud.ini
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(os.urandom(300_000))
    proc = euca("euca-install-image", "-i", str(kernel), "-r", "x86_64", "--kernel", "true",
                "-b", "kernels", "-n", "kernel-1", "-d", str(tmp_path / "k"), ini=ini)
    kernel_id = proc.stdout.split()[1]
    s3 = bcloud.client("s3")
    body = s3.get_object(Bucket="kernels", Key="vmlinuz.manifest.xml")["Body"].read()
    assert Manifest.from_xml(body).image_type == "kernel"
    # The cloud reads the image type from the manifest.
    assert kernel_id.startswith("eki-"), proc.stdout
    disk = tmp_path / "disk.img"
    disk.write_bytes(os.urandom(200_000))
    proc = euca("euca-install-image", "-i", str(disk), "-r", "x86_64", "--kernel", kernel_id,
                "-b", "machines", "-n", "machine-1", "-d", str(tmp_path / "m"), ini=ini)
    image_id = proc.stdout.split()[1]
    line = euca("euca-describe-images", image_id, ini=ini).stdout.splitlines()[0]
    assert kernel_id in line.split("\t")
    no_ec2 = tmp_path / "no-ec2.ini"
    no_ec2.write_text("\n".join(x for x in ini.read_text().splitlines()
                                if not x.startswith("ec2-url")) + "\n")
    proc = euca("euca-install-image", "-i", str(disk), "-r", "x86_64", "-b", "never-made",
                "-n", "machine-2", "-d", str(tmp_path / "n"), ini=no_ec2, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("euca-install-image: error: No ec2 endpoint to connect to")
    assert "never-made" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_tampered_part_in_s3(euca, bcloud: CloudProcess, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A part changed in S3 fails its digest on download and on download-and-unbundle."""
    ini = bcloud.ini
    disk = tmp_path / "t.img"
    disk.write_bytes(os.urandom(300_000))
    euca("euca-bundle-and-upload-image", "-i", str(disk), "-r", "x86_64", "-b", "tampered",
         "-d", str(tmp_path / "stage"), "--part-size", "100k", ini=ini)
    s3 = bcloud.client("s3")
    body = bytearray(s3.get_object(Bucket="tampered", Key="t.img.part.01")["Body"].read())
    body[10] ^= 0xFF
    s3.put_object(Bucket="tampered", Key="t.img.part.01", Body=bytes(body))
    down = tmp_path / "down"
    proc = euca("euca-download-bundle", "-b", "tampered", "-p", "t.img", "-d", str(down),
                ini=ini, check=False)
    assert proc.returncode == 1
    assert proc.stderr == ("euca-download-bundle: error: part t.img.part.01 is corrupt: its "
                           "SHA-1 does not match the manifest\n")
    assert sorted(p.name for p in down.iterdir()) == ["t.img.part.00"]
    out = tmp_path / "out"
    out.mkdir()
    proc = euca("euca-download-and-unbundle", "-b", "tampered", "-p", "t.img", "-d", str(out),
                "-k", _cloud_key(bcloud), ini=ini, check=False)
    assert proc.returncode == 1 and "t.img.part.01 is corrupt" in proc.stderr
    assert list(out.iterdir()) == []


def test_upload_debug_and_skipmanifest(euca, bcloud: CloudProcess, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--debug lists the parts too; --skipmanifest uploads (and lists) only the parts."""
    disk = tmp_path / "d.img"
    disk.write_bytes(os.urandom(250_000))
    out = tmp_path / "out"
    euca("euca-bundle-image", "-i", str(disk), "-r", "x86_64", "-d", str(out), "--part-size",
         "100k", ini=bcloud.ini)
    proc = euca("euca-upload-bundle", "-b", "debugged", "-m", str(out / "d.img.manifest.xml"),
                "--debug", ini=bcloud.ini)
    assert proc.stdout.splitlines() == ["Uploaded debugged/d.img.part.00",
                                        "Uploaded debugged/d.img.part.01",
                                        "Uploaded debugged/d.img.part.02",
                                        "Uploaded debugged/d.img.manifest.xml"]
    proc = euca("euca-upload-bundle", "-b", "skipped", "-m", str(out / "d.img.manifest.xml"),
                "--skipmanifest", ini=bcloud.ini)
    assert proc.stdout == ""
    assert _keys(bcloud.client("s3"), "skipped") == ["d.img.part.00", "d.img.part.01",
                                                     "d.img.part.02"]


def test_delete_clear_without_manifest(euca, bcloud: CloudProcess) -> None:  # type: ignore[no-untyped-def]
    """--clear still removes an (empty) bucket whose bundle manifest is gone; without
    --clear a missing manifest is S3's NoSuchKey."""
    s3 = bcloud.client("s3")
    s3.create_bucket(Bucket="leftover")
    proc = euca("euca-delete-bundle", "-b", "leftover", "-p", "gone", ini=bcloud.ini,
                check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("euca-delete-bundle: error (NoSuchKey): ")
    euca("euca-delete-bundle", "-b", "leftover", "-p", "gone", "--clear", ini=bcloud.ini)
    assert "leftover" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
