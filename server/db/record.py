"""The base of persisted records, shared by every component that keeps records.

Each record is persisted as a JSON document (``Store.put(kind, id, account, doc)``);
``KIND`` names its kind.  It lives here, beside the store, so that components (the
CLC, the storage controller) share it without importing one another.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, ClassVar, TypeVar

R = TypeVar("R", bound="Record")


class Record:
    """Base of persisted records: ``id``, ``account_id`` and a JSON form."""

    KIND: ClassVar[str] = ""
    id: str
    account_id: str

    def doc(self) -> dict[str, Any]:
        """The record as a JSON-able dict."""
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    @classmethod
    def from_doc(cls: type[R], doc: dict[str, Any]) -> R:
        """Rebuild a record, ignoring fields it no longer has."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in doc.items() if k in names})
