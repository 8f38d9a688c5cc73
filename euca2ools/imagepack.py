"""Image packs (the euimage-* "tech preview"): one file holding a disk image and how to
install it.

A pack ``NAME-VERSION-RELEASE.ARCH.euimage`` is a tar archive of three members:

* ``pack-md.yml``: ``image: {sha256sum, size}`` (of the uncompressed image),
  ``image_metadata: {sha256sum}`` (of ``image-md.yml``), ``version: 1``;
* ``image-md.yml``: the author's metadata: ``name``, ``version``, ``release``, ``arch``,
  ``description``, optional ``epoch`` and ``profiles`` (at least one; ``default`` for a
  single-profile image), each ``{bundle: {arch}, register: {arch, description, platform,
  virtualization-type, block-device-mappings}, tag: {KEY: VALUE}}`` -- an instance-store
  image bundled, uploaded and registered;
* ``image.xz``: the image, xz-compressed.
"""

from __future__ import annotations

import hashlib
import os

from .exceptions import Euca2oolsError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import IO, Any

IMAGE_ARCNAME = "image.xz"
IMAGE_MD_ARCNAME = "image-md.yml"
PACK_MD_ARCNAME = "pack-md.yml"
CHUNK = 1024 * 1024


class PackError(Euca2oolsError):
    """A pack or its metadata is not valid."""


