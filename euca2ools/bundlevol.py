"""euca-bundle-vol: a disk image of a directory tree (by default this machine's ``/``).

euca2ools 3.x copies the tree with rsync into a loop-mounted, partitioned image (root
only).  Here nothing is mounted: the tree is staged in a scratch directory (hard links
where possible, copies otherwise) without the excluded paths, then ``mke2fs -d`` builds an
ext3 file system from it inside the image file -- after an MBR partition table when
``-P mbr`` or ``-P gpt`` -- so a user who can read the tree needs no root.  What needs root still does:
device nodes are left out unless run as root, and files keep their owners only when the
staging could hard-link them or ran as root.  No boot loader is installed (``--grub-config``
only places the file at ``/boot/grub/menu.lst``).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat

from .exceptions import ArgumentError, Euca2oolsError

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

SYSTEM_EXCLUDES = ("/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp", "/mnt", "/media",
                   "/lost+found", "/var/run", "/var/lock", "/var/cache/apt/archives/*.deb",
                   "/swapfile")
# Secrets an image must not carry, unless --no-filter (as euca2ools' excludes file).
FILTER_EXCLUDES = ("*/.ssh/authorized_keys", "*/.ssh/id_*", "*/.bash_history", "*/.*_history",
                   "*/.euca", "/etc/ssh/ssh_host_*",
                   "/etc/udev/rules.d/70-persistent-net.rules")
EXCLUDES_FILE = "/etc/euca2ools/bundle-vol/excludes"
PARTITION_OFFSET = 1024 * 1024  # the first partition starts at 1 MiB (sector 2048)


def _matches(rel: str, patterns: Iterable[str]) -> bool:
    """Whether ``/rel`` (a path inside the volume) matches a pattern: ``/x`` anchors at
    the volume's root, anything else matches at any depth; a directory match covers all
    below it."""
    path = "/" + rel
    for pattern in patterns:
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.rstrip("/") + "/*"):
            return True
        if not pattern.startswith(("/", "*")) and (
                fnmatch.fnmatch(path, "*/" + pattern) or fnmatch.fnmatch(path, "*/" + pattern
                                                                         + "/*")):
            return True
    return False


def read_excludes_file(path: str = EXCLUDES_FILE) -> list[str]:
    """The site's extra exclude patterns (one a line, ``#`` comments)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [ln.strip() for ln in handle if ln.strip() and not ln.startswith("#")]
    except FileNotFoundError:
        return []


def stage(volume: str, target: str, excludes: list[str], includes: list[str],
          one_file_system: bool = True) -> int:
    """Copy the volume's tree into ``target`` (hard links when it can), skipping excluded
    paths, other file systems (unless ``one_file_system`` is false) and, unless root,
    device nodes.  Returns the number of entries staged."""
    root_dev = os.lstat(volume).st_dev
    is_root = os.geteuid() == 0
    target_real = os.path.realpath(target)
    count = 0
    for dirpath, dirnames, filenames in os.walk(volume):
        rel_dir = os.path.relpath(dirpath, volume)
        rel_dir = "" if rel_dir == "." else rel_dir
        keep = []
        for name in sorted(dirnames):
            full = os.path.join(dirpath, name)
            rel = os.path.join(rel_dir, name)
            st = os.lstat(full)
            if os.path.realpath(full) == target_real or (
                    _matches(rel, excludes) and not _matches(rel, includes)):
                # An excluded mount point or system directory stays as an empty directory.
                if _matches(rel, SYSTEM_EXCLUDES) and stat.S_ISDIR(st.st_mode):
                    _mkdir_like(os.path.join(target, rel), st, is_root)
                continue
            if stat.S_ISLNK(st.st_mode):
                filenames.append(name)  # a symlink to a directory is copied as a link
                continue
            _mkdir_like(os.path.join(target, rel), st, is_root)
            count += 1
            if one_file_system and st.st_dev != root_dev:
                continue  # another file system: its mount point only
            keep.append(name)
        dirnames[:] = keep
        for name in filenames:
            rel = os.path.join(rel_dir, name)
            if _matches(rel, excludes) and not _matches(rel, includes):
                continue
            if _copy_entry(os.path.join(dirpath, name), os.path.join(target, rel), is_root):
                count += 1
    # Directory times last: adding entries changed them.
    for dirpath, _dirs, _files in os.walk(volume):
        dest = os.path.join(target, os.path.relpath(dirpath, volume))
        if os.path.isdir(dest) and not os.path.islink(dest):
            st = os.lstat(dirpath)
            os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
    return count


def _mkdir_like(dest: str, st: os.stat_result, is_root: bool) -> None:
    os.makedirs(dest, exist_ok=True)
    os.chmod(dest, stat.S_IMODE(st.st_mode) | stat.S_IWUSR | stat.S_IXUSR)
    if is_root:
        os.lchown(dest, st.st_uid, st.st_gid)


def _copy_entry(src: str, dest: str, is_root: bool) -> bool:
    st = os.lstat(src)
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        os.symlink(os.readlink(src), dest)
    elif stat.S_ISREG(mode):
        try:
            os.link(src, dest)
            return True
        except OSError:
            shutil.copy2(src, dest, follow_symlinks=False)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(dest, stat.S_IMODE(mode))
    elif (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) and is_root:
        os.mknod(dest, mode, st.st_rdev)
    else:
        return False  # sockets; device nodes without root
    if is_root:
        os.lchown(dest, st.st_uid, st.st_gid)
    return True


