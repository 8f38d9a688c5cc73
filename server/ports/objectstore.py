"""ObjectStore: what other components read and write in Walrus, without HTTP.

Reference eucalyptus.md §1.3: the SC uploads snapshots to Walrus (a multipart upload into
a private ``snapshots-`` bucket of the system account) and reads them back to restore
volumes; the CLC checks bundle manifests at RegisterImage and stores BundleInstance's
bundles; the NC's image source rebuilds images from their bundles.  All methods block
(file and database I/O): call them from worker threads when on the event loop.  Errors
are Walrus' S3 errors (``code``, ``message``), and ``BundleError`` for a bad bundle.

:class:`server.walrus.api.WalrusAPI` (mixed into ``Walrus``) implements it in process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from server.auth.identity import Principal
    from server.walrus.bundle import Manifest


class ObjectStore(Protocol):
    """Walrus as the storage controller and the CLC use it."""

    def system_account_id(self) -> str:
        """The system account that owns the cloud's own buckets (made on first use)."""

    def create_system_bucket(self, name: str, owner_account_id: str | None = None) -> None:
        """Create a private bucket of the system account (no-op if it exists)."""

    def create_account_bucket(self, name: str, account_id: str) -> None:
        """Create a private bucket for an account (no-op if the account owns it)."""

    def bucket_owner(self, name: str) -> str | None:
        """The account owning a bucket; None if there is no such bucket."""

    def put_object_from_file(self, bucket: str, key: str, path: str,
                             content_type: str = "application/octet-stream") -> str:
        """Store a local file as one object; its ETag."""

    def multipart_upload_from_file(self, bucket: str, key: str, path: str,
                                   part_size: int = 64 * 1024 * 1024,
                                   content_type: str = "application/octet-stream") -> str:
        """Store a large local file as a multipart object; its ETag."""

    def get_object_to_file(self, bucket: str, key: str, path: str) -> int:
        """Write an object to a local file (complete or not at all); its size."""

    def delete_object(self, bucket: str, key: str) -> None:
        """Delete an object."""

    def unbundle_image(self, bucket: str, manifest_key: str, out_path: str) -> Manifest:
        """Decrypt and reassemble the image of a bundle stored here into ``out_path``;
        the bundle's parsed manifest."""

    def read_manifest(self, who: Principal | str, location: str) -> Manifest:
        """The parsed bundle manifest at ``BUCKET/KEY``, which ``who`` must be able to read."""
