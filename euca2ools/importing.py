"""Disk image imports (euca-import-instance/-volume, euca-resume-import, euca-delete-disk-image).

An import uploads a disk image to S3 in parts and describes it with an *import manifest*
(``<manifest>``: version 2010-11-15, file-format, importer, self-destruct-url, then
``<import>`` with size, volume-size and ``<parts count=N>`` of ``<part index=I>`` with
``<byte-range start end>``, key, head-url, get-url, delete-url).  The service reads the
manifest and the parts through the presigned URLs, so it needs no access to the
uploader's keys; the URLs are S3 query-string signed (SigV2, which allows euca2ools'
default 30-day life; SigV4 URLs cannot live longer than 7 days).

The task is created first (ImportVolume/ImportInstance with the manifest's GET URL); the
manifest and parts are then uploaded by :func:`resume_upload`, which skips parts already
present, so an interrupted upload continues with ``euca-resume-import``.
"""

from __future__ import annotations

import os

from .exceptions import ArgumentError, Euca2oolsError, ServiceError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from .bundle.s3 import S3Client
    from .runtime import Invocation

MANIFEST_VERSION = "2010-11-15"
PART_SIZE = 10 * 1024 * 1024
FORMATS = ("RAW", "VMDK", "VHD")


class ImportPart:
    """One uploaded slice of the image: bytes ``start``..``end`` (inclusive) at ``key``."""

    __slots__ = ("index", "start", "end", "key", "head_url", "get_url", "delete_url")

    def __init__(self, index: int, start: int, end: int, key: str, head_url: str = "",
                 get_url: str = "", delete_url: str = "") -> None:
        self.index = index
        self.start = start
        self.end = end
        self.key = key
        self.head_url = head_url
        self.get_url = get_url
        self.delete_url = delete_url


class ImportManifest:
    """The import manifest: the image's format and size and where its parts are."""

    def __init__(self, file_format: str, image_size: int, volume_size: int,
                 self_destruct_url: str = "", parts: list[ImportPart] | None = None) -> None:
        self.file_format = file_format
        self.image_size = image_size
        self.volume_size = volume_size
        self.self_destruct_url = self_destruct_url
        self.parts = parts or []

    def to_xml(self) -> bytes:
        """The manifest document."""
        import xml.etree.ElementTree as ET

        from . import __version__

        root = ET.Element("manifest")
        ET.SubElement(root, "version").text = MANIFEST_VERSION
        ET.SubElement(root, "file-format").text = self.file_format
        importer = ET.SubElement(root, "importer")
        ET.SubElement(importer, "name").text = "euca2ools"
        ET.SubElement(importer, "version").text = __version__
        ET.SubElement(importer, "release").text = "0"
        ET.SubElement(root, "self-destruct-url").text = self.self_destruct_url
        imp = ET.SubElement(root, "import")
        ET.SubElement(imp, "size").text = str(self.image_size)
        ET.SubElement(imp, "volume-size").text = str(self.volume_size)
        parts = ET.SubElement(imp, "parts", count=str(len(self.parts)))
        for part in self.parts:
            elem = ET.SubElement(parts, "part", index=str(part.index))
            ET.SubElement(elem, "byte-range", start=str(part.start), end=str(part.end))
            ET.SubElement(elem, "key").text = part.key
            ET.SubElement(elem, "head-url").text = part.head_url
            ET.SubElement(elem, "get-url").text = part.get_url
            ET.SubElement(elem, "delete-url").text = part.delete_url
        ET.indent(root)
        return bytes(ET.tostring(root, encoding="UTF-8", xml_declaration=True))

    @classmethod
    def from_xml(cls, data: bytes) -> ImportManifest:
        """Parse a manifest; a malformed one is an :class:`Euca2oolsError`."""
        import xml.etree.ElementTree as ET

        try:
            root = ET.fromstring(data)
            imp = root.find("import")
            assert imp is not None
            manifest = cls(root.findtext("file-format") or "", int(imp.findtext("size") or 0),
                           int(imp.findtext("volume-size") or 0),
                           root.findtext("self-destruct-url") or "")
            for elem in imp.iter("part"):
                byte_range = elem.find("byte-range")
                assert byte_range is not None
                manifest.parts.append(ImportPart(
                    int(elem.get("index", "")), int(byte_range.get("start", "")),
                    int(byte_range.get("end", "")), elem.findtext("key") or "",
                    elem.findtext("head-url") or "", elem.findtext("get-url") or "",
                    elem.findtext("delete-url") or ""))
        except (ET.ParseError, AssertionError, ValueError):
            raise Euca2oolsError("the import manifest is not valid") from None
        manifest.parts.sort(key=lambda p: p.index)
        return manifest