def generated_fstab(fs_uuid: str, fs_type: str) -> str:
    """An fstab for the image: its root by UUID, the usual pseudo file systems."""
    return (f"UUID={fs_uuid}\t/\t{fs_type}\tdefaults\t1 1\n"
            "proc\t/proc\tproc\tdefaults\t0 0\n"
            "sysfs\t/sys\tsysfs\tdefaults\t0 0\n"
            "devpts\t/dev/pts\tdevpts\tgid=5,mode=620\t0 0\n"
            "tmpfs\t/dev/shm\ttmpfs\tdefaults\t0 0\n")


def write_mbr(path: str, size: int) -> None:
    """One bootable Linux partition from 1 MiB to the end of the image."""
    import struct

    sectors = size // 512
    entry = bytes([0x80, 0xFE, 0xFF, 0xFF, 0x83, 0xFE, 0xFF, 0xFF]) + \
        struct.pack("<II", PARTITION_OFFSET // 512, sectors - PARTITION_OFFSET // 512)
    with open(path, "r+b") as handle:
        handle.seek(440)
        handle.write(os.urandom(4) + b"\0\0" + entry + b"\0" * 48 + b"\x55\xaa")


LINUX_FS_GUID = "0fc63daf-8483-4772-8e79-3d69d8477de4"
GPT_ENTRIES, GPT_ENTRY_SIZE = 128, 128


def gpt_last_usable(size: int) -> int:
    """The last sector a GPT partition may use (the backup table takes the last 33)."""
    return size // 512 - 34


def write_gpt(path: str, size: int, label: str = "root") -> None:
    """A protective MBR and primary and backup GPTs with one Linux partition from 1 MiB."""
    import struct
    import uuid
    import zlib

    last = size // 512 - 1
    first_part, last_part = PARTITION_OFFSET // 512, gpt_last_usable(size)
    entry = (uuid.UUID(LINUX_FS_GUID).bytes_le + uuid.uuid4().bytes_le +
             struct.pack("<QQQ", first_part, last_part, 0) +
             label.encode("utf-16-le").ljust(72, b"\0"))
    entries = entry + b"\0" * (GPT_ENTRY_SIZE * (GPT_ENTRIES - 1))
    entries_crc = zlib.crc32(entries)
    disk_guid = uuid.uuid4().bytes_le

    def header(current: int, backup: int, entries_lba: int) -> bytes:
        fields = [b"EFI PART", 0x00010000, 92, 0, 0, current, backup, 34, last - 33,
                  disk_guid, entries_lba, GPT_ENTRIES, GPT_ENTRY_SIZE, entries_crc]
        fmt = "<8sIIIIQQQQ16sQIII"
        crc = zlib.crc32(struct.pack(fmt, *fields))
        fields[3] = crc
        return struct.pack(fmt, *fields).ljust(512, b"\0")

    protective = bytes([0, 0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF]) + \
        struct.pack("<II", 1, min(last, 0xFFFFFFFF))
    with open(path, "r+b") as handle:
        handle.seek(446)
        handle.write(protective + b"\0" * 48 + b"\x55\xaa")
        handle.write(header(1, last, 2))
        handle.write(entries)
        handle.seek((last - 32) * 512)
        handle.write(entries)
        handle.write(header(last, 1, last - 32))


def make_image(staging: str, image: str, size_mib: int, partition: str, fs_uuid: str,
               fs_type: str = "ext3", label: str = "root") -> None:
    """Create the raw image file with the staged tree as its (only) file system."""
    import subprocess

    mke2fs = shutil.which("mke2fs") or next(
        (p for p in ("/usr/sbin/mke2fs", "/sbin/mke2fs") if os.path.exists(p)), None)
    if mke2fs is None:
        raise Euca2oolsError("mke2fs (e2fsprogs) is required to build the image")
    size = size_mib * 1024 * 1024
    offset = PARTITION_OFFSET if partition in ("mbr", "gpt") else 0
    if size <= offset + 4 * 1024 * 1024:
        raise ArgumentError("argument -s/--size: the image must be larger than 5 MiB")
    with open(image, "wb") as handle:
        handle.truncate(size)
    fs_size = size - offset
    if partition == "mbr":
        write_mbr(image, size)
    elif partition == "gpt":
        write_gpt(image, size)
        # The file system must stop before the backup table.
        fs_size = (gpt_last_usable(size) + 1) * 512 - offset
    cmd = [mke2fs, "-q", "-F", "-t", fs_type, "-L", label, "-U", fs_uuid, "-d", staging]
    if offset:
        cmd += ["-E", f"offset={offset}"]
    cmd += [image, f"{fs_size // 1024}k"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        os.unlink(image)
        text = " ".join(proc.stderr.split())
        if "allocate" in text or "No space" in text or "Could not" in text:
            raise Euca2oolsError(f"the volume's files do not fit in {size_mib} MiB; use "
                                 f"-s/--size ({text})")
        raise Euca2oolsError(f"mke2fs failed: {text}")
