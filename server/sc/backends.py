"""Block storage backends: where volume data lives and how it is copied.

A backend's operations return at once and report through ``done`` on the control
loop, like the hypervisor drivers: the stateful SC logic never blocks.

- :class:`FileBackend` (``storage_backend = "file"``): each volume is a sparse raw file
  under ``DATA_DIR/volumes/<zone>/``.  A snapshot is a compact qcow2 image of the
  volume (``qemu-img convert`` skips unwritten blocks) handed to a
  :class:`~server.sc.transfer.SnapshotStore`; restoring converts it back to a sparse
  raw file, so a restored volume is byte-identical to its source.  The copies run in
  worker threads.
- :class:`VirtualBackend` (``storage_backend = "virtual"``): no data; every operation
  takes a modelled time on the clock (usable by the simulator).
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from server.clock import Clock
from server.nc.types import OK, Outcome
from server.sc.transfer import SnapshotStore

log = logging.getLogger(__name__)

GiB = 1 << 30

#: Location prefix of virtual snapshots: they carry no data, so a file volume restored
#: from one starts empty (as the virtual volume "was").
VIRTUAL_LOCATION = "virtual/"

Done = Callable[[Outcome], None]
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Stored:
    """Where a finished snapshot's data is, and how many bytes it took."""

    location: str
    size: int


SnapshotDone = Callable[[Outcome, Stored], None]


