"""What each bundle command does with its parsed arguments.

Keys and certificates are found the euca2ools way (reference §3.6, §7.2), then the work
is handed to :mod:`.tasks`.  The declarations are in :mod:`euca2ools.commands.bundle`.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

    from ..runtime import Invocation
    from .s3 import PolicyUploader, S3Client
    from .tasks import BundleSpec, RemoteBundle


# -- key and certificate lookup (reference §3.6, §7.2) ----------------------------------------
def _env(*names: str) -> str | None:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


def cloud_certificate(inv: Invocation) -> RSAPublicKey:
    """The cloud's certificate: --ec2cert, EUCALYPTUS_CERT, the region's, then bootstrap."""
    from ..exceptions import ConfigError
    from .keys import BundleError, certificate_from_pem, load_certificate

    a = inv.args
    path = a.get("ec2cert") or _env("EUCALYPTUS_CERT")
    if path:
        return load_certificate(path, "cloud certificate")
    session = inv.session
    path = session.config.get_region(session.region, "certificate")
    if path:
        return load_certificate(path, "cloud certificate")
    if a.get("bootstrap_url"):
        session._urls["bootstrap"] = a["bootstrap_url"]
    try:
        session.endpoint("bootstrap")
    except ConfigError:
        raise BundleError(
            "missing cloud certificate; please supply one with --ec2cert, the EUCALYPTUS_CERT "
            "environment variable, or \"certificate\" in the region's section of "
            "euca2ools.ini (or give --bootstrap-url to fetch it from the cloud)") from None
    result = session.call("bootstrap", "DescribeServiceCertificates",
                          {"Format": "pem", "FingerprintDigest": "SHA-256"})
    from ..xmlparse import as_list

    for cert in as_list(result.get("serviceCertificates")):
        if cert.get("serviceType") == "compute" and \
                cert.get("certificateUsage") == "image-bundling" and cert.get("certificate"):
            return certificate_from_pem(str(cert["certificate"]).encode(),
                                        "the bootstrap service's cloud certificate")
    raise BundleError("the bootstrap service has no image-bundling certificate for the compute "
                      "service; please supply one with --ec2cert")


def _user_option(inv: Invocation, option: str) -> str | None:
    from ..exceptions import Euca2oolsError

    try:
        session = inv.session
        return session.config.get_user(session.user, option)
    except Euca2oolsError:  # a broken config only matters to commands that need it
        return None


def user_certificate(inv: Invocation) -> RSAPublicKey | None:
    """The user's certificate (-c, EC2_CERT/EUCA_CERT, [user] certificate) or None."""
    from .keys import load_certificate

    path = inv.args.get("cert") or _env("EC2_CERT", "EUCA_CERT") or \
        _user_option(inv, "certificate")
    return load_certificate(path, "certificate") if path else None


def private_key_path(inv: Invocation) -> str | None:
    """-k, else EUCA_PRIVATE_KEY, EC2_PRIVATE_KEY, then the user's ``private-key``."""
    return inv.args.get("privatekey") or _env("EUCA_PRIVATE_KEY", "EC2_PRIVATE_KEY") or \
        _user_option(inv, "private-key")


def unbundling_key(inv: Invocation) -> tuple[RSAPrivateKey, str]:
    """The private key to unbundle with, and its path."""
    from ..exceptions import ArgumentError
    from .keys import load_private_key

    path = private_key_path(inv)
    if not path:
        raise ArgumentError("missing private key; please supply one with -k")
    return load_private_key(path), path


def s3_client(inv: Invocation) -> S3Client:
    """An S3 client for the command's region, user and -U."""
    from .s3 import S3Client

    session = inv.session
    return S3Client(session.endpoint("s3"), session.credentials,
                    retries=session._max_retries(), timeout=session._timeout(),
                    debug=session.debug)