def _only(mapping: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """``mapping`` as a dict whose keys are all in ``allowed``."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise PackError(f"{where} must be an associative array")
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    if unknown:
        raise PackError(f"{where}: unknown field(s): {', '.join(unknown)}")
    return mapping


class Profile:
    """How to install the image: an instance-store image, bundled then registered."""

    def __init__(self, name: str, info: Any, arch: str) -> None:
        info = _only(info, f"profile {name}", ("bundle", "provides", "register", "tag"))
        if "bundle" not in info:
            raise PackError(f"profile {name}: only instance-store profiles (with 'bundle') are "
                            "supported")
        bundle = _only(info.get("bundle"), "bundle", ("arch",))
        self.bundle_arch = str(bundle.get("arch") or arch)
        register = _only(info.get("register"), "register",
                         ("arch", "block-device-mappings", "description", "platform",
                          "virtualization-type"))
        self.register: dict[str, Any] = {"Architecture": str(register.get("arch") or arch)}
        for key, param in (("description", "Description"), ("platform", "Platform"),
                           ("virtualization-type", "VirtualizationType")):
            if register.get(key):
                self.register[param] = str(register[key])
        mappings = register.get("block-device-mappings") or {}
        if not isinstance(mappings, dict):
            raise PackError("register: block-device-mappings must be an associative array")
        self.mappings = [_mapping(str(dev), spec) for dev, spec in mappings.items()]
        self.tags = {str(k): str(v) for k, v in
                     _only(info.get("tag"), "tag", tuple(info.get("tag") or ())).items()}


def _mapping(device: str, spec: Any) -> dict[str, Any]:
    if spec == "none":
        return {"DeviceName": device, "NoDevice": True}
    if isinstance(spec, str) and spec.startswith("ephemeral"):
        return {"DeviceName": device, "VirtualName": spec}
    if isinstance(spec, dict):
        ebs = _only(spec, f"block device mapping {device}",
                    ("snapshot-id", "volume-size", "delete-on-termination"))
        out = {param: ebs[key] for key, param in (("snapshot-id", "SnapshotId"),
                                                  ("volume-size", "VolumeSize"),
                                                  ("delete-on-termination",
                                                   "DeleteOnTermination"))
               if key in ebs}
        if not out.get("SnapshotId") and not out.get("VolumeSize"):
            raise PackError(f"register: block device mapping {device} requires a volume-size")
        return {"DeviceName": device, "Ebs": out}
    raise PackError(f"register: unreadable block device mapping {device}")


class ImageMetadata:
    """``image-md.yml``: what the image is and its install profiles."""

    def __init__(self, data: Any) -> None:
        md = _only(data, "image", ("name", "version", "release", "epoch", "arch",
                                   "description", "profiles"))
        for key in ("name", "version", "release", "arch", "description"):
            if not md.get(key):
                raise PackError(f"image metadata: {key} is missing or empty")
        self.name = str(md["name"])
        self.version = str(md["version"])
        self.release = str(md["release"])
        self.arch = str(md["arch"])
        self.description = str(md["description"]).rstrip()
        try:
            self.epoch = int(md.get("epoch") or 0)
        except (TypeError, ValueError):
            raise PackError(f'image "{self.name}": epoch must be an integer') from None
        if self.epoch < 0:
            raise PackError(f'image "{self.name}": epoch must not be negative')
        profiles = md.get("profiles")
        if not profiles or not isinstance(profiles, dict):
            raise PackError(f'image "{self.name}" must have at least one profile (use '
                            '"default" for a single-profile image)')
        self.profiles = {str(n): Profile(str(n), p, self.arch) for n, p in profiles.items()}

    @property
    def nvra(self) -> str:
        """``NAME-VERSION-RELEASE.ARCH``: the pack's file name and the bundle's prefix."""
        return f"{self.name}-{self.version}-{self.release}.{self.arch}"

    def tags(self, profile: str) -> dict[str, str]:
        """The ``euimage:*`` tags an installed image gets, then the profile's own."""
        out = {"euimage:name": self.name, "euimage:version": self.version,
               "euimage:release": self.release, "euimage:profile": profile}
        if self.epoch:
            out["euimage:epoch"] = str(self.epoch)
        out.update(self.profiles[profile].tags)
        return out


def _yaml(data: bytes, what: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as err:
        raise PackError(f"{what} is not valid YAML: {str(err).splitlines()[0]}") from None


class ImagePack:
    """An opened pack: its metadata and checksums."""

    def __init__(self, path: str, image_md: ImageMetadata, image_sha256: str,
                 image_size: int) -> None:
        self.path = path
        self.image_md = image_md
        self.image_sha256 = image_sha256
        self.image_size = image_size

    @classmethod
    def open(cls, path: str) -> ImagePack:
        """Read and check a pack's metadata."""
        import tarfile

        try:
            with tarfile.open(path, "r") as tar:
                pack_md = _yaml(_member(tar, PACK_MD_ARCNAME), PACK_MD_ARCNAME)
                raw_md = _member(tar, IMAGE_MD_ARCNAME)
        except tarfile.TarError:
            raise PackError(f"{path} is not an image pack") from None
        pack_md = _only(pack_md, "pack", ("image", "image_metadata", "version"))
        if int(pack_md.get("version") or 1) != 1:
            raise PackError(f"pack has metadata version {pack_md['version']}; expected 1")
        image = pack_md.get("image") or {}
        if not image.get("sha256sum") or not image.get("size"):
            raise PackError("pack: image.sha256sum and image.size are required")
        wanted = (pack_md.get("image_metadata") or {}).get("sha256sum")
        actual = hashlib.sha256(raw_md).hexdigest()
        if wanted != actual:
            raise PackError(f"image metadata appears to be corrupt (expected SHA256: {wanted}, "
                            f"actual: {actual})")
        return cls(path, ImageMetadata(_yaml(raw_md, IMAGE_MD_ARCNAME)), str(image["sha256sum"]),
                   int(image["size"]))

    def extract_image(self, out: IO[bytes]) -> None:
        """Decompress the image into ``out``, checking its size and SHA-256."""
        import lzma
        import tarfile

        digest = hashlib.sha256()
        size = 0
        with tarfile.open(self.path, "r") as tar:
            member = tar.extractfile(IMAGE_ARCNAME)
            if member is None:
                raise PackError(f"{self.path} has no {IMAGE_ARCNAME}")
            with lzma.open(member) as image:
                while chunk := image.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        if digest.hexdigest() != self.image_sha256 or size != self.image_size:
            raise PackError(f"image appears to be corrupt (expected SHA256: {self.image_sha256},"
                            f" actual: {digest.hexdigest()})")


def _member(tar: Any, name: str) -> bytes:
    try:
        handle = tar.extractfile(name)
    except KeyError:
        raise PackError(f"the pack has no {name}") from None
    if handle is None:
        raise PackError(f"the pack's {name} is not a file")
    return bytes(handle.read())


def build(image_path: str, md_path: str, destination: str = "") -> str:
    """Write ``DEST/NVRA.euimage`` from an image file and its metadata; returns its path."""
    import io
    import lzma
    import tarfile
    import tempfile

    with open(md_path, "rb") as handle:
        raw_md = handle.read()
    image_md = ImageMetadata(_yaml(raw_md, md_path))
    if destination and not os.path.isdir(destination):
        raise PackError(f'"{destination}" is not a directory')
    path = os.path.join(destination, f"{image_md.nvra}.euimage")
    digest = hashlib.sha256()
    size = 0
    # tar needs each member's size up front: compress to a spool file first.
    with tempfile.TemporaryFile(dir=destination or ".") as compressed:
        with open(image_path, "rb") as image, lzma.open(compressed, "wb") as xz:
            while chunk := image.read(CHUNK):
                digest.update(chunk)
                xz.write(chunk)
                size += len(chunk)
        import yaml

        pack_md = yaml.safe_dump({"image": {"sha256sum": digest.hexdigest(), "size": size},
                                  "image_metadata": {"sha256sum":
                                                     hashlib.sha256(raw_md).hexdigest()},
                                  "version": 1}, default_flow_style=False).encode()
        partial = path + ".partial"
        with tarfile.open(partial, "w") as tar:
            for name, data in ((PACK_MD_ARCNAME, pack_md), (IMAGE_MD_ARCNAME, raw_md)):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
            info = tarfile.TarInfo(IMAGE_ARCNAME)
            info.size = compressed.tell()
            info.mode = 0o644
            compressed.seek(0)
            tar.addfile(info, compressed)
        os.replace(partial, path)
    return path