class VolumeBackend(Protocol):
    """What the SC needs from a block storage backend."""

    kind: str

    def volume_path(self, volume_id: str) -> str:
        """The backing file a volume gets ("" when there is no data)."""

    def create(self, volume_id: str, size_gb: int, done: Done) -> None:
        """Make an empty volume."""

    def restore(self, volume_id: str, size_gb: int, location: str, done: Done) -> None:
        """Make a volume from a stored snapshot."""

    def create_now(self, volume_id: str, size_gb: int, location: str = "") -> None:
        """Make a volume (empty, or from a snapshot) before returning (instance launch)."""

    def snapshot(self, volume_id: str, snapshot_id: str, progress: Progress,
                 done: SnapshotDone) -> None:
        """Copy a volume and store the copy; ``progress`` gets 0..99 percent on the way."""

    def delete_volume(self, volume_id: str, done: Done) -> None:
        """Remove a volume's data."""

    def delete_snapshot(self, location: str, done: Done) -> None:
        """Remove a stored snapshot."""


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise OSError(f"{' '.join(cmd[:2])} failed: {proc.stderr.strip() or proc.returncode}")


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileBackend:
    """Sparse raw files on the local filesystem; snapshots through a SnapshotStore."""

    kind = "file"

    def __init__(self, root: str, store: SnapshotStore, clock: Clock, workers: int = 4):
        self.root = root
        self.spool = os.path.join(root, ".spool")
        os.makedirs(self.spool, exist_ok=True)
        self.store = store
        self.clock = clock
        # Reference §6: 10 concurrent volume operations, 3 snapshot transfers; one pool
        # bounds both here.
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sc-file")

    # -- plumbing ------------------------------------------------------------------
    def _report(self, fn: Callable[[], None]) -> None:
        callback = getattr(self.clock, "call_soon_threadsafe", None)
        if callback is not None:
            callback(fn)
        else:
            fn()

    def _submit(self, work: Callable[[], None], done: Done) -> None:
        def run() -> None:
            try:
                work()
                outcome = OK
            except Exception as exc:
                log.warning("storage operation failed: %s", exc)
                outcome = Outcome(False, str(exc))
            self._report(lambda: done(outcome))

        self.pool.submit(run)

    def volume_path(self, volume_id: str) -> str:
        """``ROOT/<volume id>.img``."""
        return os.path.join(self.root, f"{volume_id}.img")

    # -- volumes -------------------------------------------------------------------
    def _create_file(self, volume_id: str, size_gb: int, location: str) -> None:
        path = self.volume_path(volume_id)
        tmp = f"{path}.tmp"
        if location and not location.startswith(VIRTUAL_LOCATION):
            image = os.path.join(self.spool, f"{volume_id}.download")
            try:
                self.store.download(location, image)
                # Converting back to raw writes only the data blocks: the result is sparse.
                _run(["qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw", image, tmp])
            finally:
                if os.path.exists(image):
                    os.unlink(image)
        else:
            open(tmp, "wb").close()
        try:
            if os.path.getsize(tmp) < size_gb * GiB:
                os.truncate(tmp, size_gb * GiB)
            _fsync_path(tmp)
            os.replace(tmp, path)
            _fsync_path(self.root)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def create(self, volume_id: str, size_gb: int, done: Done) -> None:
        """A sparse file of ``size_gb`` GiB (temp file, fsync, rename)."""
        self._submit(lambda: self._create_file(volume_id, size_gb, ""), done)

    def restore(self, volume_id: str, size_gb: int, location: str, done: Done) -> None:
        """Download the snapshot image and convert it to a sparse raw volume."""
        self._submit(lambda: self._create_file(volume_id, size_gb, location), done)

    def create_now(self, volume_id: str, size_gb: int, location: str = "") -> None:
        """Same as create/restore, in the caller's thread."""
        self._create_file(volume_id, size_gb, location)

    def delete_volume(self, volume_id: str, done: Done) -> None:
        """Unlink the backing file."""
        def work() -> None:
            try:
                os.unlink(self.volume_path(volume_id))
            except FileNotFoundError:
                pass

        self._submit(work, done)

    # -- snapshots -----------------------------------------------------------------
    def snapshot(self, volume_id: str, snapshot_id: str, progress: Progress,
                 done: SnapshotDone) -> None:
        """qemu-img copies the volume to a compact qcow2 image (0..90%), then it is stored."""
        image = os.path.join(self.spool, f"{snapshot_id}.qcow2")
        result: list[Stored] = [Stored("", 0)]

        def work() -> None:
            try:
                self._convert_with_progress(self.volume_path(volume_id), image,
                                            lambda p: self._report(lambda: progress(p * 9 // 10)))
                size = os.path.getsize(image)
                location = self.store.upload(snapshot_id, image)
                result[0] = Stored(location, size)
            finally:
                if os.path.exists(image):
                    os.unlink(image)

        self._submit(work, lambda outcome: done(outcome, result[0]))

    @staticmethod
    def _convert_with_progress(src: str, dest: str, progress: Progress) -> None:
        # -U: the volume may be attached to a running guest that holds qemu's write lock.
        cmd = ["qemu-img", "convert", "-p", "-U", "-f", "raw", "-O", "qcow2", src, dest]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        last, buf = -1, b""
        while chunk := proc.stdout.read(64):
            buf += chunk
            *lines, buf = buf.replace(b"\n", b"\r").split(b"\r")
            for line in lines:
                text = line.strip().strip(b"()").split(b"/")[0]
                try:
                    percent = int(float(text))
                except ValueError:
                    continue
                if percent != last:
                    last = percent
                    progress(percent)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise OSError(f"qemu-img convert failed: {err.strip() or proc.returncode}")
        _fsync_path(dest)

    def delete_snapshot(self, location: str, done: Done) -> None:
        """Remove the stored image."""
        if location.startswith(VIRTUAL_LOCATION):
            self.clock.call_later(0.0, lambda: done(OK))
            return
        self._submit(lambda: self.store.delete(location), done)


class VirtualBackend:
    """No data: each operation takes a modelled time (seconds, scaled by the clock)."""

    kind = "virtual"

    def __init__(self, clock: Clock, *, create_seconds: float = 0.5,
                 seconds_per_gb: float = 0.05, snapshot_seconds: float = 1.0,
                 delete_seconds: float = 0.2):
        self.clock = clock
        self.create_seconds = create_seconds
        self.seconds_per_gb = seconds_per_gb
        self.snapshot_seconds = snapshot_seconds
        self.delete_seconds = delete_seconds
        self.sizes: dict[str, int] = {}

    def volume_path(self, volume_id: str) -> str:
        """Virtual volumes have no backing file."""
        return ""

    def create(self, volume_id: str, size_gb: int, done: Done) -> None:
        """Ready after ``create_seconds``."""
        self.sizes[volume_id] = size_gb
        self.clock.call_later(self.create_seconds, lambda: done(OK))

    def restore(self, volume_id: str, size_gb: int, location: str, done: Done) -> None:
        """Ready after the modelled download of ``size_gb``."""
        self.sizes[volume_id] = size_gb
        self.clock.call_later(self.create_seconds + self.seconds_per_gb * size_gb,
                              lambda: done(OK))

    def create_now(self, volume_id: str, size_gb: int, location: str = "") -> None:
        """Nothing to do: there is no data."""
        self.sizes[volume_id] = size_gb

    def snapshot(self, volume_id: str, snapshot_id: str, progress: Progress,
                 done: SnapshotDone) -> None:
        """Ten progress steps over the modelled copy time."""
        total = self.snapshot_seconds + self.seconds_per_gb * self.sizes.get(volume_id, 1)
        def tick(percent: int) -> Callable[[], None]:
            return lambda: progress(percent)

        for step in range(1, 10):
            self.clock.call_later(total * step / 10, tick(step * 10))
        self.clock.call_later(total, lambda: done(OK, Stored(VIRTUAL_LOCATION + snapshot_id, 0)))

    def delete_volume(self, volume_id: str, done: Done) -> None:
        """Gone after ``delete_seconds``."""
        self.sizes.pop(volume_id, None)
        self.clock.call_later(self.delete_seconds, lambda: done(OK))

    def delete_snapshot(self, location: str, done: Done) -> None:
        """Gone at once."""
        self.clock.call_later(0.0, lambda: done(OK))
