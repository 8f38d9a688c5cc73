"""OpenID Connect identity providers of an account (for web-identity federation).

A provider is its issuer URL, the client IDs (audiences) it may issue tokens for and the
SHA-1 thumbprints of its servers' certificates.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from server.auth.authz import Action, action
from server.auth.identity import IdentityError
from server.protocol.query import Context
from server.protocol.xml import iso8601

if TYPE_CHECKING:
    from server.auth.identity import Identity

KIND = "oidc_provider"
_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")
#: IAM's quotas: client IDs and thumbprints per provider.
MAX_CLIENT_IDS, MAX_THUMBPRINTS = 100, 5


@dataclass
class OpenIDConnectProvider:
    """One provider."""

    account_id: str
    url: str
    created: float
    client_ids: list[str] = field(default_factory=list)
    thumbprints: list[str] = field(default_factory=list)

    def arn(self) -> str:
        """``arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH``."""
        return f"arn:aws:iam::{self.account_id}:oidc-provider/{self.url}"


class Providers:
    """Every account's OpenID Connect providers, by ARN."""

    def __init__(self, identity: Identity):
        self.identity = identity
        self.providers: dict[str, OpenIDConnectProvider] = {}
        for _, _, doc in identity.store.load(KIND):
            provider = OpenIDConnectProvider(**doc)
            self.providers[provider.arn()] = provider

    def save(self, provider: OpenIDConnectProvider) -> None:
        """Write a provider through."""
        self.identity.store.put(KIND, provider.arn(), provider.account_id, asdict(provider))

    def delete(self, provider: OpenIDConnectProvider) -> None:
        """Forget a provider."""
        del self.providers[provider.arn()]
        self.identity.store.delete(KIND, provider.arn())


def _providers(ctx: Context) -> dict[str, OpenIDConnectProvider]:
    return ctx.cloud.identity.oidc.providers


def _save(ctx: Context, provider: OpenIDConnectProvider) -> None:
    ctx.cloud.identity.oidc.save(provider)


def _thumbprints(values: list[str]) -> list[str]:
    if len(values) > MAX_THUMBPRINTS:
        raise IdentityError("LimitExceeded", "Cannot exceed quota for ThumbprintsPerProvider: "
                            f"{MAX_THUMBPRINTS}", 409)
    for value in values:
        if not _THUMBPRINT.match(value):
            raise IdentityError("ValidationError", f"Thumbprint {value} is not a 40-character "
                                "hex SHA-1 fingerprint")
    return [v.lower() for v in values]


def _provider(ctx: Context) -> OpenIDConnectProvider:
    arn = ctx.params.str("OpenIDConnectProviderArn", required=True)
    provider = _providers(ctx).get(arn)
    if provider is None or provider.account_id != ctx.account_id:
        raise IdentityError("NoSuchEntity", f"OpenIDConnect Provider not found for arn {arn}",
                            404)
    return provider


def create_provider(ctx: Context) -> Any:
    """CreateOpenIDConnectProvider."""
    url = ctx.params.str("Url", required=True)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise IdentityError("ValidationError", "Url must begin with https:// and have no "
                            "query or fragment")
    provider = OpenIDConnectProvider(ctx.account_id, (parts.netloc + parts.path).rstrip("/"),
                                     ctx.cloud.identity.now(),
                                     list(dict.fromkeys(ctx.params.strings("ClientIDList"))),
                                     _thumbprints(ctx.params.strings("ThumbprintList")))
    if provider.arn() in _providers(ctx):
        raise IdentityError("EntityAlreadyExists", "Provider with url " + url +
                            " already exists.", 409)
    _providers(ctx)[provider.arn()] = provider
    _save(ctx, provider)
    return {"OpenIDConnectProviderArn": provider.arn()}


def get_provider(ctx: Context) -> Any:
    """GetOpenIDConnectProvider."""
    provider = _provider(ctx)
    return {"Url": provider.url, "ClientIDList": provider.client_ids,
            "ThumbprintList": provider.thumbprints, "CreateDate": iso8601(provider.created)}


def list_providers(ctx: Context) -> Any:
    """ListOpenIDConnectProviders."""
    return {"OpenIDConnectProviderList": [{"Arn": arn} for arn, p in
                                          sorted(_providers(ctx).items())
                                          if p.account_id == ctx.account_id]}


def delete_provider(ctx: Context) -> Any:
    """DeleteOpenIDConnectProvider."""
    ctx.cloud.identity.oidc.delete(_provider(ctx))


def add_client_id(ctx: Context) -> Any:
    """AddClientIDToOpenIDConnectProvider."""
    provider = _provider(ctx)
    client = ctx.params.str("ClientID", required=True)
    if client not in provider.client_ids:
        if len(provider.client_ids) >= MAX_CLIENT_IDS:
            raise IdentityError("LimitExceeded", "Cannot exceed quota for ClientIdsPerOpenId"
                                f"ConnectProvider: {MAX_CLIENT_IDS}", 409)
        provider.client_ids.append(client)
        _save(ctx, provider)


def remove_client_id(ctx: Context) -> Any:
    """RemoveClientIDFromOpenIDConnectProvider."""
    provider = _provider(ctx)
    client = ctx.params.str("ClientID", required=True)
    if client in provider.client_ids:
        provider.client_ids.remove(client)
        _save(ctx, provider)


def update_thumbprints(ctx: Context) -> Any:
    """UpdateOpenIDConnectProviderThumbprint: replace the list."""
    provider = _provider(ctx)
    provider.thumbprints = _thumbprints(ctx.params.strings("ThumbprintList"))
    _save(ctx, provider)


def _arn(ctx: Context) -> list[str]:
    return [ctx.params.str("OpenIDConnectProviderArn") or "*"]


ACTIONS: dict[str, Action] = {
    "CreateOpenIDConnectProvider": action(create_provider, "iam:CreateOpenIDConnectProvider"),
    "GetOpenIDConnectProvider": action(get_provider, "iam:GetOpenIDConnectProvider",
                                       resources=_arn),
    "ListOpenIDConnectProviders": action(list_providers, "iam:ListOpenIDConnectProviders"),
    "DeleteOpenIDConnectProvider": action(delete_provider, "iam:DeleteOpenIDConnectProvider",
                                          resources=_arn),
    "AddClientIDToOpenIDConnectProvider": action(
        add_client_id, "iam:AddClientIDToOpenIDConnectProvider", resources=_arn),
    "RemoveClientIDFromOpenIDConnectProvider": action(
        remove_client_id, "iam:RemoveClientIDFromOpenIDConnectProvider", resources=_arn),
    "UpdateOpenIDConnectProviderThumbprint": action(
        update_thumbprints, "iam:UpdateOpenIDConnectProviderThumbprint", resources=_arn),
}
