"""IAM credential actions besides access keys: signing certificates, server certificates
and login profiles."""

from __future__ import annotations

from typing import Any

from server.auth.authz import Action, action
from server.auth.certs import generate_certificate
from server.auth.iam_shapes import caller_user, page, server_cert_resource, user_resource
from server.protocol.query import Context
from server.protocol.xml import iso8601


def _signing(cert: Any) -> dict[str, Any]:
    return {"UserName": cert.user_name, "CertificateId": cert.cert_id,
            "CertificateBody": cert.body, "Status": cert.status,
            "UploadDate": iso8601(cert.uploaded)}


# -- signing certificates ------------------------------------------------------------------
def upload_signing_certificate(ctx: Context) -> Any:
    """UploadSigningCertificate."""
    cert = ctx.cloud.identity.certs.upload_signing(
        ctx.account_id, caller_user(ctx), ctx.params.str("CertificateBody", required=True))
    return {"Certificate": _signing(cert)}


def create_signing_certificate(ctx: Context) -> Any:
    """CreateSigningCertificate (Eucalyptus): a new certificate and its private key."""
    identity = ctx.cloud.identity
    name = caller_user(ctx)
    user = identity.user(ctx.account_id, name)
    body, key = generate_certificate(f"{ctx.account_id}:{user.name}")
    cert = identity.certs.upload_signing(ctx.account_id, name, body)
    return {"Certificate": {**_signing(cert), "PrivateKey": key}}


def list_signing_certificates(ctx: Context) -> Any:
    """ListSigningCertificates."""
    identity = ctx.cloud.identity
    name = caller_user(ctx)
    identity.user(ctx.account_id, name)
    certs, extra = page(identity.certs.signing_for(ctx.account_id, name), ctx)
    return {"Certificates": [_signing(c) for c in certs], **extra}


def update_signing_certificate(ctx: Context) -> Any:
    """UpdateSigningCertificate."""
    ctx.cloud.identity.certs.update_signing(ctx.account_id, caller_user(ctx),
                                            ctx.params.str("CertificateId", required=True),
                                            ctx.params.str("Status", required=True))


def delete_signing_certificate(ctx: Context) -> Any:
    """DeleteSigningCertificate."""
    ctx.cloud.identity.certs.delete_signing(ctx.account_id, caller_user(ctx),
                                            ctx.params.str("CertificateId", required=True))


# -- server certificates -------------------------------------------------------------------
def _server_meta(cert: Any) -> dict[str, Any]:
    return {"Path": cert.path, "ServerCertificateName": cert.name,
            "ServerCertificateId": cert.cert_id, "Arn": cert.arn(),
            "UploadDate": iso8601(cert.uploaded), "Expiration": iso8601(cert.expiration)}


def upload_server_certificate(ctx: Context) -> Any:
    """UploadServerCertificate."""
    cert = ctx.cloud.identity.certs.upload_server(
        ctx.account_id, ctx.params.str("ServerCertificateName", required=True),
        ctx.params.str("CertificateBody", required=True),
        ctx.params.str("PrivateKey", required=True), ctx.params.str("CertificateChain", ""),
        ctx.params.str("Path", "/"))
    return {"ServerCertificateMetadata": _server_meta(cert)}


def get_server_certificate(ctx: Context) -> Any:
    """GetServerCertificate (never the private key)."""
    cert = ctx.cloud.identity.certs.server_cert(
        ctx.account_id, ctx.params.str("ServerCertificateName", required=True))
    out: dict[str, Any] = {"ServerCertificateMetadata": _server_meta(cert),
                           "CertificateBody": cert.body}
    if cert.chain:
        out["CertificateChain"] = cert.chain
    return {"ServerCertificate": out}


def list_server_certificates(ctx: Context) -> Any:
    """ListServerCertificates."""
    certs, extra = page(ctx.cloud.identity.certs.list_server(
        ctx.account_id, ctx.params.str("PathPrefix", "/")), ctx)
    return {"ServerCertificateMetadataList": [_server_meta(c) for c in certs], **extra}


def update_server_certificate(ctx: Context) -> Any:
    """UpdateServerCertificate."""
    ctx.cloud.identity.certs.update_server(
        ctx.account_id, ctx.params.str("ServerCertificateName", required=True),
        ctx.params.str("NewServerCertificateName"), ctx.params.str("NewPath"))


def delete_server_certificate(ctx: Context) -> Any:
    """DeleteServerCertificate."""
    ctx.cloud.identity.certs.delete_server(
        ctx.account_id, ctx.params.str("ServerCertificateName", required=True))


# -- login profiles ------------------------------------------------------------------------
def _login(profile: Any) -> dict[str, Any]:
    return {"UserName": profile.user_name, "CreateDate": iso8601(profile.created),
            "PasswordResetRequired": profile.reset_required}


def create_login_profile(ctx: Context) -> Any:
    """CreateLoginProfile."""
    profile = ctx.cloud.identity.logins.create(
        ctx.account_id, caller_user(ctx), ctx.params.str("Password", required=True),
        ctx.params.bool("PasswordResetRequired", False))
    return {"LoginProfile": _login(profile)}


def get_login_profile(ctx: Context) -> Any:
    """GetLoginProfile: whether the user has a password (never the password)."""
    return {"LoginProfile": _login(ctx.cloud.identity.logins.get(ctx.account_id,
                                                                 caller_user(ctx)))}


def update_login_profile(ctx: Context) -> Any:
    """UpdateLoginProfile."""
    ctx.cloud.identity.logins.update(ctx.account_id, ctx.params.str("UserName", required=True),
                                     ctx.params.str("Password"),
                                     ctx.params.bool("PasswordResetRequired"))


def delete_login_profile(ctx: Context) -> Any:
    """DeleteLoginProfile."""
    ctx.cloud.identity.logins.delete(ctx.account_id, ctx.params.str("UserName", required=True))


def _user_action(handler: Any, name: str) -> Action:
    return action(handler, f"iam:{name}", resources=user_resource)


def _cert_action(handler: Any, name: str) -> Action:
    return action(handler, f"iam:{name}", resources=server_cert_resource)


ACTIONS: dict[str, Action] = {
    "UploadSigningCertificate": _user_action(upload_signing_certificate,
                                             "UploadSigningCertificate"),
    "CreateSigningCertificate": _user_action(create_signing_certificate,
                                             "CreateSigningCertificate"),
    "ListSigningCertificates": _user_action(list_signing_certificates,
                                            "ListSigningCertificates"),
    "UpdateSigningCertificate": _user_action(update_signing_certificate,
                                             "UpdateSigningCertificate"),
    "DeleteSigningCertificate": _user_action(delete_signing_certificate,
                                             "DeleteSigningCertificate"),
    "UploadServerCertificate": _cert_action(upload_server_certificate,
                                            "UploadServerCertificate"),
    "GetServerCertificate": _cert_action(get_server_certificate, "GetServerCertificate"),
    "ListServerCertificates": action(list_server_certificates, "iam:ListServerCertificates"),
    "UpdateServerCertificate": _cert_action(update_server_certificate,
                                            "UpdateServerCertificate"),
    "DeleteServerCertificate": _cert_action(delete_server_certificate,
                                            "DeleteServerCertificate"),
    "CreateLoginProfile": _user_action(create_login_profile, "CreateLoginProfile"),
    "GetLoginProfile": _user_action(get_login_profile, "GetLoginProfile"),
    "UpdateLoginProfile": _user_action(update_login_profile, "UpdateLoginProfile"),
    "DeleteLoginProfile": _user_action(delete_login_profile, "DeleteLoginProfile"),
}
