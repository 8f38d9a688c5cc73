"""Where a principal's policies come from: one place for every kind of policy.

:func:`policies_for` gathers what the engine (:mod:`server.auth.policy`) evaluates for a
caller: the user's inline policies, the inline policies of its groups, the account's
(Eucalyptus) account policies, and, through :func:`attached_policies`, the managed,
role and session policies that IAM roles and STS add.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from server.auth.identity import ADMIN_ACCOUNT, Principal
from server.auth.policy import PolicyGroup, PolicySet, group

if TYPE_CHECKING:
    from server.auth.identity import Identity
    from server.db.store import Store

#: Users who act for their whole account, with no policy (Eucalyptus' account admin).
ACCOUNT_PRINCIPALS = frozenset({"admin", "root", ""})


def is_account_admin(principal: Principal) -> bool:
    """The account's ``admin`` user or its root: everything in its own account."""
    return not principal.anonymous and principal.user_name in ACCOUNT_PRINCIPALS and \
        not _role_session(principal)


def is_cloud_admin(principal: Principal) -> bool:
    """The ``eucalyptus`` account's admin (or root): every power, in every account."""
    return is_account_admin(principal) and principal.account_name == ADMIN_ACCOUNT


def _role_session(principal: Principal) -> bool:
    return bool(getattr(principal, "role_name", "") or getattr(principal, "session_name", "")
                or getattr(principal, "federated_name", ""))


def principal_ids(principal: Principal) -> frozenset[str]:
    """The strings a Principal element may use to name this caller."""
    try:
        return _principal_ids(principal)
    except TypeError:  # a principal with unhashable details: not cached
        return _principal_ids.__wrapped__(principal)


@lru_cache(maxsize=1024)
def _principal_ids(principal: Principal) -> frozenset[str]:
    if principal.anonymous:
        return frozenset()
    acct = principal.account_id
    ids = {acct, f"arn:aws:iam::{acct}:root", principal.arn()}
    extra = getattr(principal, "principal_arns", None)
    if callable(extra):
        ids.update(extra())
    return frozenset(ids)


@dataclass
class AttachedPolicies:
    """Policies beyond inline ones: managed policies (of the user and its groups), a
    permissions boundary, and the role and session policies of an assumed role."""

    #: Managed policies attached to the user itself, or the role's (inline and managed).
    identity: tuple[str, ...] = ()
    #: Managed policies attached to the user's groups (their quotas are ignored).
    groups: tuple[str, ...] = ()
    #: The permissions boundary's document (None: no boundary).
    boundary: str | None = None
    #: Session policies of an assumed role or federation token (None: no session).
    session: tuple[str, ...] | None = None


def attached_policies(identity: Identity, principal: Principal) -> AttachedPolicies:
    """Managed/role/session policies of a principal: the one place they are added.

    The identity store answers through an optional ``attached_policies(principal)``
    method returning :class:`AttachedPolicies` (or a mapping with the same fields);
    without it a principal has inline policies only.
    """
    provider = getattr(identity, "attached_policies", None)
    if provider is None:
        return AttachedPolicies()
    found = provider(principal)
    if isinstance(found, AttachedPolicies):
        return found
    if isinstance(found, dict):
        return AttachedPolicies(**found)
    return AttachedPolicies()


def inline_policies(identity: Identity, principal: Principal) -> list[str]:
    """The user's inline policies and its groups' (group quotas are ignored later)."""
    user = identity.users.get((principal.account_id, principal.user_name))
    if user is None:
        return []
    texts = list(user.policies.values())
    for name in user.groups:
        grp = identity.groups.get((principal.account_id, name))
        texts.extend(getattr(grp, "policies", {}).values())
    return texts


#: The last PolicySet built per principal, with the documents it was built from.
_SETS: dict[Principal, tuple[tuple[Any, ...], PolicySet]] = {}