def policy_writer(inv: Invocation) -> PolicyUploader | None:
    """A :class:`~euca2ools.bundle.s3.PolicyUploader` when an upload policy is given."""
    from ..exceptions import ArgumentError

    a = inv.args
    policy = a.get("upload_policy")
    if a.get("upload_policy_file"):
        with open(a["upload_policy_file"], encoding="utf-8") as handle:
            policy = handle.read()
    if not policy:
        if a.get("upload_policy_signature"):
            raise ArgumentError("argument --upload-policy-signature: only allowed with "
                                "--upload-policy or --upload-policy-file")
        return None
    if not a.get("access_key_id"):
        raise ArgumentError("argument -I/--access-key-id is required when using an upload "
                            "policy")
    if not a.get("upload_policy_signature"):
        raise ArgumentError("argument --upload-policy-signature is required when using an "
                            "upload policy")
    from .s3 import PolicyUploader

    session = inv.session
    return PolicyUploader(session.endpoint("s3"), a["access_key_id"], policy,
                          a["upload_policy_signature"], retries=session._max_retries(),
                          timeout=session._timeout(), debug=session.debug)


def _progress(inv: Invocation) -> bool:
    from .progress import wanted

    return wanted(inv.args.get("progress"), inv.args.get("no_progress"))


# -- bundling -----------------------------------------------------------------------------------
def _mappings(text: str | None) -> list[tuple[str, str]]:
    from ..exceptions import ArgumentError

    out = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        virtual, sep, device = item.partition("=")
        if not sep or not virtual.strip() or not device.strip():
            raise ArgumentError(f"argument -B/--block-device-mappings: '{item}' must have the "
                                "form VIRTUAL=DEVICE")
        out.append((virtual.strip(), device.strip()))
    return out


def bundle_spec(inv: Invocation) -> BundleSpec:
    """A :class:`~euca2ools.bundle.tasks.BundleSpec` from the bundling options."""
    from ..exceptions import ArgumentError, LocalFileError
    from .keys import load_private_key, parse_hex_key
    from .tasks import EC2_IMAGE_LIMIT, BundleSpec

    a = inv.args
    image = a["image"]
    if image == "-":
        if not a.get("prefix") or a.get("image_size") is None:
            raise ArgumentError("--prefix and --image-size are required when bundling stdin")
        size = int(a["image_size"])
    else:
        if not os.path.isfile(image):
            raise LocalFileError(f"argument -i/--image: '{image}' is not a file")
        size = os.path.getsize(image)
        if a.get("image_size") is not None and int(a["image_size"]) != size:
            raise ArgumentError(f"argument --image-size: the image has {size} bytes")
    prefix = a.get("prefix") or os.path.basename(image)
    if "/" in prefix:
        raise ArgumentError("argument -p/--prefix: may not contain '/'")
    image_type = a.get("image_type") or "machine"
    kernel, ramdisk = a.get("kernel") or "", a.get("ramdisk") or ""
    if kernel.lower() == "true":
        image_type, kernel = "kernel", ""
    if ramdisk.lower() == "true":
        image_type, ramdisk = "ramdisk", ""
    if image_type != "machine" and (kernel or ramdisk or a.get("block_device_mappings")):
        raise ArgumentError(f"a {image_type} image cannot have a kernel, ramdisk or block "
                            "device mappings")
    user = (a.get("user") or inv_account(inv) or "").replace("-", "")
    if not user:
        raise ArgumentError("missing account ID; please supply one with --user")
    key_path = private_key_path(inv)
    destination = a.get("destination") or _env("TMPDIR", "TEMP", "TMP") or "/var/tmp"
    if size > EC2_IMAGE_LIMIT:
        import sys

        sys.stderr.write(f"{inv.prog}: warning: this image is larger than 10 GiB; EC2 does not "
                         "run instance-store images this large\n")
    return BundleSpec(
        image=image, prefix=prefix, destination=destination, architecture=a["arch"],
        user=user, cloud_cert=cloud_certificate(inv), image_size=size, image_type=image_type,
        user_cert=user_certificate(inv),
        signing_key=load_private_key(key_path) if key_path else None,
        kernel_id=kernel, ramdisk_id=ramdisk,
        block_device_mappings=_mappings(a.get("block_device_mappings")),
        product_codes=[c.strip() for c in (a.get("productcodes") or "").split(",") if c.strip()],
        part_size=a.get("part_size") or 10 * 1024 * 1024,
        key=parse_hex_key(a["enc_key"], "--enc-key") if a.get("enc_key") else b"",
        iv=parse_hex_key(a["enc_iv"], "--enc-iv") if a.get("enc_iv") else b"")


