"""Fixtures for real guests: a reachable libvirtd with QEMU, and the test guest's files.

Tests marked ``libvirtd`` skip (saying why) when libvirtd does not answer on
``qemu:///system``, when QEMU or the staging tools are missing, or when the guest
cannot be built.  ``scripts/test.sh`` starts libvirtd (``scripts/libvirtd.sh``) and
builds the guest once into ``EUCA_TEST_IMAGE_DIR``; run alone, the fixture builds it
into a cache directory under /tmp.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
URI = "qemu:///system"


@pytest.fixture(scope="session")
def libvirtd() -> str:
    """The URI of a libvirtd that runs QEMU guests (skip if there is none)."""
    libvirt = pytest.importorskip("libvirt", reason="libvirt-python is not installed")
    for tool in ("qemu-system-x86_64", "qemu-img", "genisoimage"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/sysdeps.sh)")
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    try:
        conn = libvirt.open(URI)
        conn.getLibVersion()
        conn.close()
    except libvirt.libvirtError as exc:
        pytest.skip(f"libvirtd does not answer on {URI} (scripts/libvirtd.sh start): {exc}")
    return URI


@pytest.fixture(scope="session")
def guest_image() -> Path:
    """A directory with the test guest's vmlinuz, initrd.gz and disk.img."""
    directory = Path(os.environ.get("EUCA_TEST_IMAGE_DIR") or "/tmp/euca-test-image")
    # The script returns at once when the directory holds a build by its current version.
    proc = subprocess.run([str(ROOT / "scripts" / "build-test-image.sh"), str(directory)],
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot build the test guest: {proc.stderr.strip()[-500:]}")
    return directory
