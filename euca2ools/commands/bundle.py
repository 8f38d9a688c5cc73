"""Image bundle commands: bundle, upload, download, unbundle and delete instance-store images.

The bundle format and the S3 transfers live in :mod:`euca2ools.bundle`; these are the
declarations and the glue that resolves keys and certificates the euca2ools way
(reference §3.6 and §7).
"""

from __future__ import annotations

import os

from ..decl import Arg, Command, Group

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

    from ..bundle.s3 import S3Client
    from ..runtime import Invocation

ARCHES = ("i386", "x86_64", "armhf", "ppc", "ppc64", "ppc64le")
ACLS = ("public-read", "aws-exec-read", "ec2-bundle-read")
_SUFFIXES = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}


def filesize(text: str) -> int:
    """A byte count with an optional k/m/g/t suffix (powers of 1024): ``10m``, ``2G``."""
    value = text.strip().lower().removesuffix("ib").removesuffix("b") or "x"
    unit = value[-1] if value[-1] in _SUFFIXES else ""
    number = value[:-1] if unit else value
    try:
        size = int(float(number) * _SUFFIXES[unit])
    except ValueError:
        raise ValueError(f"'{text}' is not a size (a number with an optional k, m, g or t "
                         "suffix)") from None
    if size < 0:
        raise ValueError(f"'{text}': a size cannot be negative")
    return size


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise ValueError(f"'{text}' must be at least 1")
    return value


# -- key and certificate lookup (reference §3.6, §7.2) ----------------------------------------
def _env(*names: str) -> str | None:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


def cloud_certificate(inv: Invocation) -> RSAPublicKey:
    """The cloud's certificate: --ec2cert, EUCALYPTUS_CERT, the region's, then bootstrap."""
    from ..bundle.keys import BundleError, certificate_from_pem, load_certificate
    from ..exceptions import ConfigError

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
    try:
        session = inv.session
        return session.config.get_user(session.user, option)
    except Exception:  # a broken config only matters to commands that need it
        return None


def user_certificate(inv: Invocation) -> RSAPublicKey | None:
    """The user's certificate (-c, EC2_CERT/EUCA_CERT, [user] certificate) or None."""
    from ..bundle.keys import load_certificate

    path = inv.args.get("cert") or _env("EC2_CERT", "EUCA_CERT") or \
        _user_option(inv, "certificate")
    return load_certificate(path, "certificate") if path else None


def private_key_path(inv: Invocation) -> str | None:
    """-k, else EUCA_PRIVATE_KEY, EC2_PRIVATE_KEY, then the user's ``private-key``."""
    return inv.args.get("privatekey") or _env("EUCA_PRIVATE_KEY", "EC2_PRIVATE_KEY") or \
        _user_option(inv, "private-key")


def unbundling_key(inv: Invocation) -> tuple[RSAPrivateKey, str]:
    """The private key to unbundle with, and its path."""
    from ..bundle.keys import load_private_key
    from ..exceptions import ArgumentError

    path = private_key_path(inv)
    if not path:
        raise ArgumentError("missing private key; please supply one with -k")
    return load_private_key(path), path


def s3_client(inv: Invocation) -> S3Client:
    """An S3 client for the command's region, user and -U."""
    from ..bundle.s3 import S3Client

    session = inv.session
    return S3Client(session.endpoint("s3"), session.credentials,
                    retries=session._max_retries(), timeout=session._timeout(),
                    debug=session.debug)


def policy_writer(inv: Invocation) -> Any:
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
    from ..bundle.s3 import PolicyUploader

    session = inv.session
    return PolicyUploader(session.endpoint("s3"), a["access_key_id"], policy,
                          a["upload_policy_signature"], retries=session._max_retries(),
                          timeout=session._timeout(), debug=session.debug)


def _progress(inv: Invocation) -> bool:
    from ..bundle.progress import wanted

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