def inv_account(inv: Invocation) -> str | None:
    """``EC2_USER_ID``, else the selected user's ``account-id``."""
    from ..exceptions import Euca2oolsError

    try:
        return inv.session.account_id
    except Euca2oolsError:  # no usable config: the caller asks for --user
        return os.environ.get("EC2_USER_ID")


def run_bundle_image(inv: Invocation) -> None:
    """euca-bundle-image: write the parts and manifest."""
    from .tasks import make_bundle

    path, _manifest = make_bundle(bundle_spec(inv), _progress(inv))
    inv.echo(f"Wrote manifest {path}")


def run_upload_bundle(inv: Invocation) -> None:
    """euca-upload-bundle: upload parts, then the manifest."""
    from .tasks import upload_bundle

    a = inv.args
    location = a.get("location") or inv.session.config.get_region(inv.session.region,
                                                                 "s3-location-constraint")
    writer = policy_writer(inv)
    where = upload_bundle(None if writer else s3_client(inv), a["bucket"], a["manifest"],
                          a.get("directory"), a.get("acl") or "aws-exec-read", location,
                          5 if a.get("retry") else None, bool(a.get("skipmanifest")),
                          _progress(inv), writer,
                          # euca2ools lists the parts too, with --debug
                          (lambda name: inv.echo(f"Uploaded {name}")) if a.get("debug") else None)
    if not a.get("skipmanifest"):
        inv.echo(f"Uploaded {where}")


def _bundle_and_upload(inv: Invocation) -> str:
    from .tasks import bundle_and_upload

    a = inv.args
    writer = policy_writer(inv)
    spec = bundle_spec(inv)
    location = a.get("location") or inv.session.config.get_region(inv.session.region,
                                                                 "s3-location-constraint")
    return bundle_and_upload(spec, None if writer else s3_client(inv), a["bucket"],
                             a.get("acl") or "aws-exec-read", location,
                             5 if a.get("retry") else None, a.get("max_pending_parts") or 2,
                             bool(a.get("preserve_bundle")), _progress(inv), writer)


def run_bundle_and_upload(inv: Invocation) -> None:
    """euca-bundle-and-upload-image: bundle while uploading."""
    inv.echo(f"Uploaded {_bundle_and_upload(inv)}")


def run_install_image(inv: Invocation) -> None:
    """euca-install-image: bundle, upload, then RegisterImage."""
    a = inv.args
    if a.get("ec2_url"):
        inv.session._urls["ec2"] = a["ec2_url"]
    inv.session.endpoint("ec2")  # no compute endpoint: say so before uploading anything
    location = _bundle_and_upload(inv)
    params = {"ImageLocation": location, "Name": a["name"], "Architecture": a["arch"],
              "Description": a.get("description"),
              "VirtualizationType": a.get("virtualization_type"), "Platform": a.get("platform")}
    # The manifest names them too; sending them spares the cloud from reading it.
    for option, param in (("kernel", "KernelId"), ("ramdisk", "RamdiskId")):
        value = a.get(option)
        if value and value.lower() != "true":
            params[param] = value
    result = inv.call("RegisterImage", params, service="ec2")
    inv.emit("IMAGE", result.get("imageId"))


# -- downloading, unbundling, deleting ------------------------------------------------------------
def _remote(inv: Invocation, s3: S3Client) -> RemoteBundle:
    from .tasks import find_bundle

    a = inv.args
    return find_bundle(s3, a["bucket"], a.get("manifest"), a.get("prefix"),
                       a.get("local_manifest"))


def run_download_bundle(inv: Invocation) -> None:
    """euca-download-bundle: parts and manifest to a directory (or stdout)."""
    import sys

    from .progress import Progress
    from .tasks import download_bundle, remote_chunks, write_stream

    s3 = s3_client(inv)
    bundle = _remote(inv, s3)
    directory = inv.args.get("directory") or "."
    if directory == "-":
        bar = Progress(f"Downloading {bundle.manifest.name}",
                       bundle.manifest.bundled_size or None, _progress(inv))
        try:
            write_stream(remote_chunks(s3, bundle, bar), sys.stdout.buffer)
        finally:
            bar.finish()
        return
    path = download_bundle(s3, bundle, directory, _progress(inv))
    inv.echo(f"Wrote manifest {path}")


