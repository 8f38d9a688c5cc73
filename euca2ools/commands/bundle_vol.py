"""euca-bundle-vol: bundle a directory tree (by default this machine's ``/``) as an
instance-store image.  The image building is in :mod:`euca2ools.bundlevol`, the bundling
is euca-bundle-image's."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from .bundle import ARCHES, _bundle_args

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

# euca-bundle-image's key, certificate, kernel/ramdisk, mapping and product code options.
_SHARED = [a for a in _bundle_args(upload=False)
           if isinstance(a, Group) or a.key not in ("image", "prefix", "image_size", "image_type",
                                                     "arch", "destination")]


def _paths(spec: str) -> list[str]:
    return [p.strip() for p in spec.split(",") if p.strip()]


def _relative(paths: list[str], volume: str) -> list[str]:
    """Excluded/included system paths as patterns anchored at the volume's root."""
    import os

    out = []
    for path in paths:
        if not path.startswith("/"):
            out.append(path)
            continue
        real = os.path.abspath(path)
        vol = os.path.abspath(volume)
        if real == vol or real.startswith(vol.rstrip("/") + "/"):
            out.append("/" + os.path.relpath(real, vol))
        elif vol == "/":
            out.append(real)
    return out


def _inherit(inv: Invocation) -> None:
    """Kernel, ramdisk and product codes of the instance this runs in (instance metadata)."""
    import requests

    from ..exceptions import Euca2oolsError

    base = "http://169.254.169.254/2012-01-12/meta-data/"
    a = inv.args

    def fetch(name: str) -> str | None:
        try:
            response = requests.get(base + name, timeout=5)
        except requests.RequestException:
            raise Euca2oolsError("--inherit: the instance metadata service is not reachable "
                                 "(is this an instance?)") from None
        return response.text.strip() if response.status_code == 200 else None

    for option, name in (("kernel", "kernel-id"), ("ramdisk", "ramdisk-id")):
        if not a.get(option):
            a[option] = fetch(name)
    if not a.get("productcodes"):
        a["productcodes"] = ",".join((fetch("product-codes") or "").split())


def _run(inv: Invocation) -> None:
    import os
    import subprocess
    import tempfile
    import uuid

    from .. import bundlevol
    from ..bundle.invoke import _env, _progress, bundle_spec
    from ..bundle.tasks import make_bundle
    from ..exceptions import ArgumentError, Euca2oolsError

    a: dict[str, Any] = inv.args
    volume = a.get("volume") or "/"
    if not os.path.isdir(volume):
        raise ArgumentError(f"argument -v/--volume: '{volume}' is not a directory")
    if a.get("fstab") and not os.path.isfile(a["fstab"]):
        raise FileNotFoundError(2, "No such file or directory", a["fstab"])
    destination = a.get("destination") or _env("TMPDIR", "TEMP", "TMP") or "/var/tmp"
    if not os.path.isdir(destination):
        raise ArgumentError(f"argument -d/--destination: '{destination}' is not a directory")
    if a.get("inherit"):
        _inherit(inv)
    excludes = list(bundlevol.SYSTEM_EXCLUDES) if not a.get("all") else []
    if not a.get("no_filter"):
        excludes += list(bundlevol.FILTER_EXCLUDES) + bundlevol.read_excludes_file()
    excludes += _relative([p for spec in a.get("exclude") or [] for p in _paths(spec)], volume)
    includes = _relative([p for spec in a.get("include") or [] for p in _paths(spec)], volume)
    prefix = a.get("prefix") or "image"
    fs_uuid = str(uuid.uuid4())
    with tempfile.TemporaryDirectory(dir=destination, prefix=".bundle-vol-") as work:
        staging = os.path.join(work, "root")
        os.mkdir(staging)
        bundlevol.stage(volume, staging, excludes, includes, one_file_system=not a.get("all"))
        etc = os.path.join(staging, "etc")
        if a.get("fstab") or a.get("generate_fstab"):
            os.makedirs(etc, exist_ok=True)
            fstab = os.path.join(etc, "fstab")
            if os.path.lexists(fstab):
                os.unlink(fstab)  # may be a hard link to the running system's
            if a.get("fstab"):
                with open(a["fstab"], encoding="utf-8") as src:
                    text = src.read()
            else:
                text = bundlevol.generated_fstab(fs_uuid, "ext3")
            with open(fstab, "w", encoding="utf-8") as out:
                out.write(text)
        if a.get("grub_config"):
            grub = os.path.join(staging, "boot", "grub")
            os.makedirs(grub, exist_ok=True)
            menu = os.path.join(grub, "menu.lst")
            if os.path.lexists(menu):
                os.unlink(menu)
            with open(a["grub_config"], "rb") as src, open(menu, "wb") as out:
                out.write(src.read())
        if a.get("script"):
            # Run on the staged tree, the image's content, before it is made.
            proc = subprocess.run([a["script"], staging], check=False)
            if proc.returncode != 0:
                raise Euca2oolsError(f"script {a['script']} failed with status "
                                     f"{proc.returncode}")
        image = os.path.join(work, prefix)
        bundlevol.make_image(staging, image, a.get("size") or 10240,
                             a.get("partition") or "none", fs_uuid)
        a.update(image=image, prefix=prefix, destination=destination)
        path, _manifest = make_bundle(bundle_spec(inv), _progress(inv))
    inv.echo(f"Wrote manifest {path}")


