"""Image staging for real guests: where image bytes come from and the node's image cache.

The NC stages an instance's kernel (eki), ramdisk (eri) and machine image (emi) before
it boots (reference §4 STAGING, §7 "the NC downloads, decrypts and caches the image
itself").  Two pieces:

- :class:`ImageStore` is the narrow way an NC driver gets image bytes: ``fetch(image_id,
  dest)`` rebuilds a registered bundle from Walrus (decrypting it with the cloud's key)
  into a local file.  The cloud builds one and hands it to each driver as the zone
  config's ``image_store``; the driver never sees the CLC or Walrus themselves.
- :class:`ImageCache` keeps each image once per node: concurrent launches of the same
  image wait for one download instead of starting their own.

Also here, the staging tools: :func:`make_config_drive` writes an instance's NoCloud
seed ISO, :func:`run_tool` runs ``qemu-img``/``genisoimage`` with their errors kept.

All of it blocks (file I/O, decryption, subprocesses): drivers call it from their
worker threads.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from typing import TYPE_CHECKING

from server.nc.domain import config_drive_files
from server.nc.types import InstanceSpec
from server.ports.images import ImageSource as ImageSource  # the port ImageStore implements

if TYPE_CHECKING:
    from server.clc.controller import CloudController
    from server.ports.objectstore import ObjectStore

log = logging.getLogger(__name__)


class ImageNotAvailable(Exception):
    """The image is unknown, or its bundle cannot be read from Walrus."""


class ImageStore:
    """Rebuilds registered bundle images from Walrus for the node controllers."""

    def __init__(self, clc: CloudController, walrus: ObjectStore | None):
        self.clc = clc
        self.walrus = walrus

    def location(self, image_id: str) -> tuple[str, str]:
        """``(bucket, manifest key)`` of a registered bundle image."""
        img = self.clc.images.get(image_id)
        if img is None:
            raise ImageNotAvailable(f"{image_id} is not a registered image")
        bucket, _, key = img.location.lstrip("/").partition("/")
        if not bucket or not key:
            raise ImageNotAvailable(f"{image_id} has no bundle location ({img.location!r})")
        return bucket, key

    def fetch(self, image_id: str, dest_path: str) -> None:
        """Decrypt and reassemble the image's bundle into ``dest_path`` (temp + rename)."""
        walrus = self.walrus
        if walrus is None:
            raise ImageNotAvailable(f"{image_id}: this cloud runs without Walrus")
        bucket, key = self.location(image_id)
        try:
            walrus.unbundle_image(bucket, key, dest_path)
        except Exception as exc:  # S3 errors (NoSuchKey, ...) and BundleError alike
            raise ImageNotAvailable(f"{image_id}: cannot stage {bucket}/{key}: "
                                    f"{getattr(exc, 'message', '') or exc}") from exc
        log.info("staged %s from %s/%s (%d bytes)", image_id, bucket, key,
                 os.path.getsize(dest_path))


class ImageCache:
    """One node's image cache: each image is fetched once, however many launches want it."""

    def __init__(self, directory: str, source: ImageSource):
        self.directory = directory
        self.source = source
        os.makedirs(directory, exist_ok=True)
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        #: image ID -> how many times it was fetched (a cache working as meant keeps 1s).
        self.fetches: dict[str, int] = {}

    def path(self, image_id: str) -> str:
        """Where an image lives in the cache (whether or not it is there yet)."""
        if not image_id or "/" in image_id or image_id.startswith("."):
            raise ImageNotAvailable(f"invalid image id {image_id!r}")
        return os.path.join(self.directory, image_id)

    def get(self, image_id: str) -> str:
        """The cached image's path, fetching it first if this node does not have it."""
        path = self.path(image_id)
        if os.path.exists(path):
            return path
        with self._guard:
            lock = self._locks.setdefault(image_id, threading.Lock())
        # One lock per image: a second launch of the same image waits for the first
        # download rather than starting its own; launches of other images do not wait.
        with lock:
            if os.path.exists(path):
                return path
            tmp = f"{path}.partial"
            try:
                self.source.fetch(image_id, tmp)
                os.replace(tmp, path)  # only complete images are ever visible in the cache
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            self.fetches[image_id] = self.fetches.get(image_id, 0) + 1
        return path


def image_format(path: str) -> str:
    """``qcow2`` or ``raw``, from the file's magic (what qemu-img's ``-F`` needs)."""
    with open(path, "rb") as fh:
        return "qcow2" if fh.read(4) == b"QFI\xfb" else "raw"


def run_tool(argv: list[str]) -> None:
    """Run a staging tool; its stderr becomes the error (and the instance's state reason)."""
    if shutil.which(argv[0]) is None:
        raise RuntimeError(f"{argv[0]} is not installed on this node")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {proc.stderr.strip() or proc.returncode}")


def make_config_drive(spec: InstanceSpec, directory: str) -> str:
    """Write the instance's NoCloud config drive (volume id ``cidata``); its path."""
    files = os.path.join(directory, "cidata")
    os.makedirs(files, exist_ok=True)
    for name, data in config_drive_files(spec).items():
        with open(os.path.join(files, name), "wb") as fh:
            fh.write(data)
    iso = os.path.join(directory, "seed.iso")
    run_tool(["genisoimage", "-quiet", "-output", iso, "-volid", "cidata", "-joliet", "-rock",
              os.path.join(files, "meta-data"), os.path.join(files, "user-data")])
    shutil.rmtree(files, ignore_errors=True)
    return iso
