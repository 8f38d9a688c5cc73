"""Eucalyptus quotas: ``Limit`` statements in account and user policies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.auth.authz import Action
from server.auth.identity import Principal
from server.auth.policy import PolicySet

if TYPE_CHECKING:
    from server.protocol.query import Context


def check(ctx: Context, declared: Action, caller: Principal, policies: PolicySet) -> None:
    """Refuse a request that would exceed one of the caller's quotas."""