# -- S3 access ----------------------------------------------------------------------------------
def s3_client(inv: Invocation) -> S3Client:
    """The S3 client for the image's bucket: ``--s3-url`` and ``-o/-w`` (the bucket owner's
    keys) override the region's ``s3-url`` and the user's keys."""
    from .bundle.s3 import S3Client
    from .config import Credentials, find_endpoint

    session = inv.session
    a = inv.args
    # -U names the compute endpoint only: S3 comes from --s3-url, S3_URL or s3-url.
    endpoint = find_endpoint(session.config, "s3", session.region, a.get("s3_url"),
                             environ=session._environ)
    if bool(a.get("owner_akid")) != bool(a.get("owner_sak")):
        raise ArgumentError("arguments -o/--owner-akid and -w/--owner-sak must be used "
                            "together")
    if a.get("owner_akid"):
        creds = Credentials(a["owner_akid"], a["owner_sak"])
    else:
        creds = session.credentials
    return S3Client(endpoint, creds, retries=session._max_retries(),
                    timeout=session._timeout(), debug=session.debug)


def presign(s3: S3Client, method: str, bucket: str, key: str, expires: int) -> str:
    """An S3 query-string signed (SigV2) URL for ``method`` valid until ``expires``
    (seconds since the epoch)."""
    import base64
    import hashlib
    import hmac
    import urllib.parse

    from .bundle.s3 import quote

    creds = s3.credentials
    url = s3.url(bucket, key)
    path = urllib.parse.urlsplit(url).path
    # The string to sign names the resource as /bucket/key whatever the endpoint's path.
    base_path = urllib.parse.urlsplit(s3.endpoint.url).path.rstrip("/")
    resource = path[len(base_path):] if base_path and path.startswith(base_path) else path
    amz = f"x-amz-security-token:{creds.security_token}\n" if creds.security_token else ""
    to_sign = f"{method}\n\n\n{expires}\n{amz}{resource}"
    signature = base64.b64encode(hmac.new(creds.secret_key.encode(), to_sign.encode(),
                                          hashlib.sha1).digest()).decode()
    query = {"AWSAccessKeyId": creds.key_id, "Expires": str(expires), "Signature": signature}
    if creds.security_token:
        query["x-amz-security-token"] = creds.security_token
    return url + "?" + "&".join(f"{k}={quote(v)}" for k, v in query.items())