COMMANDS = [
    Command(
        "euca-bundle-vol", "local", None,
        "Prepare this machine's filesystem (or a directory tree) for use in the cloud",
        [
            Arg("-p", "--prefix", name="prefix",
                help="the file name prefix to give the bundle's files (default: image)"),
            Arg("-d", "--destination", name="destination", metavar="DIR", complete="file",
                help="location to place the bundle's files (default: dir named by TMPDIR, "
                "TEMP, or TMP environment variables, or otherwise /var/tmp)"),
            Arg("-r", "--arch", name="arch", required=True, choices=ARCHES,
                help="the image's architecture (required)"),
            Arg("-e", "--exclude", name="exclude", metavar="PATH,...", multiple=True,
                help="comma-separated list of paths to exclude (repeatable)"),
            Arg("-i", "--include", name="include", metavar="PATH,...", multiple=True,
                help="comma-separated list of paths to include even if they match the "
                "filter (repeatable)"),
            Arg("-s", "--size", name="size", metavar="MiB", type=int,
                help="size of the image to create (default: 10240 MiB)"),
            Arg("--no-filter", name="no_filter", flag=True,
                help="do not filter out sensitive files (SSH keys, shell histories, ...)"),
            Arg("--all", name="all", flag=True,
                help="include all filesystems and the usually excluded system directories "
                "(/proc, /sys, /dev, /tmp, ...)"),
            Group(
                Arg("--inherit", name="inherit", flag=True,
                    help="use the kernel, ramdisk and product codes of the instance this "
                    "runs in (read from the instance metadata service)"),
                Arg("--no-inherit", name="no_inherit", flag=True,
                    help="do not read the instance metadata service (the default)")),
            Arg("-v", "--volume", name="volume", metavar="DIR", complete="file",
                help="the directory tree to bundle (default: /)"),
            Arg("-P", "--partition", name="partition", choices=("mbr", "gpt", "none"),
                help="partition table to put on the image: \"mbr\" or \"gpt\" (one "
                "partition from 1 MiB) or \"none\" (the default: the file system is the "
                "whole image)"),
            Arg("--script", name="script", metavar="FILE", complete="file",
                help="program to run before the image is made; it receives the directory "
                "holding the image's files as its only argument"),
            Group(
                Arg("--fstab", name="fstab", metavar="FILE", complete="file",
                    help="file to install as /etc/fstab in the image"),
                Arg("--generate-fstab", name="generate_fstab", flag=True,
                    help="write an /etc/fstab for the image (its root by UUID)")),
            Arg("--grub-config", name="grub_config", metavar="FILE", complete="file",
                help="file to install as /boot/grub/menu.lst in the image (no boot loader "
                "is installed)"),
            *_SHARED,
        ],
        run=_run, fast=False, configured=True,
        description="Copies the tree given by -v (default /: run as root for a whole system) "
        "without the system directories (/proc, /sys, /dev, /tmp, ... unless --all), other "
        "filesystems (unless --all), the paths of -e and, unless --no-filter, secrets such "
        "as SSH keys and shell histories (and the patterns in "
        "/etc/euca2ools/bundle-vol/excludes); builds an ext3 image of -s MiB from it with "
        "mke2fs -d (no mounting, so no root is needed for a tree you can read; device nodes "
        "and file owners are kept only as root); then bundles it as euca-bundle-image does "
        "and prints \"Wrote manifest FILE\".",
    ),
]
