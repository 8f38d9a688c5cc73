"""IAM actions of this package: account password policies (AWS) and the sign-up queue
(Eucalyptus cloud-administrator actions behind ``euserv-*-signup*``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from server import errors
from server.auth.authz import Action, action
from server.auth.identity import IdentityError
from server.console.passwords import PasswordPolicy, policy_for, save_policy
from server.console.signups import Signup, Signups
from server.protocol.query import Context
from server.protocol.xml import iso8601


def update_account_password_policy(ctx: Context) -> Any:
    """UpdateAccountPasswordPolicy: unnamed fields return to their defaults, as in IAM."""
    p = ctx.params
    policy = PasswordPolicy(
        MinimumPasswordLength=p.int("MinimumPasswordLength", 6, minimum=6, maximum=128),
        RequireSymbols=bool(p.bool("RequireSymbols", False)),
        RequireNumbers=bool(p.bool("RequireNumbers", False)),
        RequireUppercaseCharacters=bool(p.bool("RequireUppercaseCharacters", False)),
        RequireLowercaseCharacters=bool(p.bool("RequireLowercaseCharacters", False)),
        AllowUsersToChangePassword=bool(p.bool("AllowUsersToChangePassword", False)),
        MaxPasswordAge=p.int("MaxPasswordAge", 0, minimum=0, maximum=1095),
        PasswordReusePrevention=p.int("PasswordReusePrevention", 0, minimum=0, maximum=24),
        HardExpiry=bool(p.bool("HardExpiry", False)))
    save_policy(ctx.cloud.identity, ctx.account_id, policy)


def get_account_password_policy(ctx: Context) -> Any:
    """GetAccountPasswordPolicy: NoSuchEntity when the account has none."""
    policy = policy_for(ctx.cloud.identity, ctx.account_id)
    if policy is None:
        raise IdentityError("NoSuchEntity", "The Password Policy with domain name "
                            f"{ctx.account_id} cannot be found.", 404)
    doc: dict[str, Any] = asdict(policy)
    doc["ExpirePasswords"] = policy.MaxPasswordAge > 0
    if not policy.MaxPasswordAge:
        doc.pop("MaxPasswordAge")
    if not policy.PasswordReusePrevention:
        doc.pop("PasswordReusePrevention")
    return {"PasswordPolicy": doc}


def delete_account_password_policy(ctx: Context) -> Any:
    """DeleteAccountPasswordPolicy."""
    if policy_for(ctx.cloud.identity, ctx.account_id) is None:
        raise IdentityError("NoSuchEntity", "The account policy with name PasswordPolicy "
                            "cannot be found.", 404)
    save_policy(ctx.cloud.identity, ctx.account_id, None)


def signups(ctx: Context) -> Signups:
    """The cloud's sign-up queue (cloud administrators only)."""
    if not ctx.is_admin:
        raise errors.AccessDenied("Only cloud administrators may call " + ctx.action)
    return ctx.cloud.components["signups"]


def _signup(s: Signup) -> dict[str, Any]:
    out = {"SignupId": s.signup_id, "AccountName": s.account_name, "Email": s.email,
           "Status": s.status, "CreateDate": iso8601(s.created)}
    if s.decided:
        out["DecideDate"] = iso8601(s.decided)
    if s.account_id:
        out["AccountId"] = s.account_id
    return out


def list_signups(ctx: Context) -> Any:
    """ListSignups: the applications, pending ones only unless ``Status`` names another."""
    status = ctx.params.str("Status", "pending")
    if status not in ("pending", "approved", "rejected", "all"):
        raise IdentityError("ValidationError", "Status must be pending, approved, rejected "
                            "or all")
    return {"Signups": [_signup(s) for s in signups(ctx).list(None if status == "all"
                                                                  else status)]}


def approve_signup(ctx: Context) -> Any:
    """ApproveSignup: create the account with its admin, key and certificate."""
    return {"Signup": _signup(signups(ctx).approve(ctx.params.str("SignupId", required=True)))}


def reject_signup(ctx: Context) -> Any:
    """RejectSignup."""
    return {"Signup": _signup(signups(ctx).reject(ctx.params.str("SignupId", required=True)))}


ACTIONS: dict[str, Action] = {
    "UpdateAccountPasswordPolicy": action(update_account_password_policy,
                                          "iam:UpdateAccountPasswordPolicy"),
    "GetAccountPasswordPolicy": action(get_account_password_policy,
                                       "iam:GetAccountPasswordPolicy"),
    "DeleteAccountPasswordPolicy": action(delete_account_password_policy,
                                          "iam:DeleteAccountPasswordPolicy"),
    "ListSignups": action(list_signups, "iam:ListSignups", cloud_admin=True),
    "ApproveSignup": action(approve_signup, "iam:ApproveSignup", cloud_admin=True),
    "RejectSignup": action(reject_signup, "iam:RejectSignup", cloud_admin=True),
}
