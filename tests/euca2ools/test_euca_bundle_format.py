"""The bundle format without a server: euca-bundle-image output checked field by field.

A ~25 MiB random image is bundled once (three 10 MiB parts) with a generated "cloud" and
"user" key pair; the manifest, the part digests, the RSA-wrapped key and IV, the
signature and the AES/gzip/tar layers are then taken apart independently, and the
commands that read bundles (euca-unbundle, euca-unbundle-stream) are run against it.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

from euca2ools.bundle.manifest import Manifest
from euca2ools.commands.bundle import filesize

BIN = Path(sys.executable).parent
IMAGE_SIZE = 25 * 1024 * 1024 + 12345
MiB = 1024 * 1024


def make_identity(directory: Path, name: str) -> tuple[Path, Path, Any]:
    """A self-signed RSA certificate and its key: (cert path, key path, private key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}-cert.pem", directory / f"{name}-pk.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, key


class Keys:
    """The cloud's and the user's certificates and keys."""

    def __init__(self, directory: Path) -> None:
        self.cloud_cert, self.cloud_key_path, self.cloud_key = make_identity(directory, "cloud")
        self.user_cert, self.user_key_path, self.user_key = make_identity(directory, "user")
        self.other_cert, self.other_key_path, _ = make_identity(directory, "other")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """Generated identities for the module."""
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random image of IMAGE_SIZE bytes."""
    path = tmp_path_factory.mktemp("image") / "disk.img"
    path.write_bytes(os.urandom(IMAGE_SIZE))
    return path


@pytest.fixture(scope="module")
def bundle(euca, keys: Keys, image: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """The bundle directory written by euca-bundle-image (signed, user and cloud copies)."""
    out = tmp_path_factory.mktemp("bundle")
    proc = euca("euca-bundle-image", "-i", str(image), "-r", "x86_64", "-d", str(out),
                "--ec2cert", str(keys.cloud_cert), "-c", str(keys.user_cert),
                "-k", str(keys.user_key_path), "-u", "1234-5678-9012",
                "-B", "ami=sda1,root=/dev/sda1,ephemeral0=sda2", "--productcodes", "pc1,pc2",
                "--kernel", "eki-12345678", "--ramdisk", "eri-12345678")
    assert proc.stdout == f"Wrote manifest {out / 'disk.img.manifest.xml'}\n"
    assert proc.stderr == ""  # no progress bar when stdout is not a terminal
    return out


def _manifest(bundle: Path) -> ET.Element:
    return ET.fromstring((bundle / "disk.img.manifest.xml").read_bytes())


def _decrypt_hex(key: Any, hex_text: str) -> bytes:
    text = key.decrypt(bytes.fromhex(hex_text), padding.PKCS1v15()).decode("ascii")
    assert len(text) == 32  # the hex text of the 128-bit value, as openssl -K takes it
    return bytes.fromhex(text)


def _parts(bundle: Path) -> bytes:
    return b"".join((bundle / f"disk.img.part.{i:02d}").read_bytes() for i in range(3))


def test_files_and_manifest_fields(bundle: Path, image: Path) -> None:
    """Three parts of 10 MiB (the last shorter) and every manifest field euca2ools writes."""
    names = sorted(p.name for p in bundle.iterdir())
    assert names == ["disk.img.manifest.xml", "disk.img.part.00", "disk.img.part.01",
                     "disk.img.part.02"]
    sizes = [(bundle / n).stat().st_size for n in names[1:]]
    assert sizes[:2] == [10 * MiB, 10 * MiB] and 0 < sizes[2] <= 10 * MiB
    root = _manifest(bundle)
    assert root.tag == "manifest"
    assert [c.tag for c in root] == ["version", "bundler", "machine_configuration", "image",
                                     "signature"]
    assert root.findtext("version") == "2007-10-10"
    assert root.findtext("bundler/name") == "euca2ools"
    assert root.findtext("bundler/release") == "0"
    config = root.find("machine_configuration")
    assert config is not None
    assert config.findtext("architecture") == "x86_64"
    assert [(m.findtext("virtual"), m.findtext("device"))
            for m in config.findall("block_device_mapping/mapping")] == [
        ("ami", "sda1"), ("root", "/dev/sda1"), ("ephemeral0", "sda2")]
    assert [c.text for c in config.findall("product_codes/product_code")] == ["pc1", "pc2"]
    assert config.findtext("kernel_id") == "eki-12345678"
    assert config.findtext("ramdisk_id") == "eri-12345678"
    img = root.find("image")
    assert img is not None
    assert [c.tag for c in img] == ["name", "user", "type", "digest", "size", "bundled_size",
                                    "ec2_encrypted_key", "user_encrypted_key",
                                    "ec2_encrypted_iv", "user_encrypted_iv", "parts"]
    assert img.findtext("name") == "disk.img"
    assert img.findtext("user") == "123456789012"  # dashes stripped
    assert img.findtext("type") == "machine"
    assert img.find("digest").get("algorithm") == "SHA1"  # type: ignore[union-attr]
    assert img.findtext("size") == str(IMAGE_SIZE)
    assert img.findtext("bundled_size") == str(sum(sizes))
    assert img.find("ec2_encrypted_key").get("algorithm") == "AES-128-CBC"  # type: ignore[union-attr]
    assert img.find("user_encrypted_key").get("algorithm") == "AES-128-CBC"  # type: ignore[union-attr]
    parts = img.find("parts")
    assert parts is not None and parts.get("count") == "3"
    for index, part in enumerate(parts.findall("part")):
        assert part.get("index") == str(index)
        name = f"disk.img.part.{index:02d}"
        assert part.findtext("filename") == name
        assert part.find("digest").get("algorithm") == "SHA1"  # type: ignore[union-attr]
        assert part.findtext("digest") == hashlib.sha1((bundle / name).read_bytes()).hexdigest()


def test_layers_decrypt_with_the_cloud_key(bundle: Path, image: Path, keys: Keys) -> None:
    """AES-128-CBC (PKCS#7) -> gzip -> one tar member named after the prefix; SHA-1 of the tar."""
    img = _manifest(bundle).find("image")
    assert img is not None
    key = _decrypt_hex(keys.cloud_key, img.findtext("ec2_encrypted_key") or "")
    iv = _decrypt_hex(keys.cloud_key, img.findtext("ec2_encrypted_iv") or "")
    assert _decrypt_hex(keys.user_key, img.findtext("user_encrypted_key") or "") == key
    assert _decrypt_hex(keys.user_key, img.findtext("user_encrypted_iv") or "") == iv
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = sym_padding.PKCS7(128).unpadder()
    padded = decryptor.update(_parts(bundle)) + decryptor.finalize()
    tar_bytes = gzip.decompress(unpadder.update(padded) + unpadder.finalize())
    assert hashlib.sha1(tar_bytes).hexdigest() == img.findtext("digest")
    assert len(tar_bytes) % 10240 == 0  # padded to whole tar records, as tarfile does
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["disk.img"]
        data = tar.extractfile(members[0]).read()  # type: ignore[union-attr]
    assert data == image.read_bytes()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_enc_compatible(bundle: Path, keys: Keys) -> None:
    """``openssl enc -d -aes-128-cbc -K KEY -iv IV`` reads the parts (euca2ools 3.x made them so)."""
    img = _manifest(bundle).find("image")
    assert img is not None
    key = _decrypt_hex(keys.cloud_key, img.findtext("ec2_encrypted_key") or "")
    iv = _decrypt_hex(keys.cloud_key, img.findtext("ec2_encrypted_iv") or "")
    proc = subprocess.run(["openssl", "enc", "-d", "-aes-128-cbc", "-K", key.hex(), "-iv",
                           iv.hex()], input=_parts(bundle), capture_output=True, check=True)
    assert hashlib.sha1(gzip.decompress(proc.stdout)).hexdigest() == img.findtext("digest")


def test_signature_covers_configuration_and_image(bundle: Path, keys: Keys) -> None:
    """RSA-SHA1 by the user's key over machine_configuration + image as serialized."""
    data = (bundle / "disk.img.manifest.xml").read_bytes()
    start = data.index(b"<machine_configuration>")
    end = data.index(b"<signature>")
    signed = data[start:end]
    signature = bytes.fromhex(_manifest(bundle).findtext("signature") or "")
    keys.user_key.public_key().verify(signature, signed, padding.PKCS1v15(), hashes.SHA1())
    # The same bytes come back from re-serializing the parsed manifest.
    assert Manifest.from_xml(data).signed_data() == signed


def test_the_cloud_side_rebuilds_it(bundle: Path, image: Path, keys: Keys) -> None:
    """The server's own unbundler (Walrus) decrypts it with the cloud key."""
    from server.walrus.bundle import unbundle

    out = io.BytesIO()
    manifest = unbundle((bundle / "disk.img.manifest.xml").read_bytes(),
                        lambda name: [(bundle / name).read_bytes()], out, keys.cloud_key)
    assert manifest.size == IMAGE_SIZE and manifest.kernel_id == "eki-12345678"
    assert out.getvalue() == image.read_bytes()


@pytest.mark.parametrize("which", ["user", "cloud"])
def test_unbundle_with_either_key(euca, bundle: Path, image: Path, keys: Keys, tmp_path: Path,  # type: ignore[no-untyped-def]
                                  which: str) -> None:
    """euca-unbundle decrypts with the user's copy or falls back to the cloud's."""
    key = keys.user_key_path if which == "user" else keys.cloud_key_path
    proc = euca("euca-unbundle", "-m", str(bundle / "disk.img.manifest.xml"),
                "-d", str(tmp_path), "-k", str(key))
    assert proc.stdout == f"Wrote {tmp_path / 'disk.img'}\n"
    assert (tmp_path / "disk.img").read_bytes() == image.read_bytes()


def test_unbundle_key_from_environment(euca, bundle: Path, image: Path, keys: Keys,  # type: ignore[no-untyped-def]
                                       tmp_path: Path) -> None:
    """EUCA_PRIVATE_KEY beats EC2_PRIVATE_KEY; parts are found beside the manifest."""
    proc = euca("euca-unbundle", "-m", str(bundle / "disk.img.manifest.xml"),
                "-d", str(tmp_path), env={"EUCA_PRIVATE_KEY": str(keys.user_key_path),
                                          "EC2_PRIVATE_KEY": str(keys.other_key_path)})
    assert (tmp_path / "disk.img").read_bytes() == image.read_bytes(), proc.stderr


def test_unbundle_with_the_wrong_key(euca, bundle: Path, keys: Keys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A key that is neither the user's nor the cloud's: one line, exit 1, no output file."""
    proc = euca("euca-unbundle", "-m", str(bundle / "disk.img.manifest.xml"),
                "-d", str(tmp_path), "-k", str(keys.other_key_path), check=False)
    assert proc.returncode == 1
    assert proc.stderr == (f"euca-unbundle: error: cannot decrypt the bundle's key with private "
                           f"key {keys.other_key_path}: it is not the key of the user or cloud "
                           "certificate the bundle was made for\n")
    assert list(tmp_path.iterdir()) == []


def test_unbundle_corrupt_part(euca, bundle: Path, keys: Keys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A changed part fails its digest check and leaves nothing behind."""
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    part = copy / "disk.img.part.01"
    data = bytearray(part.read_bytes())
    data[1000] ^= 1
    part.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    proc = euca("euca-unbundle", "-m", str(copy / "disk.img.manifest.xml"), "-s", str(copy),
                "-d", str(out), "-k", str(keys.user_key_path), check=False)
    assert proc.returncode == 1
    assert proc.stderr == ("euca-unbundle: error: part disk.img.part.01 is corrupt: its SHA-1 "
                           "does not match the manifest\n")
    assert list(out.iterdir()) == []


def test_stdin_and_unbundle_stream(euca, keys: Keys, image: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Bundle stdin with a fixed key and IV; euca-unbundle-stream reads the joined parts."""
    key, iv = "00112233445566778899aabbccddeeff", "0f0e0d0c0b0a09080706050403020100"
    data = image.read_bytes()[:3 * MiB]
    src = tmp_path / "src.img"
    src.write_bytes(data)
    out = tmp_path / "b"
    with open(src, "rb") as handle:
        proc = subprocess.run(
            [str(BIN / "euca-bundle-image"), "-i", "-", "-p", "streamed", "--image-size", "3m", "-r", "i386", "-d", str(out),
             "--ec2cert", str(keys.cloud_cert), "-u", "111122223333", "--enc-key", key,
             "--enc-iv", iv, "--part-size", "1m"],
            stdin=handle, env=euca.env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    manifest = Manifest.from_xml((out / "streamed.manifest.xml").read_bytes())
    assert len(manifest.parts) == 4 and manifest.signature == "UNSIGNED"
    assert manifest.user_encrypted_key == "" and manifest.size == 3 * MiB
    assert manifest.architecture == "i386"
    joined = tmp_path / "joined"
    joined.write_bytes(b"".join((out / p.filename).read_bytes() for p in manifest.parts))
    result = tmp_path / "result.img"
    euca("euca-unbundle-stream", "-i", str(joined), "-o", str(result), "--enc-key", key,
         "--enc-iv", iv, "--image-size", str(3 * MiB), "--sha1-digest", manifest.digest)
    assert result.read_bytes() == data
    # stdin to stdout
    with open(joined, "rb") as handle:
        piped = subprocess.run([str(BIN / "euca-unbundle-stream"), "--enc-key", key,
                                "--enc-iv", iv], stdin=handle,
                               env=euca.env, capture_output=True, check=True)
    assert piped.stdout == data
    bad = euca("euca-unbundle-stream", "-i", str(joined), "-o", str(tmp_path / "bad"),
               "--enc-key", key, "--enc-iv", iv, "--sha1-digest", "0" * 40, check=False)
    assert bad.returncode == 1 and "SHA-1 does not match" in bad.stderr
    assert not (tmp_path / "bad").exists()
    wrong = euca("euca-unbundle-stream", "-i", str(joined), "-o", str(tmp_path / "bad"),
                 "--enc-key", "ff" * 16, "--enc-iv", iv, check=False)
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1
    assert "wrong key or IV" in wrong.stderr


def test_stdin_needs_prefix_and_size(euca, keys: Keys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Bundling stdin without --prefix/--image-size is a usage error; a short stream an error."""
    proc = euca("euca-bundle-image", "-i", "-", "-r", "x86_64", "--ec2cert",
                str(keys.cloud_cert), "-u", "1", input="x", check=False)
    assert proc.returncode == 2
    assert "--prefix and --image-size are required" in proc.stderr
    proc = euca("euca-bundle-image", "-i", "-", "-r", "x86_64", "-p", "short", "--image-size",
                "10", "-d", str(tmp_path), "--ec2cert", str(keys.cloud_cert), "-u", "1",
                input="12345", check=False)
    assert proc.returncode == 1
    assert proc.stderr == ("euca-bundle-image: error: the image ended after 5 of its stated 10 "
                           "bytes\n")
    assert list(tmp_path.iterdir()) == []  # no parts left behind


def test_kernel_image(euca, keys: Keys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--kernel true marks the image a kernel; an empty image still makes one part."""
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"")
    euca("euca-bundle-image", "-i", str(kernel), "-r", "x86_64", "--kernel", "true",
         "-d", str(tmp_path / "out"), env={"EUCALYPTUS_CERT": str(keys.cloud_cert),
                                           "EC2_USER_ID": "999988887777"})
    manifest = Manifest.from_xml((tmp_path / "out" / "vmlinuz.manifest.xml").read_bytes())
    assert manifest.image_type == "kernel" and manifest.kernel_id == ""
    assert manifest.user == "999988887777" and len(manifest.parts) == 1
    out = tmp_path / "un"
    out.mkdir()
    euca("euca-unbundle", "-m", str(tmp_path / "out" / "vmlinuz.manifest.xml"), "-d", str(out),
         "-k", str(keys.cloud_key_path))
    assert (out / "vmlinuz").read_bytes() == b""


def test_missing_cloud_certificate(euca, image: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No --ec2cert, EUCALYPTUS_CERT, region certificate or bootstrap: one line naming them."""
    proc = euca("euca-bundle-image", "-i", str(image), "-r", "x86_64", "-u", "1",
                "-d", str(tmp_path), check=False)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("euca-bundle-image: error: missing cloud "
                                                   "certificate")
    for name in ("--ec2cert", "EUCALYPTUS_CERT", "certificate", "--bootstrap-url"):
        assert name in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_old_reader_spellings() -> None:
    """Manifests with block_device_mappings/block_device_mapping and productcodes parse too."""
    xml = (b"<manifest><machine_configuration><architecture>i386</architecture>"
           b"<block_device_mappings><block_device_mapping><virtual>ami</virtual>"
           b"<device>sda1</device></block_device_mapping></block_device_mappings>"
           b"<productcodes><product_code>p</product_code></productcodes>"
           b"</machine_configuration><image><name>n</name><size>3</size><parts count='1'>"
           b"<part index='0'><filename>n.part.00</filename><digest>AB</digest></part>"
           b"</parts></image><signature>UNSIGNED</signature></manifest>")
    manifest = Manifest.from_xml(xml)
    assert manifest.block_device_mappings == [("ami", "sda1")]
    assert manifest.product_codes == ["p"] and manifest.parts[0].digest == "ab"


@pytest.mark.parametrize("text,value", [("10", 10), ("1k", 1024), ("10m", 10 * MiB),
                                        ("10MiB", 10 * MiB), ("2G", 2 * 1024 ** 3),
                                        ("1t", 1024 ** 4), ("1.5m", int(1.5 * MiB))])
def test_filesize(text: str, value: int) -> None:
    assert filesize(text) == value


@pytest.mark.parametrize("text", ["", "m", "ten", "-1k"])
def test_filesize_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        filesize(text)


@pytest.mark.parametrize("size", [0, 1, 32 * 1024, MiB - 1, MiB, MiB + 1, 3 * MiB + 17])
@pytest.mark.parametrize("kind", ["random", "text"])
def test_parallel_gzip_is_one_gzip_member(size: int, kind: str) -> None:
    """Blocks deflated on threads join into one member that plain zlib/gzip reads."""
    import zlib

    from euca2ools.bundle.pipeline import ParallelGzip

    data = os.urandom(size) if kind == "random" else \
        (b"the quick brown fox %d\n" * (size // 20 + 1))[:size]
    gz = ParallelGzip(6, threads=3)
    out = b"".join(gz.compress(data[i:i + 300_000]) for i in range(0, len(data), 300_000))
    out += gz.flush()
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert inflate.decompress(out) == data
    assert inflate.eof and inflate.unused_data == b""
    assert gzip.decompress(out) == data
    if kind == "text" and size > MiB:
        assert len(out) < size // 10  # the dictionary carries across blocks


def _peak_rss_mib(argv: list[str], env: dict[str, str]) -> float:
    """Run ``argv`` under a fresh interpreter and return its peak RSS in MiB."""
    probe = ("import resource, subprocess, sys\n"
             "rc = subprocess.run(sys.argv[1:]).returncode\n"
             "assert rc == 0, rc\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n")
    proc = subprocess.run([sys.executable, "-c", probe, *argv], env=env, capture_output=True,
                          text=True, timeout=300, check=True)
    return float(proc.stdout.splitlines()[-1])


def test_memory_stays_bounded(euca, keys: Keys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A 512 MiB image (sparse: it deflates ~1000:1) bundles and unbundles in < 150 MiB."""
    image = tmp_path / "sparse.img"
    with open(image, "wb") as handle:
        handle.truncate(512 * MiB)
        handle.seek(512 * MiB)
        handle.write(b"end")
    out = tmp_path / "out"
    rss = _peak_rss_mib([str(BIN / "euca-bundle-image"), "-i", str(image), "-r", "x86_64",
                         "-d", str(out), "--ec2cert", str(keys.cloud_cert), "-u", "1"], euca.env)
    assert rss < 150, rss
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    rss = _peak_rss_mib([str(BIN / "euca-unbundle"), "-m", str(out / "sparse.img.manifest.xml"),
                         "-d", str(rebuilt), "-k", str(keys.cloud_key_path)], euca.env)
    assert rss < 150, rss
    result = rebuilt / "sparse.img"
    try:
        assert result.stat().st_size == 512 * MiB + 3
        with open(result, "rb") as handle:
            handle.seek(512 * MiB - 5)
            assert handle.read() == b"\0\0\0\0\0end"
    finally:
        result.unlink()  # pytest keeps recent tmp dirs: do not leave 512 MiB behind


@pytest.mark.parametrize("flag,tty,shown", [(None, True, True), ("--no-progress", True, False),
                                            ("--progress", False, True), (None, False, False)])
def test_progress_bar(euca, keys: Keys, image: Path, tmp_path: Path, flag: str | None,  # type: ignore[no-untyped-def]
                      tty: bool, shown: bool) -> None:
    """A bar on stderr by default when stdout is a terminal; --progress/--no-progress decide."""
    import pty

    argv = [str(BIN / "euca-bundle-image"), "-i", str(image), "-r", "x86_64", "-d",
            str(tmp_path), "--ec2cert", str(keys.cloud_cert), "-u", "1"] + ([flag] if flag else [])
    master, slave = pty.openpty() if tty else (None, None)
    try:
        proc = subprocess.run(argv, env=euca.env, stdout=slave if tty else subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=120, check=True)
    finally:
        for fd in (master, slave):
            if fd is not None:
                os.close(fd)
    err = proc.stderr.decode()
    if shown:
        assert err.startswith("\rBundling disk.img ") and err.endswith("\n")
        assert " 100% |" + "#" * 30 + "| 25.0 MiB " in err
    else:
        assert err == ""


def test_keys_from_the_config(euca, keys: Keys, image: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--region USER@REGION picks the region's cloud certificate and the user's account ID,
    certificate and private key from euca2ools.ini; EC2_* variables beat the config."""
    ini = tmp_path / "euca2ools.ini"
    ini.write_text(f"[region lab]\ncertificate = {keys.cloud_cert}\n\n"
                   f"[user alice]\naccount-id = 4444-5555-6666\ncertificate = {keys.user_cert}\n"
                   f"private-key = {keys.user_key_path}\n")
    small = tmp_path / "small.img"
    small.write_bytes(image.read_bytes()[:100_000])
    out = tmp_path / "out"
    euca("euca-bundle-image", "-i", str(small), "-r", "x86_64", "-d", str(out),
         "--region", "alice@lab", ini=ini)
    data = (out / "small.img.manifest.xml").read_bytes()
    manifest = Manifest.from_xml(data)
    assert manifest.user == "444455556666"
    assert manifest.decrypt_key(keys.user_key) == manifest.decrypt_key(keys.cloud_key)
    signature = bytes.fromhex(manifest.signature)
    keys.user_key.public_key().verify(signature, manifest.signed_data(), padding.PKCS1v15(),
                                      hashes.SHA1())
    # The user's private-key also unbundles.
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    euca("euca-unbundle", "-m", str(out / "small.img.manifest.xml"), "-d", str(rebuilt),
         "--region", "alice@lab", ini=ini)
    assert (rebuilt / "small.img").read_bytes() == small.read_bytes()
    # Environment variables win over the config.
    euca("euca-bundle-image", "-i", str(small), "-r", "x86_64", "-d", str(tmp_path / "env"),
         "--region", "alice@lab", ini=ini,
         env={"EC2_USER_ID": "777788889999", "EC2_CERT": str(keys.other_cert),
              "EUCA_PRIVATE_KEY": str(keys.other_key_path)})
    manifest = Manifest.from_xml((tmp_path / "env" / "small.img.manifest.xml").read_bytes())
    assert manifest.user == "777788889999"
    from euca2ools.bundle.keys import load_private_key

    other = load_private_key(str(keys.other_key_path))
    assert manifest.decrypt_key(other) == manifest.decrypt_key(keys.cloud_key)


@pytest.mark.parametrize("method,bucket,key,query,body,headers", [
    ("PUT", "images", "v1/disk.img.part.00", None, b"x" * 1000, {"x-amz-acl": "aws-exec-read"}),
    ("GET", "images", "my imäge+1=%.manifest.xml", None, b"", {}),
    ("HEAD", "a-bucket", "", None, b"", {}),
    ("DELETE", "b", "k/with/slashes and ~tilde", {"versionId": "v 1"}, b"", {}),
    ("PUT", "b", "", None, b"<CreateBucketConfiguration/>", {"Content-Type": "text/xml"}),
])
def test_s3_signature_agrees_with_botocore(method: str, bucket: str, key: str,
                                           query: dict[str, str] | None, body: bytes,
                                           headers: dict[str, str]) -> None:
    """The bundle commands' S3 SigV4 signer signs exactly as botocore's S3SigV4Auth."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from euca2ools.bundle.s3 import S3Client, sign_v4
    from euca2ools.config import Credentials as EucaCredentials
    from euca2ools.config import Endpoint

    endpoint = Endpoint("s3", "http://127.0.0.1:8773/services/objectstorage", "lab", False)
    url = S3Client(endpoint, EucaCredentials("AKIDEXAMPLE", "secret")).url(bucket, key, query)
    payload = hashlib.sha256(body).hexdigest()
    request = AWSRequest(method=method, url=url, data=body,
                         headers={**headers, "X-Amz-Content-SHA256": payload})
    S3SigV4Auth(Credentials("AKIDEXAMPLE", "secret", "tok"), "s3", "lab").add_auth(request)
    when = datetime.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    ours = sign_v4(method, url, headers, payload, "lab", "AKIDEXAMPLE", "secret", "tok",
                   when.replace(tzinfo=datetime.UTC))
    assert ours["authorization"] == request.headers["Authorization"]


def test_s3_redirects_are_followed_and_signed_anew() -> None:
    """A 307 to another endpoint is followed with a signature for the new host."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from euca2ools.bundle.s3 import S3Client
    from euca2ools.config import Credentials as EucaCredentials
    from euca2ools.config import Endpoint

    seen: list[tuple[str, str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            seen.append((self.headers["Host"], self.path, self.headers["Authorization"]))
            if self.server is first:
                self.send_response(307)
                self.send_header("Location", f"http://127.0.0.1:{second.server_port}"
                                 "/elsewhere/bucket/key")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    first = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    second = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    for server in (first, second):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = Endpoint("s3", f"http://127.0.0.1:{first.server_port}/services/objectstorage",
                            "lab", False)
        client = S3Client(endpoint, EucaCredentials("AKIDEXAMPLE", "secret"), retries=0)
        assert client.get_bytes("bucket", "key") == b"ok"
    finally:
        for server in (first, second):
            server.shutdown()
            server.server_close()
    assert [(host, path) for host, path, _auth in seen] == [
        (f"127.0.0.1:{first.server_port}", "/services/objectstorage/bucket/key"),
        (f"127.0.0.1:{second.server_port}", "/elsewhere/bucket/key")]
    assert seen[0][2] != seen[1][2]  # signed for each host
