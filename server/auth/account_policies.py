"""Eucalyptus account policies: Put/Get/List/DeleteAccountPolicy (cloud administrators).

An account policy applies to every principal of the account, its admin included: its
Deny statements refuse (Eucalyptus checks account policies before the account admin's
implicit rights) and its ``Limit`` statements are the account's quotas.  Allow
statements grant nothing by themselves.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from server import errors
from server.auth.authz import Action, action
from server.auth.identity import IdentityError, check_policy_name
from server.auth.policies_source import account_policies
from server.auth.policy import PolicyError, parse
from server.protocol.query import Context

#: IAM's limit on one account policy's size (non-whitespace characters), as for users.
ACCOUNT_POLICY_SIZE = 10240


def _account(ctx: Context) -> Any:
    return ctx.cloud.identity.account(ctx.params.str("AccountName", required=True))


def validate(document: str) -> None:
    """An identity policy (no Principal) whose effects may include ``Limit``."""
    try:
        parse(document)
    except PolicyError as exc:
        raise errors.AWSError(str(exc), code="MalformedPolicyDocument") from None
    if '"Principal"' in document or '"NotPrincipal"' in document:
        raise errors.AWSError("Policy document should not specify a principal.",
                              code="MalformedPolicyDocument")
    if sum(1 for ch in document if not ch.isspace()) > ACCOUNT_POLICY_SIZE:
        raise errors.AWSError(f"Maximum policy size of {ACCOUNT_POLICY_SIZE} bytes exceeded",
                              code="LimitExceeded", status=409)


def put_account_policy(ctx: Context) -> Any:
    """PutAccountPolicy: add or replace a policy on an account (quotas, account denies)."""
    account = _account(ctx)
    name = ctx.params.str("PolicyName", required=True)
    check_policy_name(name)
    document = ctx.params.str("PolicyDocument", required=True)
    validate(document)
    account_policies(ctx.cloud.identity).put(account.id, name, document)
    return None


def get_account_policy(ctx: Context) -> Any:
    """GetAccountPolicy: the document, URL-encoded as IAM returns policies."""
    account = _account(ctx)
    name = ctx.params.str("PolicyName", required=True)
    document = account_policies(ctx.cloud.identity).get(account.id, name)
    if document is None:
        raise IdentityError("NoSuchEntity", f"The account policy with name {name} cannot be "
                            "found.", 404)
    return {"AccountName": account.name, "PolicyName": name,
            "PolicyDocument": quote(document, safe="")}


def list_account_policies(ctx: Context) -> Any:
    """ListAccountPolicies: the names of an account's policies."""
    account = _account(ctx)
    return {"PolicyNames": account_policies(ctx.cloud.identity).names(account.id),
            "IsTruncated": False}


def delete_account_policy(ctx: Context) -> Any:
    """DeleteAccountPolicy."""
    account = _account(ctx)
    name = ctx.params.str("PolicyName", required=True)
    store = account_policies(ctx.cloud.identity)
    if store.get(account.id, name) is None:
        raise IdentityError("NoSuchEntity", f"The account policy with name {name} cannot be "
                            "found.", 404)
    store.delete(account.id, name)
    return None


def _account_arn(ctx: Context) -> list[str]:
    name = ctx.params.str("AccountName") or ""
    try:
        account_id = ctx.cloud.identity.account(name).id if name else "*"
    except IdentityError:
        account_id = name
    return [f"arn:aws:iam::{account_id}:root"]


#: Rows the IAM service adds to its action table.
ACTIONS: dict[str, Action] = {
    name: action(fn, f"iam:{name}", resources=_account_arn, cloud_admin=True)
    for name, fn in (("PutAccountPolicy", put_account_policy),
                     ("GetAccountPolicy", get_account_policy),
                     ("ListAccountPolicies", list_account_policies),
                     ("DeleteAccountPolicy", delete_account_policy))
}
