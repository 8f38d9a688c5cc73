"""Accounts, users, groups and access keys (Euare), held in memory and written through.

The ``eucalyptus`` account is the cloud administrator's; system accounts (names
starting with ``(``) own the cloud's own resources and are hidden from listings.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from server import ids
from server.db.store import Store

ADMIN_ACCOUNT = "eucalyptus"
ACCESS_KEYS_LIMIT = 2
_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
#: IAM's quota on the total size of one user's inline policies (non-whitespace characters).
USER_POLICY_SIZE = 2048


@dataclass
class Account:
    """An account: the unit of ownership and isolation."""

    id: str
    name: str
    created: float
    system: bool = False


@dataclass
class User:
    """A user inside an account."""

    account_id: str
    name: str
    user_id: str
    path: str
    created: float
    groups: list[str] = field(default_factory=list)
    #: Inline policies: name -> JSON document as given (PutUserPolicy).
    policies: dict[str, str] = field(default_factory=dict)

    def arn(self) -> str:
        """The user's ARN."""
        return f"arn:aws:iam::{self.account_id}:user{self.path}{self.name}"


@dataclass
class Group:
    """An IAM group."""

    account_id: str
    name: str
    group_id: str
    path: str
    created: float

    def arn(self) -> str:
        """The group's ARN."""
        return f"arn:aws:iam::{self.account_id}:group{self.path}{self.name}"


@dataclass
class AccessKey:
    """An access key pair of a user."""

    key_id: str
    secret: str
    account_id: str
    user_name: str
    status: str
    created: float


@dataclass(frozen=True)
class Principal:
    """Who a verified request acts as."""

    account_id: str
    account_name: str
    user_name: str
    access_key: str = ""
    anonymous: bool = False

    @property
    def is_cloud_admin(self) -> bool:
        """True for the ``eucalyptus`` account's admin (and root): other users of that
        account are cloud administrators only for what their policies grant."""
        return self.account_name == ADMIN_ACCOUNT and not self.anonymous and \
            self.user_name in ("admin", "root", "")

    def arn(self) -> str:
        """The caller's ARN."""
        if self.user_name == "root" or not self.user_name:
            return f"arn:aws:iam::{self.account_id}:root"
        return f"arn:aws:iam::{self.account_id}:user/{self.user_name}"


ANONYMOUS = Principal("", "", "", anonymous=True)