def bundle_spec(inv: Invocation) -> Any:
    """A :class:`~euca2ools.bundle.tasks.BundleSpec` from the bundling options."""
    from ..bundle.keys import load_private_key, parse_hex_key
    from ..bundle.tasks import EC2_IMAGE_LIMIT, BundleSpec
    from ..exceptions import ArgumentError

    a = inv.args
    image = a["image"]
    if image == "-":
        if not a.get("prefix") or a.get("image_size") is None:
            raise ArgumentError("--prefix and --image-size are required when bundling stdin")
        size = int(a["image_size"])
    else:
        if not os.path.isfile(image):
            raise ArgumentError(f"argument -i/--image: '{image}' is not a file")
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
    try:
        return inv.session.account_id
    except Exception:  # no usable config: the caller asks for --user
        return os.environ.get("EC2_USER_ID")


def _run_bundle_image(inv: Invocation) -> None:
    from ..bundle.tasks import make_bundle

    path, _manifest = make_bundle(bundle_spec(inv), _progress(inv))
    inv.echo(f"Wrote manifest {path}")


def _run_upload_bundle(inv: Invocation) -> None:
    from ..bundle.tasks import upload_bundle

    a = inv.args
    location = a.get("location") or inv.session.config.get_region(inv.session.region,
                                                                 "s3-location-constraint")
    writer = policy_writer(inv)
    where = upload_bundle(None if writer else s3_client(inv), a["bucket"], a["manifest"],
                          a.get("directory"), a.get("acl") or "aws-exec-read", location,
                          5 if a.get("retry") else None, bool(a.get("skipmanifest")),
                          _progress(inv), writer)
    inv.echo(f"Uploaded {where}")


def _bundle_and_upload(inv: Invocation) -> str:
    from ..bundle.tasks import bundle_and_upload

    a = inv.args
    writer = policy_writer(inv)
    spec = bundle_spec(inv)
    location = a.get("location") or inv.session.config.get_region(inv.session.region,
                                                                 "s3-location-constraint")
    return bundle_and_upload(spec, None if writer else s3_client(inv), a["bucket"],
                             a.get("acl") or "aws-exec-read", location,
                             5 if a.get("retry") else None, a.get("max_pending_parts") or 2,
                             bool(a.get("preserve_bundle")), _progress(inv), writer)


def _run_bundle_and_upload(inv: Invocation) -> None:
    inv.echo(f"Uploaded {_bundle_and_upload(inv)}")


def _run_install_image(inv: Invocation) -> None:
    a = inv.args
    location = _bundle_and_upload(inv)
    if a.get("ec2_url"):
        inv.session._urls["ec2"] = a["ec2_url"]
    params = {"ImageLocation": location, "Name": a["name"], "Architecture": a["arch"],
              "Description": a.get("description"),
              "VirtualizationType": a.get("virtualization_type"), "Platform": a.get("platform")}
    result = inv.call("RegisterImage", params, service="ec2")
    inv.emit("IMAGE", result.get("imageId"))


# -- downloading, unbundling, deleting ------------------------------------------------------------
def _remote(inv: Invocation, s3: S3Client) -> Any:
    from ..bundle.tasks import find_bundle

    a = inv.args
    return find_bundle(s3, a["bucket"], a.get("manifest"), a.get("prefix"),
                       a.get("local_manifest"))


def _run_download_bundle(inv: Invocation) -> None:
    import sys

    from ..bundle.progress import Progress
    from ..bundle.tasks import download_bundle, remote_chunks, write_stream

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


def _run_download_and_unbundle(inv: Invocation) -> None:
    from ..bundle.progress import Progress
    from ..bundle.tasks import remote_chunks, unbundle_to

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


def _run_unbundle(inv: Invocation) -> None:
    from ..bundle.manifest import Manifest
    from ..bundle.progress import Progress
    from ..bundle.tasks import local_chunks, unbundle_to

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


def _run_unbundle_stream(inv: Invocation) -> None:
    import sys

    from ..bundle.keys import parse_hex_key
    from ..bundle.pipeline import unbundle_stream
    from ..bundle.tasks import stdin_chunks
    from ..exceptions import ArgumentError

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


def _run_delete_bundle(inv: Invocation) -> None:
    from ..bundle.tasks import delete_bundle, split_bucket
    from ..exceptions import ServiceError

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


