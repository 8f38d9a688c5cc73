"""euimage-* image packs as subprocesses: pack and describe locally, install into our cloud
(bundled to Walrus, registered and tagged in EC2)."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

import yaml

METADATA = """\
name: tiny
version: "1.0"
release: "2"
arch: x86_64
description: |
  A tiny test image.
profiles:
  default:
    bundle: {}
    register:
      virtualization-type: hvm
    tag:
      team: blue
  small:
    bundle: {arch: x86_64}
"""


def _pack(euca, tmp_path: Path) -> tuple[Path, bytes]:  # type: ignore[no-untyped-def]
    image = tmp_path / "tiny.img"
    data = os.urandom(3 * 1024 * 1024 + 17)
    image.write_bytes(data)
    md = tmp_path / "md.yml"
    md.write_text(METADATA)
    out = tmp_path / "packs"
    out.mkdir()
    pack = out / "tiny-1.0-2.x86_64.euimage"
    assert euca("euimage-pack-image", str(image), str(md), "-d", str(out)).stdout == \
        f"Wrote {pack}\n"
    return pack, data


def test_pack_and_describe(euca, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The pack holds the checksummed metadata and the image; describe shows it."""
    import lzma

    pack, data = _pack(euca, tmp_path)
    with tarfile.open(pack) as tar:
        assert tar.getnames() == ["pack-md.yml", "image-md.yml", "image.xz"]
        pack_md = yaml.safe_load(tar.extractfile("pack-md.yml").read())  # type: ignore[union-attr]
        assert tar.extractfile("image-md.yml").read() == METADATA.encode()  # type: ignore[union-attr]
        assert lzma.decompress(tar.extractfile("image.xz").read()) == data  # type: ignore[union-attr]
    assert pack_md == {"image": {"sha256sum": hashlib.sha256(data).hexdigest(),
                                 "size": len(data)},
                       "image_metadata": {"sha256sum":
                                          hashlib.sha256(METADATA.encode()).hexdigest()},
                       "version": 1}
    out = euca("euimage-describe-pack", str(pack)).stdout
    assert out == ("Name:\ttiny\nArchitecture:\tx86_64\nVersion:\t1.0\nRelease:\t2\n"
                   "Profile:\tdefault\nProfile:\tsmall\nDescription:\nA tiny test image.\n")

    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\nversion: 1\n")
    proc = euca("euimage-pack-image", str(tmp_path / "tiny.img"), str(bad), check=False)
    assert (proc.returncode, proc.stderr) == (
        1, "euimage-pack-image: error: image metadata: release is missing or empty\n")
    proc = euca("euimage-describe-pack", str(bad), check=False)
    assert (proc.returncode, proc.stderr) == (
        1, f"euimage-describe-pack: error: {bad} is not an image pack\n")


def test_install_pack_into_our_cloud(euca, cloud_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Install bundles, uploads, registers and tags; a profile that is not there is refused."""
    pack, _data = _pack(euca, tmp_path)
    env = {"TMPDIR": str(tmp_path)}
    proc = euca("euimage-install-pack", str(pack), "--profile", "huge", "-b", "packs",
                ini=cloud_ini, env=env, check=False)
    assert (proc.returncode, proc.stderr.splitlines()[-1]) == (
        2, 'euimage-install-pack: error: argument --profile: no such profile: "huge" (choose '
           "from default, small)")
    out = euca("euimage-install-pack", str(pack), "-b", "packs/v1", ini=cloud_ini,
               env=env).stdout
    tag, image_id = out.rstrip("\n").split("\t")
    assert tag == "IMAGE" and image_id.startswith("emi-")
    described = euca("euca-describe-images", image_id, ini=cloud_ini).stdout.splitlines()
    fields = described[0].split("\t")
    assert fields[2] == "packs/v1/tiny-1.0-2.x86_64.manifest.xml"
    assert "hvm" in fields
    tags = {tuple(line.split("\t")[3:5]) for line in described if line.startswith("TAG")}
    assert tags == {("euimage:name", "tiny"), ("euimage:version", "1.0"),
                    ("euimage:release", "2"), ("euimage:profile", "default"),
                    ("team", "blue")}
    # The unpacked image and the bundle's parts are gone from TMPDIR.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["md.yml", "packs", "tiny.img"]
