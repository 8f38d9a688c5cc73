"""The refresh loop: fetch the views' data in a worker thread and hand it to the UI thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from euca2ools.exceptions import ConfigError

from . import model
from .cloud import CloudAPI, ServiceConnectionError, ServiceError, is_unsupported

# Datasets whose action a cloud lacks are asked again this rarely (the server may gain them).
UNSUPPORTED_RETRY = 30.0
# Every this many refreshes, the views not on screen are refreshed too.
FULL_REFRESH_EVERY = 10
# While the cloud is unreachable, retries slow down to this.
MAX_RETRY_DELAY = 10.0

# Datasets of services other than EC2: those may live elsewhere or not be configured at all, so
# their outage or absence is theirs, not the cloud's.
OTHER_SERVICE_DATASETS = frozenset({"buckets", "alarms", "scaling", "services", "loadbalancers"})

# Dataset name -> ("ok", (raw, tables)) | ("unsupported", ServiceError) | ("error", ServiceError)
Results = dict[str, tuple[str, Any]]


class RefreshTarget(Protocol):
    """What the loop needs from the app (all called on the UI thread via call_from_thread)."""

    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a callable on the UI thread and wait for it."""
        ...

    def on_screen_datasets(self) -> tuple[str, ...]:
        """The datasets of the view on screen."""
        ...

    def apply_results(self, results: Results) -> None:
        """Show fetched data."""
        ...

    def set_unreachable(self, reason: str) -> None:
        """Show that the cloud cannot be reached."""
        ...

    def refresh_failed(self, message: str) -> None:
        """Report an unexpected failure of a whole refresh."""
        ...


class Refresher:
    """Fetches datasets forever; an unreachable cloud is retried with a growing delay."""

    def __init__(self, cloud: CloudAPI, interval: float) -> None:
        self.cloud = cloud
        self.interval = interval
        self.unsupported: dict[str, float] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()

    def wake(self) -> None:
        """Refresh now rather than at the next tick (thread-safe)."""
        self._wake.set()

    def stop(self) -> None:
        """End the loop after the call in flight."""
        self._stop.set()
        self._wake.set()

    def wanted(self, cycle: int, now: float, on_screen: tuple[str, ...]) -> list[str]:
        """Datasets to fetch this cycle: instances and capacity always (the event log and the
        status line follow them), the view on screen, and everything on the first and every
        FULL_REFRESH_EVERY-th cycle; an action the cloud lacks only every UNSUPPORTED_RETRY s."""
        names = list(model.DATASETS) if cycle % FULL_REFRESH_EVERY == 0 else \
            ["instances", "capacity", *on_screen]
        return [n for n in dict.fromkeys(names)
                if now - self.unsupported.get(n, -1e9) > UNSUPPORTED_RETRY]

    def fetch(self, names: list[str]) -> Results:
        """Fetch datasets; raises ServiceConnectionError when the cloud cannot be reached."""
        results: Results = {}
        unreachable: ServiceConnectionError | None = None
        for name in names:
            dataset = model.DATASETS[name]
            try:
                raw = dataset.fetch(self.cloud)
                results[name] = ("ok", (raw, dataset.tables(raw)))
            except ServiceError as err:
                results[name] = ("unsupported" if is_unsupported(err) else "error", err)
            except ServiceConnectionError as err:
                if name not in OTHER_SERVICE_DATASETS:
                    raise
                unreachable = err
                results[name] = ("error", ServiceError("Unreachable", str(err), 0))
            except ConfigError as err:
                if name not in OTHER_SERVICE_DATASETS:
                    raise
                # No endpoint for the service in euca2ools.ini: as good as a cloud without it.
                results[name] = ("unsupported", ServiceError("NoEndpoint", str(err), 0))
            except Exception as err:  # noqa: BLE001 - one view's failure must not blank the others
                results[name] = ("error", ServiceError(type(err).__name__, str(err), 0))
        if unreachable is not None and all(
                kind == "error" and getattr(value, "code", "") == "Unreachable"
                for kind, value in results.values()):
            # Nothing answered at all: that is the cloud being down, not one service.
            raise unreachable
        return results

    def run(self, app: RefreshTarget) -> None:
        """The loop (run it in a worker thread); returns when stopped or the app is gone."""
        cycle, delay = 0, self.interval
        try:
            while not self._stop.is_set():
                try:
                    names = self._post(app, app.on_screen_datasets)
                    results = self.fetch(self.wanted(cycle, time.monotonic(), names))
                    self._post(app, app.apply_results, results)
                    cycle, delay = cycle + 1, self.interval
                except ServiceConnectionError as err:
                    self._post(app, app.set_unreachable, str(err))
                    delay = min(max(delay * 1.5, 1.0), MAX_RETRY_DELAY)
                except _AppGone:
                    raise
                except Exception as err:  # noqa: BLE001 - a bug in one refresh must not end refreshing
                    self._post(app, app.refresh_failed, f"{type(err).__name__}: {err}")
                    delay = min(max(delay * 1.5, 1.0), MAX_RETRY_DELAY)
                self._wake.wait(delay)
                self._wake.clear()
        except _AppGone:
            return

    def _post(self, app: RefreshTarget, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` on the UI thread; _AppGone once the app has stopped."""
        # Checked first: handing a callback to a closed event loop leaves a never-awaited
        # coroutine behind (a warning at exit).
        if self._stop.is_set():
            raise _AppGone
        try:
            return app.call_from_thread(fn, *args)
        except RuntimeError:
            raise _AppGone from None


class _AppGone(Exception):
    """The app stopped while the loop was fetching."""
