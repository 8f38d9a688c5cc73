"""Image bundle commands: bundle, upload, download, unbundle and delete instance-store images.

The bundle format and the S3 transfers live in :mod:`euca2ools.bundle`; these are the
declarations and the glue that resolves keys and certificates the euca2ools way
(reference §3.6 and §7).
"""

from __future__ import annotations

from ..bundle import invoke
from ..decl import Arg, Command, Group

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
            _bundle_args(upload=False), run=invoke.run_bundle_image, fast=False, configured=True,
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
            run=invoke.run_upload_bundle, fast=False,
            description="Creates the bucket when it does not exist, uploads each part, then the "
            "manifest, and prints \"Uploaded BUCKET/KEY\" for the manifest."),
    Command("euca-bundle-and-upload-image", "s3", None,
            "Prepare and upload an image for use in the cloud", _bundle_args(upload=True),
            run=invoke.run_bundle_and_upload, fast=False,
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
            run=invoke.run_install_image, fast=False,
            description="Bundles and uploads the image as euca-bundle-and-upload-image does, "
            "then registers it with the compute service's RegisterImage request and prints "
            "IMAGE and the new image's ID."),
    Command("euca-download-bundle", "s3", None, "Download a bundled image from the cloud",
            [*_download_args(),
             Arg("-d", "--directory", name="directory", metavar="DIR", complete="file",
                 help="the directory to download the bundle parts to, or \"-\" to write the "
                 "bundled image to stdout (default: current directory)"),
             _progress_args()],
            run=invoke.run_download_bundle, fast=False,
            description="Checks each part's SHA-1 against the manifest and prints \"Wrote "
            "manifest FILE\"."),
    Command("euca-download-and-unbundle", "s3", None,
            "Download and unbundle a bundled image from the cloud",
            [*_download_args(), _PRIVATE_KEY,
             Arg("-d", "--destination", name="destination", metavar="(FILE | DIR)",
                 complete="file", help="where to put the unbundled image (default: current "
                 "directory; \"-\" for stdout)"),
             _progress_args()],
            run=invoke.run_download_and_unbundle, fast=False,
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
            run=invoke.run_unbundle, fast=False, configured=True,
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
            run=invoke.run_unbundle_stream, fast=False),
    Command("euca-delete-bundle", "s3", None, "Delete a previously-uploaded bundle",
            [*_download_args(),
             Arg("--clear", name="clear", flag=True,
                 help="attempt to delete the bucket as well")],
            run=invoke.run_delete_bundle, fast=False,
            description="Fetches the manifest, then deletes every part and the manifest."),
]
