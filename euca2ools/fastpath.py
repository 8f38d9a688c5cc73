"""Fast start-up path (filled in later): returns None to hand over to click."""

from __future__ import annotations


def try_run(command, prog, argv):  # type: ignore[no-untyped-def]
    """Run ``command`` without click/requests when possible; None means "use click"."""
    return None
