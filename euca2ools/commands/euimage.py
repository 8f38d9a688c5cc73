"""euimage-* image pack commands (a euca2ools 3.x "tech preview"): pack an image with its
metadata, show a pack, install one into a cloud.  The pack format is in
:mod:`euca2ools.imagepack`."""

from __future__ import annotations

from ..decl import Arg, Command

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from ..runtime import Invocation

_PREVIEW = "***TECH PREVIEW***  "


def _run_pack(inv: Invocation) -> None:
    from ..imagepack import build

    a = inv.args
    path = build(a["image_file"], a["md_file"], a.get("destination") or "")
    inv.echo(f"Wrote {path}")


def _run_describe(inv: Invocation) -> None:
    from ..imagepack import ImagePack

    md = ImagePack.open(inv.args["file"]).image_md
    inv.emit("Name:", md.name)
    inv.emit("Architecture:", md.arch)
    if md.epoch:
        inv.emit("Epoch:", md.epoch)
    inv.emit("Version:", md.version)
    inv.emit("Release:", md.release)
    for name in sorted(md.profiles):
        inv.emit("Profile:", name)
    inv.echo("Description:")
    inv.echo(md.description)


def _run_install(inv: Invocation) -> None:
    """Decompress and check the image, bundle and upload it, register it, tag it."""
    import os
    import tempfile

    from ..bundle.invoke import bundle_spec, s3_client
    from ..bundle.tasks import bundle_and_upload
    from ..exceptions import ArgumentError
    from ..imagepack import ImagePack

    a = inv.args
    pack = ImagePack.open(a["file"])
    md = pack.image_md
    profile_name = a.get("profile") or "default"
    if profile_name not in md.profiles:
        raise ArgumentError(f'argument --profile: no such profile: "{profile_name}" (choose '
                            f"from {', '.join(sorted(md.profiles))})")
    profile = md.profiles[profile_name]
    session = inv.session
    if a.get("ec2_url"):
        session._urls["ec2"] = a["ec2_url"]
    session.endpoint("ec2")  # no compute endpoint: say so before uploading anything
    tmpdir = os.environ.get("TMPDIR") or tempfile.gettempdir()
    with tempfile.TemporaryDirectory(dir=tmpdir) as work:
        image_path = os.path.join(work, md.nvra)
        with open(image_path, "wb") as out:
            pack.extract_image(out)
        a.update(image=image_path, prefix=md.nvra, arch=profile.bundle_arch, destination=work)
        spec = bundle_spec(inv)
        location = a.get("location") or session.config.get_region(session.region,
                                                                  "s3-location-constraint")
        manifest = bundle_and_upload(spec, s3_client(inv), a["bucket"], "aws-exec-read",
                                     location)
    params = dict(profile.register)
    params.setdefault("Description", md.description)
    params.update(ImageLocation=manifest, Name=f"{md.nvra}-{_stamp()}")
    if profile.mappings:
        params["BlockDeviceMapping"] = profile.mappings
    for option, param in (("kernel", "KernelId"), ("ramdisk", "RamdiskId")):
        if a.get(option):
            params[param] = a[option]
    image_id = inv.call("RegisterImage", params, service="ec2").get("imageId")
    tags = [{"Key": k, "Value": v} for k, v in md.tags(profile_name).items()]
    inv.call("CreateTags", {"ResourceId": [image_id], "Tag": tags}, service="ec2")
    inv.emit("IMAGE", image_id)


def _stamp() -> str:
    """The install time in image names: registering a pack twice gives two names."""
    import datetime

    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d-%H-%M-%S")


COMMANDS = [
    Command(
        "euimage-pack-image", "local", None,
        _PREVIEW + "Pack an image for simple installation in a cloud",
        [Arg("IMAGE_FILE", name="image_file", complete="file",
             help="the image to pack (required)"),
         Arg("MD_FILE", name="md_file", complete="file",
             help="metadata for the image to pack (YAML; required)"),
         Arg("-d", "--destination", name="destination", metavar="DIR", complete="file",
             help="directory to write the pack to (default: the current one)")],
        run=_run_pack, fast=False,
        description="Writes NAME-VERSION-RELEASE.ARCH.euimage (a tar of the xz-compressed "
        "image, its metadata and their SHA-256 sums) and prints \"Wrote FILE\".",
    ),
    Command(
        "euimage-describe-pack", "local", None, _PREVIEW + "Show info about an image pack",
        [Arg("FILE", name="file", complete="file",
             help="the image pack to show info for (required)")],
        run=_run_describe, fast=False,
    ),
    Command(
        "euimage-install-pack", "s3", None, _PREVIEW + "Install a packed image into the cloud",
        [
            Arg("FILE", name="file", complete="file", help="the pack to install (required)"),
            Arg("--profile", name="profile",
                help="which of the image's profiles to install (default: \"default\")"),
            Arg("-b", "--bucket", name="bucket", metavar="BUCKET[/PREFIX]", required=True,
                help="bucket to upload the image to (required)"),
            Arg("--location", name="location",
                help="location constraint of the destination bucket (default: "
                "s3-location-constraint in the configuration, or none)"),
            Arg("--privatekey", name="privatekey", metavar="FILE", complete="file",
                help="file containing your private key to sign the bundle's manifest with"),
            Arg("--cert", name="cert", metavar="FILE", complete="file",
                help="file containing your X.509 certificate"),
            Arg("--ec2cert", name="ec2cert", metavar="FILE", complete="file",
                help="file containing the cloud's X.509 certificate"),
            Arg("--user", name="user", metavar="ACCOUNT", help="your account ID"),
            Arg("--kernel", name="kernel", metavar="IMAGE", complete="image",
                help="ID of the kernel image to associate with this machine image"),
            Arg("--ramdisk", name="ramdisk", metavar="IMAGE", complete="image",
                help="ID of the ramdisk image to associate with this machine image"),
            Arg("--ec2-url", name="ec2_url", metavar="URL",
                help="compute service endpoint URL"),
        ],
        run=_run_install, fast=False, configured=True,
        description="Bundles the pack's image as an instance-store image, uploads it, "
        "registers it (named NVRA-TIME, tagged euimage:name/version/release/profile) and "
        "prints IMAGE and its ID.",
    ),
]
