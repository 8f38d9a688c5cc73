"""euare-assumerole, euare-releaserole and euare-getcallerid: STS credentials as shell
variables, and who the current credentials are."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from .policydoc import read_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

#: What euare-assumerole sets and euare-releaserole unsets, in order.
CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN",
                   "AWS_CREDENTIAL_EXPIRATION", "EC2_ACCESS_KEY", "EC2_SECRET_KEY",
                   "AWS_ACCESS_KEY", "AWS_SECRET_KEY")


def _csh(inv: Invocation) -> bool:
    """csh-style output with -c, sh-style with -s, else from $SHELL."""
    import os

    if inv.args.get("csh"):
        return True
    if inv.args.get("sh"):
        return False
    return os.path.basename(os.environ.get("SHELL", "")).endswith("csh")


def _shell_args() -> Group:
    return Group(
        Arg("-c", name="csh", flag=True, help="generate C-shell commands on stdout"),
        Arg("-s", name="sh", flag=True, help="generate Bourne shell commands on stdout"))


def _run_assumerole(inv: Invocation) -> None:
    import time

    role = inv.args["role"]
    if not role.startswith("arn:"):
        # A bare role name is in the caller's own account.
        account = inv.session.account_id or inv.call("GetCallerIdentity", {}).get("Account")
        role = f"arn:aws:iam::{account}:role/{role}"
    params: dict[str, Any] = {
        "RoleArn": role,
        "RoleSessionName": inv.args.get("session_name") or f"euca2ools-{int(time.time())}",
        "DurationSeconds": inv.args.get("duration"),
        "ExternalId": inv.args.get("external_id"),
        "SerialNumber": inv.args.get("mfa_serial"),
        "TokenCode": inv.args.get("mfa_code"),
    }
    if inv.args.get("policy_content"):
        params["Policy"] = inv.args["policy_content"]
    elif inv.args.get("policy_document"):
        params["Policy"] = read_text(inv.args["policy_document"])
    creds = inv.call("AssumeRole", params).get("Credentials") or {}
    values = (creds.get("AccessKeyId"), creds.get("SecretAccessKey"),
              creds.get("SessionToken"), creds.get("Expiration"),
              creds.get("AccessKeyId"), creds.get("SecretAccessKey"),
              creds.get("AccessKeyId"), creds.get("SecretAccessKey"))
    csh = _csh(inv)
    for var, value in zip(CREDENTIAL_VARS, values, strict=True):
        inv.echo(f"setenv {var} {value};" if csh else f"{var}={value}; export {var};")


def _run_releaserole(inv: Invocation) -> None:
    csh = _csh(inv)
    for var in CREDENTIAL_VARS:
        inv.echo(f"unsetenv {var};" if csh else f"unset {var};")


def _print_callerid(inv: Invocation, result: Any) -> None:
    inv.echo(f"key-id = {inv.session.credentials.key_id}")
    inv.echo(f"account = {result.get('Account', '')}")
    inv.echo(f"arn = {result.get('Arn', '')}")
    inv.echo(f"user-id = {result.get('UserId', '')}")


COMMANDS = [
    Command(
        "euare-assumerole", "sts", "AssumeRole",
        "Assume an IAM role; prints shell export/setenv lines for AWS_*/EC2_* credential "
        "variables (eval-able)",
        [Arg("ROLE", name="role", help="the role to assume (name or ARN)"),
         Arg("-d", "--duration", name="duration", type=int, metavar="SECONDS",
             help="number of seconds the credentials should be valid for (900-3600) "
             "(default: 900)", default=900),
         Arg("--session-name", name="session_name", metavar="NAME",
             help="role session name (default: generated)"),
         _shell_args(),
         Group(Arg("--policy-content", name="policy_content", metavar="POLICY",
                   help="an IAM policy further restricting what the credentials may do"),
               Arg("--policy-document", name="policy_document", metavar="FILE",
                   complete="file", help="a file containing such a policy")),
         Arg("--external-id", name="external_id", metavar="STR",
             help="external ID the role's trust policy may require"),
         Arg("--mfa-serial", name="mfa_serial", metavar="MFA",
             help="MFA token serial number or ARN"),
         Arg("--mfa-code", name="mfa_code", metavar="CODE", help="MFA token code")],
        run=_run_assumerole, as_account=False),
    Command("euare-releaserole", "local", None,
            "Release IAM role credentials; prints unset/unsetenv lines for the credential "
            "variables", [_shell_args()], run=_run_releaserole),
    Command(
        "euare-getcallerid", "sts", "GetCallerIdentity",
        "Show information about the currently-active credentials; prints key = value lines "
        "(key-id, account, arn, user-id)",
        [], output=_print_callerid, as_account=False),
]
