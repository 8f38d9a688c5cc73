"""The bundle commands' work, free of the command line: bundle, upload, download, unbundle.

The functions take resolved inputs (keys, an :class:`~.s3.S3Client`, paths) so that they
can be used from Python as well as from the ``euca-*`` commands in
:mod:`euca2ools.commands.bundle`.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Protocol

from . import PART_SIZE
from .keys import BundleError, wrap
from .manifest import Manifest, ManifestPart
from .pipeline import Part, PartWriter, bundle_stream, checked_parts, file_chunks, unbundle_stream
from .progress import Progress

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

    from .s3 import S3Client

EC2_IMAGE_LIMIT = 10 * 1024 ** 3  # EC2 does not run instance-store images larger than this


class ObjectWriter(Protocol):
    """Something that stores objects: :class:`~.s3.S3Client` or :class:`~.s3.PolicyUploader`."""

    def put_object(self, bucket: str, key: str, *, path: str | None = None,
                   data: bytes | None = None, acl: str | None = None,
                   progress: Callable[[int], None] | None = None,
                   retries: int | None = None) -> None:
        """Store one object."""


@dataclass
class BundleSpec:
    """What to bundle and how: the image, its description and the keys."""

    image: str  # a path, or "-" for stdin
    prefix: str
    destination: str
    architecture: str
    user: str
    cloud_cert: RSAPublicKey
    image_size: int
    image_type: str = "machine"
    user_cert: RSAPublicKey | None = None
    signing_key: RSAPrivateKey | None = None
    kernel_id: str = ""
    ramdisk_id: str = ""
    block_device_mappings: list[tuple[str, str]] = field(default_factory=list)
    product_codes: list[str] = field(default_factory=list)
    part_size: int = PART_SIZE
    key: bytes = b""
    iv: bytes = b""


def make_bundle(spec: BundleSpec, progress: bool = False,
                on_part: Callable[[Part], None] | None = None) -> tuple[str, Manifest]:
    """Write the parts and manifest of a bundle; returns (manifest path, manifest)."""
    key = spec.key or os.urandom(16)
    iv = spec.iv or os.urandom(16)
    os.makedirs(spec.destination, exist_ok=True)
    writer = PartWriter(spec.destination, spec.prefix, spec.part_size, on_part)
    bar = Progress(f"Bundling {spec.prefix}", spec.image_size, progress)
    source: BinaryIO
    source = sys.stdin.buffer if spec.image == "-" else open(spec.image, "rb")  # noqa: SIM115
    try:
        digest = bundle_stream(source, spec.image_size, spec.prefix, key, iv, writer.write, bar)
        parts = writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        if source is not sys.stdin.buffer:
            source.close()
        bar.finish()
    manifest = Manifest(
        name=spec.prefix, user=spec.user, architecture=spec.architecture,
        image_type=spec.image_type, digest=digest, size=spec.image_size,
        bundled_size=writer.total,
        ec2_encrypted_key=wrap(spec.cloud_cert, key), ec2_encrypted_iv=wrap(spec.cloud_cert, iv),
        user_encrypted_key=wrap(spec.user_cert, key) if spec.user_cert else "",
        user_encrypted_iv=wrap(spec.user_cert, iv) if spec.user_cert else "",
        parts=[ManifestPart(p.filename, p.digest, p.size) for p in parts],
        kernel_id=spec.kernel_id, ramdisk_id=spec.ramdisk_id,
        block_device_mappings=spec.block_device_mappings, product_codes=spec.product_codes)
    path = os.path.join(spec.destination, f"{spec.prefix}.manifest.xml")
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        handle.write(manifest.to_xml(spec.signing_key))
    os.replace(tmp, path)
    return path, manifest


# -- S3 locations -------------------------------------------------------------------------------
def split_bucket(spec: str) -> tuple[str, str]:
    """``BUCKET[/PREFIX]`` as (bucket, key prefix ending in ``/`` or empty)."""
    bucket, _, prefix = spec.strip("/").partition("/")
    if not bucket:
        raise BundleError(f"invalid bucket '{spec}'")
    prefix = prefix.strip("/")
    return bucket, (prefix + "/" if prefix else "")


def ensure_bucket(s3: S3Client, bucket: str, location: str | None = None) -> None:
    """Create the bucket unless it exists and is ours (euca2ools' CheckBucket)."""
    status = s3.bucket_status(bucket)
    if status == 404:
        s3.create_bucket(bucket, location)
    elif status == 403:
        raise BundleError(f"bucket '{bucket}' exists but belongs to someone else; choose "
                          "another name")


def upload_parts(s3: ObjectWriter, bucket: str, key_prefix: str, paths: Iterable[str],
                 acl: str | None, progress: Callable[[int], None] | None = None,
                 retries: int | None = None) -> list[str]:
    """PUT each file as ``key_prefix + basename``; returns the keys."""
    keys = []
    for path in paths:
        key = key_prefix + os.path.basename(path)
        s3.put_object(bucket, key, path=path, acl=acl, progress=progress, retries=retries)
        keys.append(key)
    return keys


def upload_bundle(s3: S3Client | None, bucket_spec: str, manifest_path: str, directory: str | None,
                  acl: str | None = "aws-exec-read", location: str | None = None,
                  retries: int | None = None, skip_manifest: bool = False,
                  progress: bool = False, writer: ObjectWriter | None = None,
                  on_part: Callable[[str], None] | None = None) -> str:
    """Upload a bundle's parts then its manifest; returns ``bucket/key`` of the manifest.

    ``on_part`` is told ``bucket/key`` of each part once it is stored.

    With ``writer`` (an upload policy) objects go through it and the bucket is not
    checked: a policy grants uploads only.
    """
    with open(manifest_path, "rb") as handle:
        manifest = Manifest.from_xml(handle.read(), manifest_path)
    directory = directory or os.path.dirname(os.path.abspath(manifest_path))
    paths = [os.path.join(directory, part.filename) for part in manifest.parts]
    for path in paths:
        if not os.path.isfile(path):
            raise BundleError(f"part file {path} is missing (use -d to say where the parts are)")
    bucket, key_prefix = split_bucket(bucket_spec)
    out: ObjectWriter
    if writer is None:
        assert s3 is not None
        ensure_bucket(s3, bucket, location)
        out = s3
    else:
        out = writer
    bar = Progress(f"Uploading {manifest.name}", sum(os.path.getsize(p) for p in paths),
                   progress)
    try:
        for path in paths:
            for key in upload_parts(out, bucket, key_prefix, [path], acl, bar, retries):
                if on_part is not None:
                    on_part(f"{bucket}/{key}")
    finally:
        bar.finish()
    key = key_prefix + os.path.basename(manifest_path)
    if not skip_manifest:
        out.put_object(bucket, key, path=manifest_path, acl=acl, retries=retries)
    return f"{bucket}/{key}"


class _Uploader(threading.Thread):
    """Uploads parts as the bundler finishes them, holding at most ``pending`` parts."""

    def __init__(self, s3: ObjectWriter, bucket: str, key_prefix: str, acl: str | None,
                 pending: int, preserve: bool, progress: Callable[[int], None] | None,
                 retries: int | None) -> None:
        super().__init__(daemon=True)
        self.s3, self.bucket, self.key_prefix, self.acl = s3, bucket, key_prefix, acl
        self.preserve, self.progress, self.retries = preserve, progress, retries
        self.parts: queue.Queue[Part | None] = queue.Queue(maxsize=max(1, pending))
        self.error: BaseException | None = None

    def run(self) -> None:
        while True:
            part = self.parts.get()
            if part is None:
                return
            if self.error is not None:
                continue  # keep draining so the bundler never blocks on a dead uploader
            try:
                upload_parts(self.s3, self.bucket, self.key_prefix, [part.path], self.acl,
                             self.progress, self.retries)
                if not self.preserve:
                    os.unlink(part.path)
            except BaseException as err:  # handed to the main thread
                self.error = err

    def submit(self, part: Part) -> None:
        """Queue a finished part (blocks while ``pending`` parts wait)."""
        if self.error is not None:
            raise self.error
        self.parts.put(part)


def bundle_and_upload(spec: BundleSpec, s3: S3Client | None, bucket_spec: str,
                      acl: str | None = "aws-exec-read", location: str | None = None,
                      retries: int | None = None, max_pending_parts: int = 2,
                      preserve: bool = False, progress: bool = False,
                      writer: ObjectWriter | None = None) -> str:
    """Bundle and upload at the same time; returns ``bucket/key`` of the manifest.

    ``writer`` replaces ``s3`` for uploads authorized by a policy (no bucket check).
    """
    bucket, key_prefix = split_bucket(bucket_spec)
    out: ObjectWriter
    if writer is None:
        assert s3 is not None
        ensure_bucket(s3, bucket, location)
        out = s3
    else:
        out = writer
    uploader = _Uploader(out, bucket, key_prefix, acl, max_pending_parts, preserve, None,
                         retries)
    uploader.start()
    try:
        manifest_path, _manifest = make_bundle(spec, progress, on_part=uploader.submit)
    finally:
        uploader.parts.put(None)
        uploader.join()
    if uploader.error is not None:
        raise uploader.error
    key = key_prefix + os.path.basename(manifest_path)
    out.put_object(bucket, key, path=manifest_path, acl=acl, retries=retries)
    if not preserve:
        os.unlink(manifest_path)
    return f"{bucket}/{key}"


# -- downloads ----------------------------------------------------------------------------------
@dataclass
class RemoteBundle:
    """A bundle in S3: where its manifest is and what it says."""

    bucket: str
    key_prefix: str
    manifest_key: str
    manifest_bytes: bytes
    manifest: Manifest

    def part_key(self, part: ManifestPart) -> str:
        """The object key of a part (beside the manifest)."""
        return self.key_prefix + part.filename


def find_bundle(s3: S3Client, bucket_spec: str, manifest_name: str | None = None,
                prefix: str | None = None, local_manifest: str | None = None) -> RemoteBundle:
    """Locate a bundle by ``-m NAME``, ``-p PREFIX`` or ``--local-manifest FILE``."""
    bucket, key_prefix = split_bucket(bucket_spec)
    if local_manifest:
        with open(local_manifest, "rb") as handle:
            data = handle.read()
        key = key_prefix + os.path.basename(local_manifest)
    else:
        name = manifest_name or f"{prefix}.manifest.xml"
        key = key_prefix + name.lstrip("/")
        data = s3.get_bytes(bucket, key)
    # Parts live beside the manifest, which -m may name with a folder of its own.
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    return RemoteBundle(bucket, folder, key, data, Manifest.from_xml(data, key))


def remote_chunks(s3: S3Client, bundle: RemoteBundle,
                  progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """Every part's bytes, in order, each checked against the manifest."""
    def opener(part: ManifestPart) -> Iterator[bytes]:
        for chunk in s3.get_object(bundle.bucket, bundle.part_key(part)):
            if progress is not None:
                progress(len(chunk))
            yield chunk

    return checked_parts(bundle.manifest.parts, opener)


def download_bundle(s3: S3Client, bundle: RemoteBundle, directory: str,
                    progress: bool = False) -> str:
    """Download the parts (checked) and manifest into ``directory``; the manifest's path."""
    os.makedirs(directory, exist_ok=True)
    bar = Progress(f"Downloading {bundle.manifest.name}", bundle.manifest.bundled_size or None,
                   progress)
    try:
        for part in bundle.manifest.parts:
            path = os.path.join(directory, os.path.basename(part.filename))
            try:
                with open(path, "wb") as out:
                    for chunk in checked_parts([part], lambda p: s3.get_object(
                            bundle.bucket, bundle.part_key(p))):
                        out.write(chunk)
                        bar(len(chunk))
            except BaseException:
                os.unlink(path)  # a part that failed its digest must not look downloaded
                raise
    finally:
        bar.finish()
    path = os.path.join(directory, os.path.basename(bundle.manifest_key))
    with open(path, "wb") as handle:
        handle.write(bundle.manifest_bytes)
    return path


def write_stream(chunks: Iterable[bytes], out: BinaryIO) -> None:
    """Copy chunks to a binary stream (``-d -``: the concatenated parts to stdout)."""
    for chunk in chunks:
        out.write(chunk)
    out.flush()


def delete_bundle(s3: S3Client, bundle: RemoteBundle) -> None:
    """DELETE every part, then the manifest."""
    for part in bundle.manifest.parts:
        s3.delete_object(bundle.bucket, bundle.part_key(part))
    s3.delete_object(bundle.bucket, bundle.manifest_key)


# -- unbundling ---------------------------------------------------------------------------------
def unbundle_to(chunks: Iterable[bytes], manifest: Manifest, private_key: RSAPrivateKey,
                destination: str, key_path: str = "") -> str:
    """Rebuild the image of a bundle into ``destination`` (a directory, a file, or ``-``).

    The image is written beside its final name and renamed when it is complete and
    verified, so a failed unbundle never leaves a plausible-looking image behind.
    """
    key, iv = manifest.decrypt_key(private_key, key_path)
    if destination == "-":
        unbundle_stream(chunks, key, iv, sys.stdout.buffer, manifest.digest, manifest.size)
        sys.stdout.buffer.flush()
        return "-"
    path = destination
    if os.path.isdir(destination):
        path = os.path.join(destination, os.path.basename(manifest.name) or "image")
    tmp = path + ".unbundling"
    try:
        with open(tmp, "wb") as out:
            unbundle_stream(chunks, key, iv, out, manifest.digest, manifest.size)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def local_chunks(manifest: Manifest, source: str,
                 progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The bytes of a bundle's part files in ``source``, checked against the manifest."""
    def opener(part: ManifestPart) -> Iterator[bytes]:
        path = os.path.join(source, os.path.basename(part.filename))
        if not os.path.isfile(path):
            raise BundleError(f"part file {path} is missing (use -s to say where the parts are)")
        for chunk in file_chunks(path):
            if progress is not None:
                progress(len(chunk))
            yield chunk

    return checked_parts(manifest.parts, opener)


def stdin_chunks(source: BinaryIO, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    """A binary stream's bytes a chunk at a time."""
    while block := source.read(chunk):
        yield block


