"""Keep the cloud's long-lived records out of Python's full garbage collections.

A cloud holds its records (instances, rendered XML, images, ...) for as long as it runs:
with 10,000 instances a full collection walks several hundred thousand objects and stops
the event loop for every request meanwhile, though none of them is ever garbage.  So:

* after start-up (records loaded) everything alive is moved to the permanent generation
  (:func:`gc.freeze`), which collections do not walk;
* after each full collection its survivors are frozen too, so the next full collection
  walks only what was allocated since;
* every :data:`REVISIT_SECONDS` one full collection runs over everything (frozen objects
  included), so that a cycle that became garbage after it was frozen is still collected:
  one long stall every few minutes instead of one at every full collection.
"""

from __future__ import annotations

import gc
import time
from typing import Any

#: How often a full collection walks the frozen objects as well.
REVISIT_SECONDS = 600.0

_state = {"revisit_at": 0.0}


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    if phase != "stop" or info.get("generation") != 2:
        return
    now = time.monotonic()
    if now >= _state["revisit_at"]:
        # The next full collection walks everything once more.
        gc.unfreeze()
        _state["revisit_at"] = now + REVISIT_SECONDS
        return
    gc.freeze()


def freeze_long_lived() -> None:
    """Call once the cloud has loaded its records, before it serves."""
    gc.collect()
    gc.freeze()
    _state["revisit_at"] = time.monotonic() + REVISIT_SECONDS
    if _after_collection not in gc.callbacks:
        gc.callbacks.append(_after_collection)