class IdentityError(Exception):
    """An identity operation was refused; ``code`` is the IAM error code."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class Identity:
    """The Euare store: accounts, users, groups, keys."""

    def __init__(self, store: Store, now: Any):
        self.store = store
        self.now = now
        self.accounts: dict[str, Account] = {}
        self.account_by_name: dict[str, Account] = {}
        self.users: dict[tuple[str, str], User] = {}
        self.groups: dict[tuple[str, str], Group] = {}
        self.keys: dict[str, AccessKey] = {}
        for _, _, doc in store.load("account"):
            self._index_account(Account(**doc))
        for _, _, doc in store.load("user"):
            user = User(**doc)
            self.users[(user.account_id, user.name)] = user
        for _, _, doc in store.load("group"):
            group = Group(**doc)
            self.groups[(group.account_id, group.name)] = group
        for _, _, doc in store.load("access_key"):
            key = AccessKey(**doc)
            self.keys[key.key_id] = key

    # -- persistence helpers -----------------------------------------------------------
    def _index_account(self, account: Account) -> None:
        self.accounts[account.id] = account
        self.account_by_name[account.name] = account

    def _save_user(self, user: User) -> None:
        self.store.put("user", f"{user.account_id}:{user.name}", user.account_id, asdict(user))

    # -- lookups -------------------------------------------------------------------------
    def secret_for(self, key_id: str) -> str | None:
        """The secret of an active access key (for signature verification)."""
        key = self.keys.get(key_id)
        if key is None or key.status != "Active":
            return None
        return key.secret

    def principal_for(self, key_id: str) -> Principal:
        """The principal an access key acts as."""
        key = self.keys[key_id]
        account = self.accounts[key.account_id]
        return Principal(account.id, account.name, key.user_name, key_id)

    def account(self, ref: str) -> Account:
        """An account by ID or name."""
        account = self.accounts.get(ref) or self.account_by_name.get(ref)
        if account is None:
            raise IdentityError("NoSuchEntity", f"Account {ref} does not exist", 404)
        return account

    def admin_principal(self, account: Account) -> Principal:
        """The account's ``admin`` user as a principal (delegation)."""
        return Principal(account.id, account.name, "admin")

    # -- accounts ------------------------------------------------------------------------
    def create_account(self, name: str, *, system: bool = False) -> Account:
        """Create an account with its ``admin`` user."""
        if not system and not _ACCOUNT_NAME.match(name):
            raise IdentityError("ValidationError",
                                f"Invalid account name {name!r}: use lowercase letters, digits "
                                "and hyphens (at most 63)")
        if name in self.account_by_name:
            raise IdentityError("EntityAlreadyExists", f"Account {name} already exists", 409)
        account_id = ids.account_id()
        while account_id in self.accounts:
            account_id = ids.account_id()
        account = Account(account_id, name, self.now(), system)
        self._index_account(account)
        self.store.put("account", account.id, account.id, asdict(account))
        self.create_user(account.id, "admin")
        return account

    def delete_account(self, ref: str, *, recursive: bool = False) -> None:
        """Delete an account (refused for ``eucalyptus`` and, unless recursive, if not empty)."""
        account = self.account(ref)
        if account.name == ADMIN_ACCOUNT:
            raise IdentityError("DeleteConflict", "The eucalyptus account cannot be deleted", 409)
        users = [u for (a, _), u in self.users.items() if a == account.id]
        if not recursive and any(u.name != "admin" for u in users):
            raise IdentityError("DeleteConflict",
                                "Cannot delete an account that has users; use --recursive", 409)
        for user in users:
            self.delete_user(account.id, user.name, force=True)
        for key in [k for k in self.groups if k[0] == account.id]:
            del self.groups[key]
            self.store.delete("group", f"{key[0]}:{key[1]}")
        del self.accounts[account.id]
        del self.account_by_name[account.name]
        self.store.delete("account", account.id)

    def visible_accounts(self) -> list[Account]:
        """Accounts that ListAccounts shows (not system accounts)."""
        return sorted((a for a in self.accounts.values() if not a.system), key=lambda a: a.name)

    # -- users ---------------------------------------------------------------------------
    def create_user(self, account_id: str, name: str, path: str = "/") -> User:
        """Create a user."""
        if not _NAME.match(name):
            raise IdentityError("ValidationError", f"Invalid user name {name!r}")
        if not path.startswith("/") or not path.endswith("/"):
            raise IdentityError("ValidationError", "Path must begin and end with /")
        if (account_id, name) in self.users:
            raise IdentityError("EntityAlreadyExists", f"User with name {name} already exists.", 409)
        user = User(account_id, name, ids.principal_id("AIDA"), path, self.now())
        self.users[(account_id, name)] = user
        self._save_user(user)
        return user

    def user(self, account_id: str, name: str) -> User:
        """A user by name."""
        user = self.users.get((account_id, name))
        if user is None:
            raise IdentityError("NoSuchEntity", f"The user with name {name} cannot be found.", 404)
        return user

    def delete_user(self, account_id: str, name: str, *, force: bool = False) -> None:
        """Delete a user (refused while it has keys or groups, unless forced)."""
        user = self.user(account_id, name)
        keys = [k for k in self.keys.values() if k.account_id == account_id and k.user_name == name]
        if name == "admin" and not force:
            raise IdentityError("DeleteConflict", "The account admin cannot be deleted", 409)
        if (keys or user.groups or user.policies) and not force:
            raise IdentityError("DeleteConflict",
                                "Cannot delete entity, must delete access keys, policies and "
                                "remove from groups first.", 409)
        for key in keys:
            del self.keys[key.key_id]
            self.store.delete("access_key", key.key_id)
        del self.users[(account_id, name)]
        self.store.delete("user", f"{account_id}:{name}")

    def list_users(self, account_id: str, prefix: str = "/") -> list[User]:
        """Users of an account whose path starts with ``prefix``."""
        return sorted((u for (a, _), u in self.users.items()
                       if a == account_id and u.path.startswith(prefix)), key=lambda u: u.name)

    # -- inline user policies ------------------------------------------------------------
    def put_user_policy(self, account_id: str, user_name: str, policy_name: str,
                        document: str) -> None:
        """Add or replace a user's inline policy (validated like IAM does)."""
        user = self.user(account_id, user_name)
        _check_policy_name(policy_name)
        validate_identity_policy(document)
        others = sum(_policy_size(d) for n, d in user.policies.items() if n != policy_name)
        if others + _policy_size(document) > USER_POLICY_SIZE:
            raise IdentityError("LimitExceeded",
                                f"Maximum policy size of {USER_POLICY_SIZE} bytes exceeded for "
                                f"user {user_name}", 409)
        user.policies[policy_name] = document
        self._save_user(user)

    def user_policy(self, account_id: str, user_name: str, policy_name: str) -> str:
        """One inline policy document of a user."""
        user = self.user(account_id, user_name)
        _check_policy_name(policy_name)
        if policy_name not in user.policies:
            raise IdentityError("NoSuchEntity", f"The user policy with name {policy_name} "
                                "cannot be found.", 404)
        return user.policies[policy_name]

    def list_user_policies(self, account_id: str, user_name: str) -> list[str]:
        """Names of a user's inline policies, sorted."""
        return sorted(self.user(account_id, user_name).policies)

    def delete_user_policy(self, account_id: str, user_name: str, policy_name: str) -> None:
        """Remove one inline policy of a user."""
        self.user_policy(account_id, user_name, policy_name)
        user = self.user(account_id, user_name)
        del user.policies[policy_name]
        self._save_user(user)

    # -- access keys ---------------------------------------------------------------------
    def create_access_key(self, account_id: str, user_name: str) -> AccessKey:
        """Create an access key (at most two per user)."""
        self.user(account_id, user_name)
        mine = [k for k in self.keys.values()
                if k.account_id == account_id and k.user_name == user_name]
        if len(mine) >= ACCESS_KEYS_LIMIT:
            raise IdentityError("LimitExceeded",
                                f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_LIMIT}",
                                409)
        key = AccessKey(ids.access_key_id(), ids.secret_access_key(), account_id, user_name,
                        "Active", self.now())
        self.keys[key.key_id] = key
        self.store.put("access_key", key.key_id, account_id, asdict(key))
        return key

    def delete_access_key(self, account_id: str, user_name: str, key_id: str) -> None:
        """Delete an access key."""
        key = self.keys.get(key_id)
        if key is None or key.account_id != account_id or key.user_name != user_name:
            raise IdentityError("NoSuchEntity", f"The Access Key with id {key_id} cannot be found",
                                404)
        del self.keys[key_id]
        self.store.delete("access_key", key_id)

    def update_access_key(self, account_id: str, user_name: str, key_id: str, status: str) -> None:
        """Activate or deactivate an access key."""
        key = self.keys.get(key_id)
        if key is None or key.account_id != account_id or key.user_name != user_name:
            raise IdentityError("NoSuchEntity", f"The Access Key with id {key_id} cannot be found",
                                404)
        if status not in ("Active", "Inactive"):
            raise IdentityError("ValidationError", "Status must be Active or Inactive")
        key.status = status
        self.store.put("access_key", key.key_id, account_id, asdict(key))

    def list_access_keys(self, account_id: str, user_name: str) -> list[AccessKey]:
        """A user's access keys."""
        self.user(account_id, user_name)
        return sorted((k for k in self.keys.values()
                       if k.account_id == account_id and k.user_name == user_name),
                      key=lambda k: k.created)

    # -- groups --------------------------------------------------------------------------
    def create_group(self, account_id: str, name: str, path: str = "/") -> Group:
        """Create a group."""
        if not _NAME.match(name):
            raise IdentityError("ValidationError", f"Invalid group name {name!r}")
        if (account_id, name) in self.groups:
            raise IdentityError("EntityAlreadyExists", f"Group with name {name} already exists.",
                                409)
        group = Group(account_id, name, ids.principal_id("AGPA"), path, self.now())
        self.groups[(account_id, name)] = group
        self.store.put("group", f"{account_id}:{name}", account_id, asdict(group))
        return group

    def group(self, account_id: str, name: str) -> Group:
        """A group by name."""
        group = self.groups.get((account_id, name))
        if group is None:
            raise IdentityError("NoSuchEntity", f"The group with name {name} cannot be found.", 404)
        return group

    def delete_group(self, account_id: str, name: str) -> None:
        """Delete a group (refused while it has members)."""
        self.group(account_id, name)
        if self.group_members(account_id, name):
            raise IdentityError("DeleteConflict", "Cannot delete entity, must remove users from "
                                "group first.", 409)
        del self.groups[(account_id, name)]
        self.store.delete("group", f"{account_id}:{name}")

    def add_user_to_group(self, account_id: str, group: str, user_name: str) -> None:
        """Add a user to a group."""
        self.group(account_id, group)
        user = self.user(account_id, user_name)
        if group not in user.groups:
            user.groups.append(group)
            self._save_user(user)

    def remove_user_from_group(self, account_id: str, group: str, user_name: str) -> None:
        """Remove a user from a group."""
        self.group(account_id, group)
        user = self.user(account_id, user_name)
        if group in user.groups:
            user.groups.remove(group)
            self._save_user(user)

    def group_members(self, account_id: str, group: str) -> list[User]:
        """Users in a group."""
        return [u for (a, _), u in sorted(self.users.items())
                if a == account_id and group in u.groups]

    def list_groups(self, account_id: str, prefix: str = "/") -> list[Group]:
        """Groups of an account under a path prefix."""
        return sorted((g for (a, _), g in self.groups.items()
                       if a == account_id and g.path.startswith(prefix)), key=lambda g: g.name)