def policies_for(identity: Identity, principal: Principal) -> PolicySet:
    """Everything the engine needs about the caller's own policies.

    The documents are gathered on every call (a policy change shows at once); the
    compiled set is reused while they are the same ones.
    """
    account_texts = account_policies(identity).documents(principal.account_id)
    if principal.anonymous:
        return PolicySet(account_id="")
    admin = is_account_admin(principal)
    extra = attached_policies(identity, principal) if not admin else AttachedPolicies()
    texts = () if admin else tuple(inline_policies(identity, principal)) + \
        tuple(extra.identity) + tuple(extra.groups)
    key = (account_texts, texts, extra.boundary, extra.session)
    try:
        cached = _SETS.get(principal)
    except TypeError:  # a principal with unhashable details: not cached
        cached = None
    if cached is not None and cached[0] == key:
        return cached[1]
    account = group(account_texts) if account_texts else None
    if admin:
        found = PolicySet(implicit=True, account=account, account_id=principal.account_id)
    else:
        found = PolicySet(
            identity=group(texts), account=account, account_id=principal.account_id,
            boundary=group((extra.boundary,)) if extra.boundary else None,
            session=group(tuple(extra.session)) if extra.session is not None else None)
    try:
        if len(_SETS) > 4096:
            _SETS.clear()
        _SETS[principal] = (key, found)
    except TypeError:
        pass
    return found


def user_quota_group(identity: Identity, principal: Principal) -> PolicyGroup | None:
    """The user's own Limit statements (inline and attached, not its groups')."""
    if principal.anonymous or is_account_admin(principal):
        return None
    user = identity.users.get((principal.account_id, principal.user_name))
    texts = tuple(user.policies.values()) if user is not None else ()
    texts += tuple(attached_policies(identity, principal).identity)
    return group(texts)


# -- account policies (Eucalyptus) ---------------------------------------------------------
@dataclass
class AccountPolicy:
    """One policy attached to an account as a whole (quotas and account-wide denies)."""

    account_id: str
    name: str
    document: str


class AccountPolicies:
    """The store of account policies, keyed by account and policy name."""

    KIND = "account_policy"

    def __init__(self, store: Store):
        self.store = store
        self.by_account: dict[str, dict[str, str]] = {}
        self._documents: dict[str, tuple[str, ...]] = {}
        for _, _, doc in store.load(self.KIND):
            rec = AccountPolicy(**doc)
            self.by_account.setdefault(rec.account_id, {})[rec.name] = rec.document

    def put(self, account_id: str, name: str, document: str) -> None:
        """Add or replace one account policy."""
        self.by_account.setdefault(account_id, {})[name] = document
        self._documents.pop(account_id, None)
        self.store.put(self.KIND, f"{account_id}:{name}", account_id,
                       asdict(AccountPolicy(account_id, name, document)))

    def get(self, account_id: str, name: str) -> str | None:
        """One document (None when the account has no policy of that name)."""
        return self.by_account.get(account_id, {}).get(name)

    def names(self, account_id: str) -> list[str]:
        """Policy names of an account, sorted."""
        return sorted(self.by_account.get(account_id, {}))

    def delete(self, account_id: str, name: str) -> None:
        """Remove one account policy."""
        self.by_account.get(account_id, {}).pop(name, None)
        self._documents.pop(account_id, None)
        self.store.delete(self.KIND, f"{account_id}:{name}")

    def drop_account(self, account_id: str) -> None:
        """Forget every policy of a deleted account."""
        for name in self.names(account_id):
            self.delete(account_id, name)

    def documents(self, account_id: str) -> tuple[str, ...]:
        """Every document of an account (in name order)."""
        found = self._documents.get(account_id)
        if found is None:
            mine = self.by_account.get(account_id, {})
            found = tuple(mine[n] for n in sorted(mine))
            self._documents[account_id] = found
        return found


def account_policies(identity: Identity) -> AccountPolicies:
    """The identity store's account policies (created on first use)."""
    found: AccountPolicies | None = getattr(identity, "account_policy_store", None)
    if found is None:
        found = AccountPolicies(identity.store)
        identity.account_policy_store = found  # type: ignore[attr-defined]
    return found


def account_policy_group(identity: Identity, account_id: str) -> PolicyGroup | None:
    """The account's policies as one group (None when it has none)."""
    texts = account_policies(identity).documents(account_id)
    return group(texts) if texts else None

