"""euca-bundle-vol on a directory tree (no root, no mounting): the bundle unbundles to a
disk image whose file system holds the tree less the excluded and filtered paths."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
from pathlib import Path

import pytest

DEBUGFS = shutil.which("debugfs") or next(
    (p for p in ("/usr/sbin/debugfs", "/sbin/debugfs") if os.path.exists(p)), None)
pytestmark = pytest.mark.skipif(DEBUGFS is None, reason="debugfs (e2fsprogs) is not installed")


def _keypair(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cloud")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(datetime.datetime(2020, 1, 1))
            .not_valid_after(datetime.datetime(2040, 1, 1)).sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cloud.pem", tmp_path / "cloud-pk.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _debugfs(image: Path, offset: int, request: str) -> str:
    assert DEBUGFS is not None
    proc = subprocess.run([DEBUGFS, "-R", request, f"{image}?offset={offset}"],
                          capture_output=True, text=True, check=True)
    return proc.stdout


def _names(image: Path, offset: int, path: str) -> set[str]:
    out = _debugfs(image, offset, f"ls -p {path}")
    return {line.split("/")[5] for line in out.splitlines() if line.count("/") >= 6} - \
        {".", ".."}


def test_bundle_vol_of_a_tree(euca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """MBR + ext3 image of the tree; system dirs emptied, secrets and -e paths left out."""
    tree = tmp_path / "tree"
    for sub in ("etc", "home/u/.ssh", "proc/1", "tmp", "srv/data", "srv/skip"):
        (tree / sub).mkdir(parents=True)
    (tree / "etc/motd").write_text("hello\n")
    (tree / "etc/link").symlink_to("motd")
    (tree / "home/u/.ssh/authorized_keys").write_text("ssh-rsa AAAA\n")
    (tree / "home/u/.bash_history").write_text("secret\n")
    (tree / "home/u/notes.txt").write_text("keep me\n")
    (tree / "proc/1/status").write_text("x\n")
    (tree / "tmp/junk").write_text("x\n")
    (tree / "srv/data/blob").write_bytes(os.urandom(300_000))
    (tree / "srv/skip/file").write_text("x\n")
    cert, key = _keypair(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    proc = euca("euca-bundle-vol", "-v", str(tree), "-r", "x86_64", "-d", str(out), "-s", "16",
                "--ec2cert", str(cert), "--user", "123456789012", "-P", "mbr",
                "--generate-fstab", "-p", "vol1", "-e", str(tree / "srv/skip"))
    assert proc.stdout == f"Wrote manifest {out / 'vol1.manifest.xml'}\n"
    assert sorted(p.name for p in out.iterdir()) == ["vol1.manifest.xml", "vol1.part.00"]

    euca("euca-unbundle", "-m", str(out / "vol1.manifest.xml"), "-k", str(key), "-s", str(out),
         "-d", str(out))
    image = out / "vol1"
    data = image.read_bytes()
    assert len(data) == 16 * 1024 * 1024
    assert data[510:512] == b"\x55\xaa" and data[446 + 4] == 0x83
    assert int.from_bytes(data[446 + 8:446 + 12], "little") == 2048
    offset = 1024 * 1024
    assert _names(image, offset, "/") >= {"etc", "home", "proc", "tmp", "srv", "lost+found"}
    assert _names(image, offset, "/proc") == set() and _names(image, offset, "/tmp") == set()
    assert _names(image, offset, "/home/u") == {".ssh", "notes.txt"}
    assert _names(image, offset, "/home/u/.ssh") == set()
    assert _names(image, offset, "/srv") == {"data"}
    assert _debugfs(image, offset, "cat /etc/motd") == "hello\n"
    assert "Size: 300000" in _debugfs(image, offset, "stat /srv/data/blob")
    stat_link = _debugfs(image, offset, "stat /etc/link")
    assert "Type: symlink" in stat_link and 'Fast link dest: "motd"' in stat_link
    fstab = _debugfs(image, offset, "cat /etc/fstab")
    uuid = next(line.split()[-1] for line in _debugfs(image, offset, "stats").splitlines()
                if line.startswith("Filesystem UUID:"))
    assert fstab.splitlines()[0] == f"UUID={uuid}\t/\text3\tdefaults\t1 1"


def test_bundle_vol_errors(euca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Too small an image, a missing volume: one line each."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "big").write_bytes(os.urandom(8 * 1024 * 1024))
    cert, _key = _keypair(tmp_path)
    common = ["-r", "x86_64", "-d", str(tmp_path), "--ec2cert", str(cert), "--user", "1"]
    proc = euca("euca-bundle-vol", "-v", str(tree), "-s", "6", *common, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("euca-bundle-vol: error: the volume's files do not fit in "
                                  "6 MiB; use -s/--size (")
    assert len(proc.stderr.splitlines()) == 1
    proc = euca("euca-bundle-vol", "-v", str(tmp_path / "nope"), *common, check=False)
    assert (proc.returncode, proc.stderr.splitlines()[-1]) == (
        2, f"euca-bundle-vol: error: argument -v/--volume: '{tmp_path / 'nope'}' is not a "
           "directory")
    # Nothing is left behind in the destination.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cloud-pk.pem", "cloud.pem", "tree"]


def test_bundle_vol_gpt(euca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """-P gpt: valid primary and backup headers (CRCs) and one Linux partition from 1 MiB
    that ends before the backup table; the file system is at the partition's start."""
    import struct
    import uuid
    import zlib

    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc/motd").write_text("gpt\n")
    cert, key = _keypair(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    euca("euca-bundle-vol", "-v", str(tree), "-r", "x86_64", "-d", str(out), "-s", "16",
         "--ec2cert", str(cert), "--user", "1", "-P", "gpt", "-p", "g")
    euca("euca-unbundle", "-m", str(out / "g.manifest.xml"), "-k", str(key), "-s", str(out),
         "-d", str(out))
    data = (out / "g").read_bytes()
    last = len(data) // 512 - 1
    assert data[446 + 4] == 0xEE and data[510:512] == b"\x55\xaa"
    for lba, current, backup, entries_lba in ((1, 1, last, 2), (last, last, 1, last - 32)):
        head = bytearray(data[lba * 512:lba * 512 + 92])
        assert head[:8] == b"EFI PART"
        crc = struct.unpack_from("<I", head, 16)[0]
        struct.pack_into("<I", head, 16, 0)
        assert zlib.crc32(head) == crc
        assert struct.unpack_from("<QQ", head, 24) == (current, backup)
        assert struct.unpack_from("<Q", head, 72)[0] == entries_lba
        entries = data[entries_lba * 512:entries_lba * 512 + 128 * 128]
        assert zlib.crc32(entries) == struct.unpack_from("<I", head, 88)[0]
        assert uuid.UUID(bytes_le=entries[:16]) == uuid.UUID("0fc63daf-8483-4772-8e79-3d69d8477de4")
        first, end = struct.unpack_from("<QQ", entries, 32)
        assert (first, end) == (2048, last - 33)
    assert _debugfs(out / "g", 1024 * 1024, "cat /etc/motd") == "gpt\n"