# -- declarations -------------------------------------------------------------------------------
def _progress_args() -> Group:
    return Group(
        Arg("--progress", name="progress", flag=True,
            help="show progress (the default when run interactively)"),
        Arg("--no-progress", name="no_progress", flag=True,
            help="do not show progress (the default when run non-interactively)"))


def _bundle_args(upload: bool) -> list[Arg | Group]:
    args: list[Arg | Group] = [
        Arg("-i", "--image", name="image", required=True, metavar="FILE", complete="file",
            help="file containing the image to bundle (\"-\" for stdin)"),
        Arg("-p", "--prefix", name="prefix",
            help="the file name prefix to give the bundle's files (required when bundling "
            "stdin; default: the image's file name)"),
        Arg("-d", "--destination", name="destination", metavar="DIR", complete="file",
            help="location to place the bundle's files (default: dir named by TMPDIR, TEMP, "
            "or TMP environment variables, or otherwise /var/tmp)"),
        Arg("-r", "--arch", name="arch", required=True, choices=ARCHES,
            help="the image's architecture"),
        Arg("-k", "--privatekey", name="privatekey", metavar="FILE", complete="file",
            help="file containing your private key to sign the bundle's manifest with. If one "
            "is not available the bundle will not be signed."),
        Arg("-c", "--cert", name="cert", metavar="FILE", complete="file",
            help="file containing your X.509 certificate. If one is not available it will not "
            "be possible to unbundle the bundle without cloud administrator assistance."),
        Arg("--ec2cert", name="ec2cert", metavar="FILE", complete="file",
            help="file containing the cloud's X.509 certificate (default: EUCALYPTUS_CERT, the "
            "region's certificate, or the bootstrap service's)"),
        Arg("-u", "--user", name="user", metavar="ACCOUNT",
            help="your account ID (default: EC2_USER_ID or the user's account-id)"),
        Arg("--kernel", name="kernel", metavar="IMAGE", complete="image",
            help="ID of the kernel image to associate with this machine image (or \"true\" if "
            "this image is a kernel)"),
        Arg("--ramdisk", name="ramdisk", metavar="IMAGE", complete="image",
            help="ID of the ramdisk image to associate with this machine image (or \"true\" if "
            "this image is a ramdisk)"),
        Arg("-B", "--block-device-mappings", name="block_device_mappings",
            metavar="VIRTUAL1=DEVICE1,VIRTUAL2=DEVICE2,...",
            help="block device mapping scheme with which to launch instances of this machine "
            "image"),
        Arg("--productcodes", name="productcodes", metavar="CODE1,CODE2,...",
            help="comma-separated list of product codes for the image"),
        Arg("--image-size", name="image_size", metavar="SIZE", type=filesize,
            help="the image's size (required when bundling stdin; k, m, g, t suffixes)"),
        Arg("--bootstrap-url", name="bootstrap_url", metavar="URL",
            help="[Eucalyptus only] bootstrap service endpoint URL (used for obtaining the "
            "cloud's certificate)"),
        Arg("--image-type", name="image_type", choices=("machine", "kernel", "ramdisk"),
            hidden=True, help="the type of image being bundled"),
        Arg("--part-size", name="part_size", metavar="SIZE", type=filesize, hidden=True,
            help="size of each bundle part (default: 10 MiB)"),
        Arg("--enc-key", name="enc_key", metavar="HEX", hidden=True,
            help="AES key to encrypt the bundle with (default: random)"),
        Arg("--enc-iv", name="enc_iv", metavar="HEX", hidden=True,
            help="AES IV to encrypt the bundle with (default: random)"),
        Arg("--batch", name="batch", flag=True, hidden=True, help="run non-interactively"),
        _progress_args(),
    ]
    if upload:
        args += _upload_args() + [
            Arg("--preserve-bundle", name="preserve_bundle", flag=True,
                help="do not delete the bundle's files from the local disk after uploading"),
            Arg("--max-pending-parts", name="max_pending_parts", metavar="N", type=positive_int,
                help="pause bundling when this many parts wait to be uploaded (default: 2)"),
        ]
    return args


