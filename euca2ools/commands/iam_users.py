"""euare-user* commands beyond creation and keys: attributes, renames, inline policies,
login profiles, signing certificates, MFA devices and (Eucalyptus) user information."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list
from .policydoc import policy_commands, read_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _user(required: bool = True, helptext: str = "name of the user") -> Arg:
    return Arg("USER", dest="UserName", complete="user", nargs=None if required else "?",
               help=helptext)


def _user_opt(helptext: str = "user the item belongs to (default: current user)") -> Arg:
    return Arg("-u", "--user-name", dest="UserName", metavar="USER", complete="user",
               help=helptext)


# -- attributes ------------------------------------------------------------------------------
def _print_attributes(inv: Invocation, result: Any) -> None:
    user = result.get("User") or {}
    inv.echo(user.get("Arn", ""))
    inv.echo(user.get("UserId", ""))
    if inv.args.get("show_extra"):
        inv.echo(user.get("CreateDate", ""))
        if user.get("PasswordLastUsed"):
            inv.echo(user["PasswordLastUsed"])


def _print_info(inv: Invocation, result: Any) -> None:
    for info in as_list(result.get("Infos")):
        inv.emit(info.get("Key"), info.get("Value"))


# -- login profiles --------------------------------------------------------------------------
def _password(inv: Invocation) -> None:
    """The password from -p, else asked for (twice on a terminal; one line from a pipe)."""
    if inv.args.get("password") is not None:
        inv.params["Password"] = inv.args["password"]
        return
    import getpass
    import sys

    from ..exceptions import Euca2oolsError

    if not sys.stdin.isatty():
        inv.params["Password"] = sys.stdin.readline().rstrip("\n")
        return
    first = getpass.getpass("New password: ")
    if getpass.getpass("Retype new password: ") != first:
        raise Euca2oolsError("passwords do not match")
    inv.params["Password"] = first


def _print_loginprofile(inv: Invocation, result: Any) -> None:
    profile = result.get("LoginProfile") or {}
    inv.echo(f"Login Profile Exists for User {profile.get('UserName', '')}")
    if inv.args.get("verbose"):
        inv.echo(f"Creation date: {profile.get('CreateDate', '')}")


# -- signing certificates --------------------------------------------------------------------
def _read_certificate(inv: Invocation) -> None:
    if inv.args.get("certificate_file"):
        inv.params["CertificateBody"] = read_text(inv.args["certificate_file"])


def _print_cert_id(inv: Invocation, result: Any) -> None:
    inv.echo((result.get("Certificate") or {}).get("CertificateId", ""))


def _run_createcert(inv: Invocation) -> None:
    import os

    cert = inv.call("CreateSigningCertificate", inv.params).get("Certificate") or {}
    inv.echo(cert.get("CertificateId", ""))
    body, key = cert.get("CertificateBody", ""), cert.get("PrivateKey", "")
    if inv.args.get("out"):
        with open(inv.args["out"], "w", encoding="utf-8") as handle:
            handle.write(body)
    else:
        inv.echo(body.rstrip("\n"))
    if inv.args.get("keyout"):
        fd = os.open(inv.args["keyout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
    else:
        inv.echo(key.rstrip("\n"))


def _print_certlist(inv: Invocation, result: Any) -> None:
    for cert in as_list(result.get("Certificates")):
        inv.echo(cert.get("CertificateId", ""))
        if inv.args.get("verbose"):
            inv.echo(cert.get("CertificateBody", "").rstrip("\n"))
        inv.echo(cert.get("Status", ""))


# -- groups, MFA ------------------------------------------------------------------------------
def _print_groups(inv: Invocation, result: Any) -> None:
    for group in as_list(result.get("Groups")):
        inv.echo(group.get("Arn", ""))


def _print_mfa(inv: Invocation, result: Any) -> None:
    for device in as_list(result.get("MFADevices")):
        inv.echo(device.get("SerialNumber", ""))


def _mfa_args(codes: bool) -> list[Arg | Group]:
    out: list[Arg | Group] = [
        _user(helptext="user the MFA device belongs to"),
        Arg("-s", "--serial-number", dest="SerialNumber", required=True, metavar="SERIAL",
            help="serial number of the MFA device")]
    if codes:
        out += [Arg("-c1", dest="AuthenticationCode1", required=True, metavar="CODE",
                    help="an authentication code emitted by the MFA device"),
                Arg("-c2", dest="AuthenticationCode2", required=True, metavar="CODE",
                    help="a subsequent authentication code emitted by the MFA device")]
    return out


def _run_usermod(inv: Invocation) -> None:
    """UpdateUser; the Eucalyptus-only fields go along when given."""
    inv.call("UpdateUser", inv.params)


_STATUS = ("Active", "Inactive")

COMMANDS = [
    Command("euare-usergetattributes", "iam", "GetUser", "Display a user's ARN and GUID",
            [_user(False, "name of the user to describe (default: current user)"),
             Arg("--show-extra", name="show_extra", flag=True,
                 help="also display additional user info")],
            output=_print_attributes),
    Command(
        "euare-usermod", "iam", "UpdateUser", "Change the name and/or path of a user",
        [_user(helptext="name of the user to update"),
         Arg("-n", "--new-user-name", dest="NewUserName", metavar="USER",
             help="new name for the user"),
         Arg("-p", "--new-path", dest="NewPath", metavar="PATH", help="new path for the user"),
         Arg("--enabled", dest="Enabled", choices=("true", "false"),
             help="[Eucalyptus only] 'true' to enable the user, or 'false' to disable"),
         Arg("--pwd-expires", dest="PasswordExpiration", metavar="DATETIME",
             help="[Eucalyptus only] password expiration date, in ISO8601 format"),
         Arg("--reg-status", dest="RegStatus", choices=("REGISTERED", "APPROVED", "CONFIRMED"),
             help="[Eucalyptus <= 3.4 only] new registration status")],
        run=_run_usermod),
    Command("euare-userlistgroups", "iam", "ListGroupsForUser",
            "List all groups a user is a member of",
            [_user(helptext="user to list membership information for")],
            output=_print_groups),
    Command("euare-usergetinfo", "iam", "GetUserInfo",
            "[Eucalyptus only] Display information about a user",
            [_user(False, "name of the user to describe (default: current user)"),
             Arg("-k", "--info-key", dest="InfoKey", metavar="KEY",
                 help="name of the piece of user info to show")],
            output=_print_info),
    Command("euare-userupdateinfo", "iam", "UpdateUserInfo",
            "[Eucalyptus only] Update a user's information",
            [_user(False, "name of the user to update (default: current user)"),
             Arg("-k", "--info-key", dest="InfoKey", required=True, metavar="KEY",
                 help="name of the info field to set"),
             Arg("-i", "--info-value", dest="InfoValue", metavar="VALUE",
                 help="value to set the info field to (omit to delete it)")]),
    Command(
        "euare-usermodkey", "iam", "UpdateAccessKey",
        "Change the status of an access key from Active to Inactive, or vice versa",
        [Arg("KEY_ID", dest="AccessKeyId", help="ID of the access key to update"),
         Arg("-s", "--status", dest="Status", required=True, choices=_STATUS,
             help="status to assign to the access key"),
         _user_opt("user the key belongs to (default: current user)")]),
    # login profiles
    Command("euare-useraddloginprofile", "iam", "CreateLoginProfile",
            "Create a password for the specified user",
            [_user(helptext="name of the user to create a password for"),
             Arg("-p", "--password", name="password", metavar="PASSWORD",
                 help="the new password (default: prompt, or read a line from stdin)")],
            prepare=_password),
    Command("euare-usergetloginprofile", "iam", "GetLoginProfile",
            "Verify that a user has a password",
            [_user(helptext="user whose password to verify"),
             Arg("--verbose", name="verbose", flag=True,
                 help="print extra info about the user's password")],
            output=_print_loginprofile),
    Command("euare-usermodloginprofile", "iam", "UpdateLoginProfile",
            "Update a user's password",
            [_user(helptext="name of the user to change a password for"),
             Arg("-p", "--password", name="password", metavar="PASSWORD",
                 help="the new password (default: prompt, or read a line from stdin)")],
            prepare=_password),
    Command("euare-userdelloginprofile", "iam", "DeleteLoginProfile",
            "Delete a user's password",
            [_user(helptext="name of the user whose password should be deleted")]),
    # signing certificates
    Command(
        "euare-useraddcert", "iam", "UploadSigningCertificate", "Upload a signing certificate",
        [_user(helptext="user the new certificate will belong to"),
         Group(Arg("-c", "--certificate-body", dest="CertificateBody", metavar="CERT",
                   help="PEM-encoded certificate body"),
               Arg("-f", "--certificate-file", name="certificate_file", metavar="FILE",
                   complete="file", help="file containing the PEM-encoded certificate"),
               required=True)],
        prepare=_read_certificate, output=_print_cert_id),
    Command(
        "euare-usercreatecert", "iam", "CreateSigningCertificate",
        "[Eucalyptus only] Create a new signing certificate",
        [_user(False, "user to create the signing certificate for (default: current user)"),
         Arg("--out", name="out", metavar="FILE", complete="file",
             help="file to write the certificate to (default: stdout)"),
         Arg("--keyout", name="keyout", metavar="FILE", complete="file",
             help="file to write the private key to (default: stdout)")],
        run=_run_createcert),
    Command("euare-userlistcerts", "iam", "ListSigningCertificates",
            "List a user's signing certificates",
            [_user(False, "user whose certificates to list (default: current user)"),
             Arg("-v", "--verbose", name="verbose", flag=True,
                 help="also show certificates' contents")],
            output=_print_certlist),
    Command(
        "euare-usermodcert", "iam", "UpdateSigningCertificate",
        "Change the status of a signing certificate from Active to Inactive, or vice versa",
        [Arg("CERT", dest="CertificateId", help="ID of the signing certificate to update"),
         _user_opt("user the certificate belongs to (default: current user)"),
         Arg("-s", "--status", dest="Status", required=True, choices=_STATUS,
             help="status to assign to the certificate")]),
    Command("euare-userdelcert", "iam", "DeleteSigningCertificate",
            "Delete a signing certificate",
            [Arg("CERT", dest="CertificateId", help="ID of the signing certificate to delete"),
             _user_opt("user the certificate belongs to (default: current user)")]),
    # MFA devices
    Command("euare-userlistmfadevices", "iam", "ListMFADevices", "List a user's MFA devices",
            [_user(False, "user to list MFA devices for (default: current user)")],
            output=_print_mfa),
    Command("euare-userenablemfadevice", "iam", "EnableMFADevice", "Enable an MFA device",
            _mfa_args(True)),
    Command("euare-userdeactivatemfadevice", "iam", "DeactivateMFADevice",
            "Deactivate an MFA device", _mfa_args(False)),
    Command("euare-userresyncmfadevice", "iam", "ResyncMFADevice",
            "Re-synchronize an MFA device with the server", _mfa_args(True)),
    *policy_commands("user"),
]


