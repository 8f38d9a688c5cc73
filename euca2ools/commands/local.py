"""Commands that make no web request: euca-version, euca-generate-environment-config."""

from __future__ import annotations

from ..decl import Arg, Command

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from ..runtime import Invocation


def _run_version(inv: Invocation) -> None:
    """The suite version (and Eucalyptus's, when installed) on stderr, as euca2ools does."""
    import sys

    from ..cli import version_text

    sys.stderr.write(version_text() + "\n")


# Environment variables for service URLs, in output order.
_URL_VARS = (("ec2", "EC2_URL"), ("s3", "S3_URL"), ("iam", "AWS_IAM_URL"),
             ("autoscaling", "AWS_AUTO_SCALING_URL"), ("elasticloadbalancing", "AWS_ELB_URL"),
             ("monitoring", "AWS_CLOUDWATCH_URL"), ("cloudformation", "AWS_CLOUDFORMATION_URL"),
             ("sts", "TOKEN_URL"), ("bootstrap", "EUCA_BOOTSTRAP_URL"),
             ("properties", "EUCA_PROPERTIES_URL"), ("reporting", "EUCA_REPORTING_URL"))


def _run_environment(inv: Invocation) -> None:
    """Shell code exporting the URLs and credentials of the selected region and user."""
    import os

    from ..exceptions import ConfigError

    session = inv.session
    values: list[tuple[str, str | None]] = []
    for service, var in _URL_VARS:
        url = os.environ.get(var) or session.config.get_region(session.region, f"{service}-url")
        values.append((var, url))
    key_id: str | None
    secret: str | None
    token: str | None
    try:
        creds = session.credentials
        key_id, secret, token = creds.key_id, creds.secret_key, creds.security_token
    except ConfigError:
        key_id = secret = token = None
    values += [("AWS_ACCESS_KEY_ID", key_id), ("AWS_SECRET_ACCESS_KEY", secret),
               ("AWS_SECURITY_TOKEN", token),
               ("AWS_CREDENTIAL_EXPIRATION", os.environ.get("AWS_CREDENTIAL_EXPIRATION")),
               ("EC2_USER_ID", session.account_id),
               ("EC2_CERT", os.environ.get("EC2_CERT")
                or session.config.get_user(session.user, "certificate")),
               ("EC2_PRIVATE_KEY", os.environ.get("EC2_PRIVATE_KEY")
                or session.config.get_user(session.user, "private-key")),
               ("EUCALYPTUS_CERT", os.environ.get("EUCALYPTUS_CERT")
                or session.config.get_region(session.region, "certificate"))]
    unset = []
    for var, value in values:
        if not value:
            unset.append(var)
        elif inv.args.get("simple"):
            inv.echo(f"{var}={value}")
        else:
            inv.echo(f"{var}={value}; export {var};")
    for var in unset:
        inv.echo(f"# {var} is not set")


COMMANDS = [
    Command("euca-version", "local", None, "Display the euca2ools suite version", [],
            run=_run_version, fast=False),
    Command(
        "euca-generate-environment-config", "local", None,
        "Read environment variables and euca2ools.ini(5) files to discover the service URLs and "
        "credentials for a region, then output shellcode with the corresponding environment "
        "variables for that information",
        [Arg("--simple", name="simple", flag=True,
             help="output just the key=value pairs without any shell code")],
        run=_run_environment, fast=False,
        description="This output will contain secret access keys and should be treated with "
        "care.",
    ),
]
