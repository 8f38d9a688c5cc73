"""euare-account* commands beyond creation: aliases, the IAM summary, (Eucalyptus) account
policies and the LDAP synchronisation status."""

from __future__ import annotations

from ..decl import Arg, Command
from ..xmlparse import as_list
from .policydoc import policy_commands

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _print_aliases(inv: Invocation, result: Any) -> None:
    for alias in as_list(result.get("AccountAliases")):
        inv.echo(f"Alias: {alias}")


def summary_entries(result: Any) -> list[tuple[str, str]]:
    """GetAccountSummary's ``SummaryMap`` entries as (key, value) pairs."""
    summary = result.get("SummaryMap") or {}
    entries = summary.get("entry") if isinstance(summary, dict) else summary
    out = []
    for entry in as_list(entries):
        if isinstance(entry, dict):
            out.append((str(entry.get("key", "")), str(entry.get("value", ""))))
    return out


def _print_summary(inv: Invocation, result: Any) -> None:
    for key, value in sorted(summary_entries(result)):
        inv.echo(f"{key}: {value}")


def _print_ldap(inv: Invocation, result: Any) -> None:
    inv.echo(f"SyncEnabled: {result.get('SyncEnabled', '')}")
    inv.echo(f"InSync: {result.get('InSync', '')}")
    for key in ("LastSyncTime", "LastSyncError"):
        if result.get(key):
            inv.echo(f"{key}: {result[key]}")


_ADMIN = "[Eucalyptus cloud admin only] "

COMMANDS = [
    Command("euare-accountaliascreate", "iam", "CreateAccountAlias",
            "Create an alias for an account, a.k.a. an account name",
            [Arg("ALIAS", dest="AccountAlias", help="the new alias")]),
    Command("euare-accountaliasdelete", "iam", "DeleteAccountAlias",
            "Delete an account's alias, a.k.a. its account name",
            [Arg("ALIAS", dest="AccountAlias", help="the alias to delete")]),
    Command("euare-accountaliaslist", "iam", "ListAccountAliases",
            "List your account's aliases", [], output=_print_aliases),
    Command("euare-accountgetsummary", "iam", "GetAccountSummary",
            "Display account-level information about account entity usage and IAM quotas",
            [], output=_print_summary),
    Command("euare-getldapsyncstatus", "iam", "GetLdapSyncStatus",
            _ADMIN + "Show the status of the cloud's LDAP synchronization", [],
            output=_print_ldap, as_account=False),
    *policy_commands("account", as_account=False, prefix=_ADMIN),
]
