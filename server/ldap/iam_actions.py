"""The LDAP integration's Euare actions (cloud administrators only): set the LIC, read it,
and GetLdapSyncStatus."""

from __future__ import annotations

from typing import Any

from server import errors
from server.auth.authz import Action, action
from server.ldap.sync import PROPERTY, LdapSync, LicError
from server.protocol.query import Context
from server.protocol.xml import iso8601


def _ldap(ctx: Context) -> LdapSync:
    if not ctx.is_admin:
        raise errors.AccessDenied("Only cloud administrators may call " + ctx.action)
    return ctx.cloud.components["ldap"]


def put_ldap_integration_configuration(ctx: Context) -> Any:
    """Set the cloud property ``authentication.ldap_integration_configuration`` (the LIC
    JSON; empty turns the integration off); a sync starts at once."""
    ldap = _ldap(ctx)
    try:
        ldap.configure(ctx.params.str("Configuration", ""))
    except LicError as exc:
        raise errors.AWSError(f"{PROPERTY}: {exc}", code="ValidationError") from None
    ldap.sync_soon()


def get_ldap_integration_configuration(ctx: Context) -> Any:
    """The LIC as set (its bind password included: cloud administrators only)."""
    return {"Configuration": _ldap(ctx).property_value()}


def get_ldap_sync_status(ctx: Context) -> Any:
    """GetLdapSyncStatus (Eucalyptus): whether sync is on, running, and how the last went."""
    status = _ldap(ctx).status
    out: dict[str, Any] = {"SyncEnabled": status.enabled, "InSync": status.in_progress,
                           "Accounts": status.accounts, "Groups": status.groups,
                           "Users": status.users}
    if status.last_sync:
        out["LastSyncTime"] = iso8601(status.last_sync)
    if status.last_error:
        out["LastSyncError"] = status.last_error
    return out


ACTIONS: dict[str, Action] = {
    "PutLdapIntegrationConfiguration": action(put_ldap_integration_configuration,
                                              "iam:PutLdapIntegrationConfiguration",
                                              cloud_admin=True),
    "GetLdapIntegrationConfiguration": action(get_ldap_integration_configuration,
                                              "iam:GetLdapIntegrationConfiguration",
                                              cloud_admin=True),
    "GetLdapSyncStatus": action(get_ldap_sync_status, "iam:GetLdapSyncStatus",
                                cloud_admin=True),
}
