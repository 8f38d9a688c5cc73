"""The base of persisted records and of their declared lifecycles, shared by every
component that keeps records.

Each record is persisted as a JSON document (``Store.put(kind, id, account, doc)``);
``KIND`` names its kind.  A record with states declares them as a table of allowed
transitions and moves only through :func:`move`, so an illegal move is one check in one
place.  This lives beside the store so that components (the CLC, the storage controller)
share it without importing one another.
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


class IllegalTransition(Exception):
    """A record was asked to move to a state its lifecycle does not allow."""


def move(table: dict[str, frozenset[str]], current: str, new: str, what: str) -> str:
    """Check one transition of a lifecycle table; returns the new state.

    Staying in the same state is always allowed.  An illegal move is a programming
    error, not a user's: handlers refuse what a state does not allow (``IncorrectState``
    and the like) before anything moves.
    """
    if new != current and new not in table[current]:
        raise IllegalTransition(f"{what}: {current or '(none)'} -> {new}")
    return new