def _check_policy_name(name: str) -> None:
    if not _POLICY_NAME.match(name):
        raise IdentityError("ValidationError",
                            f"1 validation error detected: Value '{name}' at 'policyName' failed "
                            "to satisfy constraint: Member must satisfy regular expression "
                            "pattern: [\\w+=,.@-]+")


def _policy_size(document: str) -> int:
    """IAM counts a policy's size without whitespace."""
    return sum(1 for ch in document if not ch.isspace())


def _malformed(message: str) -> IdentityError:
    return IdentityError("MalformedPolicyDocument", message)


def validate_identity_policy(document: str) -> dict[str, Any]:
    """Check an identity-based policy document; returns it parsed.

    IAM's rules: JSON object, known Version, a Statement (object or list) whose entries
    each have Effect Allow/Deny, Action or NotAction, Resource or NotResource, and no
    Principal (that belongs in resource policies).
    """
    try:
        doc = json.loads(document)
    except ValueError:
        raise _malformed("Syntax errors in policy.") from None
    if not isinstance(doc, dict):
        raise _malformed("Syntax errors in policy.")
    if "Version" in doc and doc["Version"] not in ("2012-10-17", "2008-10-17"):
        raise _malformed("The policy must contain a valid version string")
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise _malformed("Syntax errors in policy.")
    for st in statements:
        if not isinstance(st, dict):
            raise _malformed("Syntax errors in policy.")
        if "Principal" in st or "NotPrincipal" in st:
            raise _malformed("Policy document should not specify a principal.")
        if st.get("Effect") not in ("Allow", "Deny", "Limit"):  # Limit: quotas
            raise _malformed("Syntax errors in policy.")
        if ("Action" in st) == ("NotAction" in st):
            raise _malformed("Policy statement must contain actions.")
        if ("Resource" in st) == ("NotResource" in st):
            raise _malformed("Policy statement must contain resources.")
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            values = st.get(key, [])
            values = values if isinstance(values, list) else [values]
            if not all(isinstance(v, str) for v in values):
                raise _malformed("Syntax errors in policy.")
            if key.endswith("Action") and not all(v == "*" or ":" in v for v in values):
                raise _malformed("Actions/Conditions must be prefaced by a vendor, e.g., "
                                 "iam, sdb, ec2, etc.")
        if "Condition" in st and not isinstance(st["Condition"], dict):
            raise _malformed("Syntax errors in policy.")
    from server.auth.policy import PolicyError, parse

    try:
        parse(document)  # the engine's own checks: condition operators and values
    except PolicyError as exc:
        raise _malformed(str(exc)) from None
    return doc
