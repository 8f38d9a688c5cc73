"""Progress bars on the terminal for the file-transfer commands (``--progress``)."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


def wanted(progress: bool | None, no_progress: bool | None) -> bool:
    """``--progress``/``--no-progress``, else on when stdout is a terminal (as euca2ools)."""
    if no_progress:
        return False
    if progress:
        return True
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop always returns


class Progress:
    """A one-line bar on stderr: label, percentage, bar, bytes, rate, ETA.

    Thread-safe (the uploader of euca-bundle-and-upload-image reports from its own
    thread); redrawn at most ten times a second so it costs nothing on a fast stream.
    """

    def __init__(self, label: str, total: int | None, enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0
        self._lock = threading.Lock()
        self._finished = False

    def __call__(self, n: int) -> None:
        """Count ``n`` more bytes."""
        with self._lock:
            self.done += n
            now = time.monotonic()
            if self.enabled and now - self._drawn >= 0.1:
                self._drawn = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed
        width = 30
        if self.total:
            frac = min(self.done / self.total, 1.0)
            filled = int(frac * width)
            left = (self.total - self.done) / rate if rate > 0 else 0.0
            eta = f"ETA {int(left) // 60:d}:{int(left) % 60:02d}" if not self._finished \
                else f"{int(elapsed) // 60:d}:{int(elapsed) % 60:02d}"
            line = (f"{self.label} {frac * 100:3.0f}% |{'#' * filled}{' ' * (width - filled)}| "
                    f"{_size(self.done)} {_size(rate)}/s {eta}")
        else:
            line = f"{self.label} {_size(self.done)} {_size(rate)}/s"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()

    def finish(self) -> None:
        """Draw the final state and end the line."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            if self.enabled:
                self._draw(time.monotonic())
                self.stream.write("\n")
                self.stream.flush()
