"""Eucalyptus cloud-admin commands for the web sign-up queue: list, approve and reject
applications for accounts (IAM actions ``ListSignups``, ``ApproveSignup``,
``RejectSignup``; cloud admin only)."""

from __future__ import annotations

from ..decl import Arg, Command
from ..xmlparse import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _emit(inv: Invocation, signup: Any) -> None:
    inv.emit("SIGNUP", signup.get("SignupId"), signup.get("AccountName"), signup.get("Email"),
             signup.get("Status"), signup.get("CreateDate"), signup.get("AccountId"))


def _print_signups(inv: Invocation, result: Any) -> None:
    """``SIGNUP`` id, account name, e-mail, status, date applied (account ID once approved)."""
    for signup in as_list((result.get("Signups") or {}).get("member")
                          if isinstance(result.get("Signups"), dict) else result.get("Signups")):
        _emit(inv, signup)


def _print_signup(inv: Invocation, result: Any) -> None:
    _emit(inv, result.get("Signup") or {})


_ID = Arg("SIGNUP", dest="SignupId", help="the application's ID (su-...)")

COMMANDS = [
    Command(
        "euserv-describe-signups", "iam", "ListSignups",
        "[Eucalyptus cloud admin only] Show applications for accounts made on the web console",
        [Arg("--status", dest="Status", choices=("pending", "approved", "rejected", "all"),
             help="show applications in this state (default: pending)")],
        output=_print_signups,
    ),
    Command(
        "euserv-approve-signup", "iam", "ApproveSignup",
        "[Eucalyptus cloud admin only] Approve an application: create its account, admin "
        "user, access key and signing certificate",
        [_ID], output=_print_signup,
    ),
    Command(
        "euserv-reject-signup", "iam", "RejectSignup",
        "[Eucalyptus cloud admin only] Reject an application for an account",
        [_ID], output=_print_signup,
    ),
]