def run_download_and_unbundle(inv: Invocation) -> None:
    """euca-download-and-unbundle: S3 straight into the unbundling pipeline."""
    from .progress import Progress
    from .tasks import remote_chunks, unbundle_to

    s3 = s3_client(inv)
    key, key_path = unbundling_key(inv)
    bundle = _remote(inv, s3)
    destination = inv.args.get("destination") or "."
    bar = Progress(f"Downloading {bundle.manifest.name}", bundle.manifest.bundled_size or None,
                   _progress(inv) and destination != "-")
    try:
        path = unbundle_to(remote_chunks(s3, bundle, bar), bundle.manifest, key, destination,
                           key_path)
    finally:
        bar.finish()
    if path != "-":
        inv.echo(f"Wrote {path}")


def run_unbundle(inv: Invocation) -> None:
    """euca-unbundle: rebuild the image from local parts."""
    from .manifest import Manifest
    from .progress import Progress
    from .tasks import local_chunks, unbundle_to

    a = inv.args
    with open(a["manifest"], "rb") as handle:
        manifest = Manifest.from_xml(handle.read(), a["manifest"])
    key, key_path = unbundling_key(inv)
    source = a.get("source")
    if not source:
        # euca2ools looks in the current directory; the manifest's own directory is
        # where the parts usually are, so it is tried when they are not here.
        first = manifest.parts[0].filename if manifest.parts else ""
        source = "." if first and os.path.isfile(first) else \
            os.path.dirname(os.path.abspath(a["manifest"]))
    destination = a.get("destination") or "."
    if not os.path.isdir(destination):
        from ..exceptions import ArgumentError

        raise ArgumentError(f"argument -d/--destination: '{destination}' is not a directory")
    bar = Progress(f"Unbundling {manifest.name}", manifest.bundled_size or None, _progress(inv))
    try:
        path = unbundle_to(local_chunks(manifest, source, bar), manifest, key, destination,
                           key_path)
    finally:
        bar.finish()
    inv.echo(f"Wrote {path}")


def run_unbundle_stream(inv: Invocation) -> None:
    """euca-unbundle-stream: rebuild an image from joined parts and a known key."""
    import sys

    from ..exceptions import ArgumentError
    from .keys import parse_hex_key
    from .pipeline import unbundle_stream
    from .tasks import stdin_chunks

    a = inv.args
    try:
        key = parse_hex_key(a["enc_key"], "--enc-key")
        iv = parse_hex_key(a["enc_iv"], "--enc-iv")
    except ValueError as err:
        raise ArgumentError(str(err)) from None
    source = open(a["source"], "rb") if a.get("source") and a["source"] != "-" \
        else sys.stdin.buffer  # noqa: SIM115
    dest_path = a.get("dest") if a.get("dest") not in (None, "-") else None
    try:
        if dest_path is None:
            unbundle_stream(stdin_chunks(source), key, iv, sys.stdout.buffer,
                            a.get("sha1_digest"), a.get("image_size"))
            sys.stdout.buffer.flush()
            return
        tmp = dest_path + ".unbundling"
        try:
            with open(tmp, "wb") as out:
                unbundle_stream(stdin_chunks(source), key, iv, out, a.get("sha1_digest"),
                                a.get("image_size"))
            os.replace(tmp, dest_path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    finally:
        if source is not sys.stdin.buffer:
            source.close()


def run_delete_bundle(inv: Invocation) -> None:
    """euca-delete-bundle: delete the parts and manifest (and the bucket with --clear)."""
    from ..exceptions import ServiceError
    from .tasks import delete_bundle, split_bucket

    s3 = s3_client(inv)
    try:
        bundle = _remote(inv, s3)
    except ServiceError as err:
        # With --clear a bundle whose manifest is gone still gets its bucket removed.
        if not inv.args.get("clear") or err.status != 404:
            raise
        bundle = None
    if bundle is not None:
        delete_bundle(s3, bundle)
    if inv.args.get("clear"):
        s3.delete_bucket(split_bucket(inv.args["bucket"])[0])