def url_location(s3: S3Client, url: str) -> tuple[str, str]:
    """(bucket, key) of an object URL at the S3 endpoint (path or virtual-host style)."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    base = urllib.parse.urlsplit(s3.endpoint.url)
    path = urllib.parse.unquote(parts.path)
    base_path = base.path.rstrip("/")
    if parts.hostname and base.hostname and parts.hostname != base.hostname and \
            parts.hostname.endswith("." + base.hostname):
        bucket = parts.hostname[:-len(base.hostname) - 1]
        return bucket, path.lstrip("/")
    if base_path and path.startswith(base_path + "/"):
        path = path[len(base_path):]
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket or not key:
        raise ArgumentError(f"cannot find the bucket and key of '{url}'")
    return bucket, key


def ensure_bucket(inv: Invocation, s3: S3Client, bucket: str) -> None:
    """Create the bucket unless it exists (someone else's is an error), with the region's
    ``s3-location-constraint``."""
    status = s3.bucket_status(bucket)
    if status == 403:
        raise Euca2oolsError(f"bucket '{bucket}' belongs to another account")
    if status == 404:
        session = inv.session
        s3.create_bucket(bucket, session.config.get_region(session.region,
                                                           "s3-location-constraint")
                         if session.region else None)


# -- images ----------------------------------------------------------------------------------
def vmdk_capacity(path: str) -> int | None:
    """The virtual size of a sparse VMDK (header magic ``KDMV``, capacity in 512-byte
    sectors at offset 12), or None when the file is not one."""
    import struct

    with open(path, "rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != b"KDMV":
        return None
    return int(struct.unpack("<Q", header[12:20])[0]) * 512


def image_size(path: str, file_format: str, given: int | None) -> int:
    """The image's size in bytes as ImportVolume/ImportInstance want it."""
    if given:
        return given
    if file_format == "RAW":
        return os.path.getsize(path)
    if file_format == "VMDK":
        size = vmdk_capacity(path)
        if size:
            return size
    raise ArgumentError(f"argument --image-size is required for {file_format} files")


def manifest_key(source: str, prefix: str | None) -> str:
    """A fresh ``[PREFIX/]UUID/FILE.manifest.xml`` key for a new import."""
    import uuid

    key = f"{uuid.uuid4()}/{os.path.basename(source)}.manifest.xml"
    return f"{prefix.strip('/')}/{key}" if prefix else key


def expiry(days: int) -> int:
    """Seconds since the epoch ``days`` from now."""
    import time

    if days < 1:
        raise ArgumentError("argument -x/--expires: value must be positive")
    return int(time.time()) + days * 86400


# -- tasks -------------------------------------------------------------------------------------
def disk_container(task: dict[str, Any]) -> dict[str, Any]:
    """The ``importVolume`` part of a task, or the first volume of an ``importInstance``."""
    from .xmlparse import as_list

    if task.get("importVolume"):
        return dict(task["importVolume"])
    volumes = as_list((task.get("importInstance") or {}).get("volumes"))
    if not volumes:
        raise Euca2oolsError(f"import task {task.get('conversionTaskId')} has no disk image")
    return dict(volumes[0])


def describe_task(inv: Invocation, task_id: str) -> dict[str, Any]:
    """The conversion task ``task_id`` (DescribeConversionTasks)."""
    from .xmlparse import as_list

    result = inv.call("DescribeConversionTasks", {"ConversionTaskId": [task_id]}, service="ec2")
    for task in as_list(result.get("conversionTasks")):
        if task.get("conversionTaskId") == task_id:
            return dict(task)
    raise Euca2oolsError(f"import task {task_id} was not found")


def _get_manifest(s3: S3Client, bucket: str, key: str) -> ImportManifest | None:
    try:
        return ImportManifest.from_xml(s3.get_bytes(bucket, key))
    except ServiceError as err:
        if err.status == 404:
            return None
        raise


def _new_manifest(s3: S3Client, container: dict[str, Any], bucket: str, key: str,
                  source: str, file_size: int, expires: int,
                  part_size: int) -> ImportManifest:
    image = container.get("image") or {}
    volume = container.get("volume") or {}
    manifest = ImportManifest(str(image.get("format") or ""), int(image.get("size") or 0),
                              int(volume.get("size") or 0),
                              presign(s3, "DELETE", bucket, key, expires))
    key_prefix = key.rsplit("/", 1)[0] if "/" in key else ""
    name = os.path.basename(source)
    for index, start in enumerate(range(0, file_size, part_size)):
        part_key = f"{key_prefix}/{name}.part.{index}" if key_prefix else f"{name}.part.{index}"
        manifest.parts.append(ImportPart(
            index, start, min(start + part_size, file_size) - 1, part_key,
            presign(s3, "HEAD", bucket, part_key, expires),
            presign(s3, "GET", bucket, part_key, expires),
            presign(s3, "DELETE", bucket, part_key, expires)))
    return manifest


def _part_exists(s3: S3Client, bucket: str, key: str) -> bool:
    try:
        s3.request("HEAD", bucket, key).close()
    except ServiceError as err:
        if err.status == 404:
            return False
        raise
    return True


def resume_upload(inv: Invocation, s3: S3Client, task: dict[str, Any], source: str,
                  days: int, part_size: int = PART_SIZE) -> int:
    """Upload the manifest (unless the bucket has it already) and every missing part.

    Returns the number of parts uploaded.  The file must be the size the manifest says
    (the file the import started with)."""
    container = disk_container(task)
    manifest_url = (container.get("image") or {}).get("importManifestUrl")
    if not manifest_url:
        raise Euca2oolsError(f"import task {task.get('conversionTaskId')} has no manifest URL")
    bucket, key = url_location(s3, manifest_url)
    file_size = os.path.getsize(source)
    manifest = _get_manifest(s3, bucket, key)
    if manifest is None:
        manifest = _new_manifest(s3, container, bucket, key, source, file_size, expiry(days),
                                 part_size)
        s3.put_object(bucket, key, data=manifest.to_xml())
    expected = manifest.parts[-1].end + 1 if manifest.parts else 0
    if expected != file_size:
        raise ArgumentError(f'file "{source}" is not the same size as the file the import '
                            f"started with (expected: {expected}, actual: {file_size})")
    uploaded = 0
    with open(source, "rb") as handle:
        for part in manifest.parts:
            if _part_exists(s3, bucket, part.key):
                continue
            handle.seek(part.start)
            s3.put_object(bucket, part.key, data=handle.read(part.end - part.start + 1))
            uploaded += 1
    return uploaded


def delete_image(s3: S3Client, manifest_url: str) -> int:
    """Delete every part of the image and then the manifest; returns the parts deleted."""
    bucket, key = url_location(s3, manifest_url)
    manifest = _get_manifest(s3, bucket, key)
    if manifest is None:
        raise ArgumentError(f'import manifest "{bucket}/{key}" does not exist')
    for part in manifest.parts:
        try:
            s3.delete_object(bucket, part.key)
        except ServiceError as err:
            if err.status != 404:
                raise
    s3.delete_object(bucket, key)
    return len(manifest.parts)
