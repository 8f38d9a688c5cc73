"""euare-servercert* and euare-oidcprovider* commands: server certificates (for HTTPS load
balancers) and OpenID Connect identity providers."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list
from .policydoc import read_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _cert(helptext: str) -> Arg:
    return Arg("CERT", dest="ServerCertificateName", help=helptext)


def _read_files(inv: Invocation) -> None:
    for arg, dest in (("certificate_file", "CertificateBody"), ("private_key_file", "PrivateKey"),
                      ("certificate_chain_file", "CertificateChain")):
        if inv.args.get(arg):
            inv.params[dest] = read_text(inv.args[arg])


def _print_cert(inv: Invocation, result: Any) -> None:
    meta = (result.get("ServerCertificate") or {}).get("ServerCertificateMetadata") or {}
    inv.echo(meta.get("Arn", ""))
    inv.echo(meta.get("ServerCertificateId", ""))


def _print_certs(inv: Invocation, result: Any) -> None:
    for meta in as_list(result.get("ServerCertificateMetadataList")):
        inv.echo(meta.get("Arn", ""))


# -- OpenID Connect providers ------------------------------------------------------------------
def _oidc(inv: Invocation) -> None:
    """Accept a provider's URL as well as its ARN (looked up among the account's)."""
    value = inv.params.get("OpenIDConnectProviderArn", "")
    if value.startswith("arn:"):
        return
    from ..exceptions import Euca2oolsError

    suffix = "/" + value.split("://", 1)[-1].rstrip("/")
    delegate = {"DelegateAccount": inv.params["DelegateAccount"]} \
        if inv.params.get("DelegateAccount") else {}
    listed = inv.call("ListOpenIDConnectProviders", delegate)
    for item in as_list(listed.get("OpenIDConnectProviderList")):
        arn = item.get("Arn", "")
        if arn.endswith(suffix):
            inv.params["OpenIDConnectProviderArn"] = arn
            return
    raise Euca2oolsError(f"no OpenID Connect provider matches {value}")


def _provider(helptext: str) -> Arg:
    return Arg("OIDC", dest="OpenIDConnectProviderArn", help=helptext)


def _print_provider_arn(inv: Invocation, result: Any) -> None:
    inv.echo(result.get("OpenIDConnectProviderArn", ""))


def _print_provider(inv: Invocation, result: Any) -> None:
    inv.echo(f"url: {result.get('Url', '')}")
    for client in as_list(result.get("ClientIDList")):
        inv.echo(f"client-id: {client}")
    for thumbprint in as_list(result.get("ThumbprintList")):
        inv.echo(f"thumbprint: {thumbprint}")
    inv.echo(f"create-date: {result.get('CreateDate', '')}")


def _print_providers(inv: Invocation, result: Any) -> None:
    for item in as_list(result.get("OpenIDConnectProviderList")):
        inv.echo(item.get("Arn", ""))


_PATH_PREFIX = Arg("-p", "--path-prefix", dest="PathPrefix", metavar="PATH",
                   help="restrict results to those whose paths begin with a specific prefix")
_CLIENT = Arg("-c", "--client-id", dest="ClientID", required=True, metavar="CLIENT",
              help="the client ID")

COMMANDS = [
    Command(
        "euare-servercertupload", "iam", "UploadServerCertificate", "Upload a server certificate",
        [_cert("name to give the new server certificate"),
         Group(Arg("-c", "--certificate-body", dest="CertificateBody", metavar="CERT",
                   help="PEM-encoded certificate body"),
               Arg("--certificate-file", name="certificate_file", metavar="FILE",
                   complete="file", help="file containing the PEM-encoded certificate body"),
               required=True),
         Group(Arg("--private-key", dest="PrivateKey", metavar="KEY",
                   help="PEM-encoded private key"),
               Arg("--private-key-file", name="private_key_file", metavar="FILE",
                   complete="file", help="file containing the PEM-encoded private key"),
               required=True),
         Group(Arg("--certificate-chain", dest="CertificateChain", metavar="CHAIN",
                   help="PEM-encoded certificate chain"),
               Arg("--certificate-chain-file", name="certificate_chain_file", metavar="FILE",
                   complete="file", help="file containing the PEM-encoded certificate chain")),
         Arg("-p", "--path", dest="Path", help="path for the new server certificate")],
        prepare=_read_files),
    Command("euare-servercertgetattributes", "iam", "GetServerCertificate",
            "Show the ARN and GUID of a server certificate",
            [_cert("name of the server certificate to describe")], output=_print_cert),
    Command("euare-servercertlistbypath", "iam", "ListServerCertificates",
            "List your account's server certificates", [_PATH_PREFIX], output=_print_certs),
    Command(
        "euare-servercertmod", "iam", "UpdateServerCertificate",
        "Change the name and/or path of a server certificate",
        [_cert("name of the server certificate to update"),
         Arg("-n", "--new-server-certificate-name", dest="NewServerCertificateName",
             metavar="CERT", help="new name for the server certificate"),
         Arg("-p", "--new-path", dest="NewPath", metavar="PATH",
             help="new path for the server certificate")]),
    Command("euare-servercertdel", "iam", "DeleteServerCertificate",
            "Delete a server certificate", [_cert("name of the server certificate to delete")]),
    Command(
        "euare-oidcprovidercreate", "iam", "CreateOpenIDConnectProvider",
        "Create a new OpenID Connect provider",
        [Arg("URL", dest="Url", help="the URL of the identity provider (https://...)"),
         Arg("-c", "--client-id", dest="ClientIDList.member", metavar="CLIENT", multiple=True,
             help="a client ID (audience) the provider issues tokens for (repeatable)"),
         Arg("-t", "--thumbprint", dest="ThumbprintList.member", metavar="HEX", multiple=True,
             help="SHA-1 thumbprint of the provider's server certificate (repeatable)")],
        output=_print_provider_arn),
    Command("euare-oidcprovidergetattributes", "iam", "GetOpenIDConnectProvider",
            "Describe an OpenID Connect provider",
            [_provider("ARN or URL of the provider to describe")], prepare=_oidc,
            output=_print_provider),
    Command("euare-oidcproviderlist", "iam", "ListOpenIDConnectProviders",
            "List your account's OpenID Connect providers", [], output=_print_providers),
    Command("euare-oidcproviderdel", "iam", "DeleteOpenIDConnectProvider",
            "Delete an OpenID Connect provider",
            [_provider("ARN or URL of the provider to delete")], prepare=_oidc),
    Command("euare-oidcprovideraddclientid", "iam", "AddClientIDToOpenIDConnectProvider",
            "Add a client ID to an OpenID Connect provider",
            [_provider("ARN or URL of the provider"), _CLIENT], prepare=_oidc),
    Command("euare-oidcproviderdelclientid", "iam", "RemoveClientIDFromOpenIDConnectProvider",
            "Remove a client ID from an OpenID Connect provider",
            [_provider("ARN or URL of the provider"), _CLIENT], prepare=_oidc),
    Command(
        "euare-oidcproviderchangethumbprint", "iam", "UpdateOpenIDConnectProviderThumbprint",
        "Replace an OpenID Connect provider's list of thumbprints",
        [_provider("ARN or URL of the provider"),
         Arg("-t", "--thumbprint", dest="ThumbprintList.member", metavar="HEX", multiple=True,
             help="SHA-1 thumbprint of the provider's server certificate (repeatable)")],
        prepare=_oidc),
]
