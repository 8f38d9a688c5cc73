"""ImageSource: how a node's hypervisor driver gets the bytes of an eki, eri or emi.

Reference eucalyptus.md §4 (STAGING) and §7: the NC downloads, decrypts and caches the
image itself.  The driver sees only this port, never the CLC or Walrus: the cloud hands
each driver one image source through its zone config (``image_store``), and the node's
image cache calls it once per image.  It blocks: drivers call it from worker threads.

:class:`server.nc.images.ImageStore` implements it (the CLC's image registry plus Walrus'
bundles).
"""

from __future__ import annotations

from typing import Protocol


class ImageSource(Protocol):
    """Anything that can write an image's bytes to a local file (blocking)."""

    def fetch(self, image_id: str, dest_path: str) -> None:
        """Write the image ``image_id`` to ``dest_path``; raise if it cannot."""