def _upload_args() -> list[Arg | Group]:
    return [
        Arg("-b", "--bucket", name="bucket", required=True, metavar="BUCKET[/PREFIX]",
            help="bucket to upload the bundle to"),
        Arg("--acl", name="acl", choices=ACLS,
            help="canned ACL policy to apply to the bundle (default: aws-exec-read)"),
        Arg("--location", name="location",
            help="location constraint of the destination bucket (default: the region's "
            "s3-location-constraint)"),
        Arg("--retry", name="retry", flag=True,
            help="retry failed uploads up to 5 times"),
        Group(
            Arg("--upload-policy", name="upload_policy", metavar="POLICY",
                help="upload policy to use for authorization (JSON, or base64 of it)"),
            Arg("--upload-policy-file", name="upload_policy_file", metavar="FILE",
                complete="file", help="file containing an upload policy to use for "
                "authorization")),
        Arg("--upload-policy-signature", name="upload_policy_signature", metavar="SIGNATURE",
            help="signature for the upload policy (required when an upload policy is used; "
            "uploads then need only -I, not the secret key)"),
    ]


def _download_args() -> list[Arg | Group]:
    return [
        Arg("-b", "--bucket", name="bucket", required=True, metavar="BUCKET[/PREFIX]",
            help="bucket the bundle is in"),
        Group(
            Arg("-m", "--manifest", name="manifest", metavar="NAME",
                help="the bundle's manifest's object name (without the bucket or prefix)"),
            Arg("-p", "--prefix", name="prefix",
                help="the bundle's prefix (its manifest is PREFIX.manifest.xml)"),
            Arg("--local-manifest", name="local_manifest", metavar="FILE", complete="file",
                help="use a local copy of the bundle's manifest"),
            required=True),
    ]


_PRIVATE_KEY = Arg("-k", "--privatekey", name="privatekey", metavar="FILE", complete="file",
                   help="file containing the private key to decrypt the bundle with (default: "
                   "EUCA_PRIVATE_KEY, EC2_PRIVATE_KEY, or the user's private-key)")

COMMANDS = [
    Command("euca-bundle-image", "local", None, "Prepare an image for use in the cloud",
            _bundle_args(upload=False), run=_run_bundle_image, fast=False, configured=True,
            description="Writes the bundle's parts and PREFIX.manifest.xml to the destination "
            "and prints \"Wrote manifest FILE\". The image is archived with tar, compressed "
            "with gzip, encrypted with AES-128-CBC under a random key, and cut into 10 MiB "
            "parts; the key is encrypted to the cloud's certificate (--ec2cert, else "
            "EUCALYPTUS_CERT, the region's certificate in euca2ools.ini, or the bootstrap "
            "service's DescribeServiceCertificates) and to the user's (-c, else EC2_CERT, "
            "EUCA_CERT or the user's certificate). The manifest is signed with the user's "
            "private key (-k, else EUCA_PRIVATE_KEY, EC2_PRIVATE_KEY or the user's "
            "private-key) when there is one. The account ID comes from -u, EC2_USER_ID or the "
            "user's account-id."),
    Command("euca-upload-bundle", "s3", None,
            "Upload a bundle prepared by euca-bundle-image to the cloud",
            [*_upload_args(),
             Arg("-m", "--manifest", name="manifest", required=True, metavar="FILE",
                 complete="file", help="manifest for the bundle to upload"),
             Arg("-d", "--directory", name="directory", metavar="DIR", complete="file",
                 help="directory that contains the bundle parts (default: directory that "
                 "contains the manifest)"),
             Arg("--skipmanifest", name="skipmanifest", flag=True,
                 help="do not upload the manifest"),
             _progress_args()],
            run=_run_upload_bundle, fast=False,
            description="Creates the bucket when it does not exist, uploads each part, then the "
            "manifest, and prints \"Uploaded BUCKET/KEY\" for the manifest."),
    Command("euca-bundle-and-upload-image", "s3", None,
            "Prepare and upload an image for use in the cloud", _bundle_args(upload=True),
            run=_run_bundle_and_upload, fast=False,
            description="Bundles and uploads at the same time; parts are deleted once uploaded "
            "unless --preserve-bundle is given."),
    Command("euca-install-image", "s3", None,
            "Bundle, upload and register an image into the cloud",
            [*_bundle_args(upload=True),
             Arg("-n", "--name", name="name", required=True, help="name of the new image"),
             Arg("--description", name="description", help="description of the new image"),
             Arg("--virtualization-type", name="virtualization_type",
                 choices=("paravirtual", "hvm"), help="virtualization type for the new image"),
             Arg("--platform", name="platform", choices=("windows",),
                 help="[Privileged] the new image's platform (windows)"),
             Arg("--ec2-url", name="ec2_url", metavar="URL",
                 help="compute service endpoint URL (for registering the image)")],
            run=_run_install_image, fast=False,
            description="Bundles and uploads the image as euca-bundle-and-upload-image does, "
            "then registers it with the compute service's RegisterImage request and prints "
            "IMAGE and the new image's ID."),
    Command("euca-download-bundle", "s3", None, "Download a bundled image from the cloud",
            [*_download_args(),
             Arg("-d", "--directory", name="directory", metavar="DIR", complete="file",
                 help="the directory to download the bundle parts to, or \"-\" to write the "
                 "bundled image to stdout (default: current directory)"),
             _progress_args()],
            run=_run_download_bundle, fast=False,
            description="Checks each part's SHA-1 against the manifest and prints \"Wrote "
            "manifest FILE\"."),
    Command("euca-download-and-unbundle", "s3", None,
            "Download and unbundle a bundled image from the cloud",
            [*_download_args(), _PRIVATE_KEY,
             Arg("-d", "--destination", name="destination", metavar="(FILE | DIR)",
                 complete="file", help="where to put the unbundled image (default: current "
                 "directory; \"-\" for stdout)"),
             _progress_args()],
            run=_run_download_and_unbundle, fast=False,
            description="Streams the parts through the unbundling pipeline without storing "
            "them and prints \"Wrote FILE\"."),
    Command("euca-unbundle", "local", None, "Recreate an image from its bundled parts",
            [Arg("-m", "--manifest", name="manifest", required=True, metavar="FILE",
                 complete="file", help="the bundle's manifest file"),
             Arg("-s", "--source", name="source", metavar="DIR", complete="file",
                 help="directory containing the bundled image parts (default: current "
                 "directory, else the manifest's)"),
             Arg("-d", "--destination", name="destination", metavar="DIR", complete="file",
                 help="where to write the unbundled image (default: current directory)"),
             _PRIVATE_KEY, _progress_args()],
            run=_run_unbundle, fast=False, configured=True,
            description="Decrypts with the user's key copy (user_encrypted_key) or the cloud's "
            "(ec2_encrypted_key), checks every digest, and prints \"Wrote FILE\"."),
    Command("euca-unbundle-stream", "local", None,
            "Recreate an image solely from its combined bundled parts without using a manifest",
            [Arg("-i", name="source", metavar="FILE", complete="file",
                 help="file to read the bundle from (default: stdin)"),
             Arg("-o", name="dest", metavar="FILE", complete="file",
                 help="file to write the unbundled image to (default: stdout)"),
             Arg("--enc-key", name="enc_key", required=True, metavar="HEX",
                 help="the symmetric key for the bundle (hex)"),
             Arg("--enc-iv", name="enc_iv", required=True, metavar="HEX",
                 help="the initialization vector for the bundle (hex)"),
             Arg("--image-size", name="image_size", metavar="SIZE", type=filesize,
                 help="verify the unbundled image's size"),
             Arg("--sha1-digest", name="sha1_digest", metavar="HEX",
                 help="verify the SHA-1 digest of the image's tar stream")],
            run=_run_unbundle_stream, fast=False),
    Command("euca-delete-bundle", "s3", None, "Delete a previously-uploaded bundle",
            [*_download_args(),
             Arg("--clear", name="clear", flag=True,
                 help="attempt to delete the bucket as well")],
            run=_run_delete_bundle, fast=False,
            description="Fetches the manifest, then deletes every part and the manifest."),
]
