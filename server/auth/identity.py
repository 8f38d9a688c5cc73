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
from server.util import check_json_depth

ADMIN_ACCOUNT = "eucalyptus"
ACCESS_KEYS_LIMIT = 2
_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
_PATH = re.compile(r"^(/|/[\x21-\x7e]{1,510}/)$")
#: IAM's quota on the total size of one user's inline policies (non-whitespace characters).
USER_POLICY_SIZE = 2048
GROUP_POLICY_SIZE = 5120
ROLE_POLICY_SIZE = 10240
GROUPS_PER_USER = 10


@dataclass
class Account:
    """An account: the unit of ownership and isolation."""

    id: str
    name: str
    created: float
    system: bool = False
    #: The IAM account alias (CreateAccountAlias); the name stands in while there is none.
    alias: str = ""


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
    #: ARNs of the managed policies attached to the user (AttachUserPolicy).
    managed: list[str] = field(default_factory=list)
    #: ARN of the managed policy that bounds the user's permissions, or "".
    boundary: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    #: Eucalyptus user information (UpdateUserInfo: email, telephone...).
    info: dict[str, str] = field(default_factory=dict)

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
    #: Inline policies: name -> JSON document (PutGroupPolicy).
    policies: dict[str, str] = field(default_factory=dict)
    #: ARNs of the managed policies attached to the group.
    managed: list[str] = field(default_factory=list)

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
    #: For an assumed-role session: the role's name and the session's name (the
    #: principal then has no user_name).
    role_name: str = ""
    session_name: str = ""
    #: The session token ID for temporary credentials (AssumeRole, GetSessionToken,
    #: GetFederationToken).
    session_id: str = ""
    #: For a GetFederationToken session: the federated user's name (user_name is then the
    #: IAM user whose permissions, narrowed by the session policies, it has).
    federated_name: str = ""

    @property
    def is_cloud_admin(self) -> bool:
        """True for the ``eucalyptus`` account's admin (and root): other users of that
        account are cloud administrators only for what their policies grant."""
        return self.account_name == ADMIN_ACCOUNT and not self.anonymous and \
            self.user_name in ("admin", "root", "") and not self.role_name and \
            not self.federated_name

    @property
    def is_role_session(self) -> bool:
        """True when acting as an assumed role."""
        return bool(self.role_name)

    def arn(self) -> str:
        """The caller's ARN (``assumed-role/ROLE/SESSION`` for a role session)."""
        if self.role_name:
            return (f"arn:aws:sts::{self.account_id}:assumed-role/{self.role_name}/"
                    f"{self.session_name}")
        if self.federated_name:
            return f"arn:aws:sts::{self.account_id}:federated-user/{self.federated_name}"
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
            # Users saved before MFA devices were checked listed unverifiable serials
            # here; assignments now live with the devices (server.auth.mfa).
            doc.pop("mfa", None)
            user = User(**doc)
            self.users[(user.account_id, user.name)] = user
        for _, _, doc in store.load("group"):
            group = Group(**doc)
            self.groups[(group.account_id, group.name)] = group
        for _, _, doc in store.load("access_key"):
            key = AccessKey(**doc)
            self.keys[key.key_id] = key
        #: Bumped whenever a policy that applies to someone changes (policy caches key on it).
        self.generation = 0
        from server.auth.certs import Certificates
        from server.auth.login import LoginProfiles
        from server.auth.managed import ManagedPolicies
        from server.auth.mfa import MFADevices
        from server.auth.oidc import Providers
        from server.auth.roles import Roles
        from server.auth.sts import Sessions

        self.managed = ManagedPolicies(self)
        self.roles = Roles(self)
        self.sessions = Sessions(self)
        self.certs = Certificates(self)
        self.logins = LoginProfiles(self)
        self.oidc = Providers(self)
        self.mfa = MFADevices(self)

    def changed(self) -> None:
        """Note that some policy, attachment or membership changed."""
        self.generation += 1

    # -- persistence helpers -----------------------------------------------------------
    def _index_account(self, account: Account) -> None:
        self.accounts[account.id] = account
        self.account_by_name[account.name] = account

    def save_user(self, user: User) -> None:
        """Write a user through (and invalidate policy caches)."""
        self.store.put("user", f"{user.account_id}:{user.name}", user.account_id, asdict(user))
        self.changed()

    def save_group(self, group: Group) -> None:
        """Write a group through (and invalidate policy caches)."""
        self.store.put("group", f"{group.account_id}:{group.name}", group.account_id,
                       asdict(group))
        self.changed()

    def save_account(self, account: Account) -> None:
        """Write an account record through."""
        self.store.put("account", account.id, account.id, asdict(account))

    # -- lookups -------------------------------------------------------------------------
    def secret_for(self, key_id: str) -> str | None:
        """The secret of an active access key or STS session (for signature verification)."""
        key = self.keys.get(key_id)
        if key is None:
            session = self.sessions.by_key.get(key_id)
            return session.secret if session is not None else None
        if key.status != "Active":
            return None
        return key.secret

    def principal_for(self, key_id: str, token: str | None = None) -> Principal:
        """The principal an access key (or temporary key plus its session token) acts as.

        Temporary keys (``ASIA...``) need their session token: none or a wrong one is
        ``InvalidClientTokenId``, an expired session ``ExpiredToken`` (services map these
        to their own codes).  A token sent with a long-term key is refused too.
        """
        key = self.keys.get(key_id)
        if key is None:
            return self.sessions.principal(key_id, token)
        if token:
            raise IdentityError("InvalidClientTokenId",
                                "The security token included in the request is invalid.", 403)
        account = self.accounts[key.account_id]
        return Principal(account.id, account.name, key.user_name, key_id)

    def account(self, ref: str) -> Account:
        """An account by ID, name or alias."""
        account = self.accounts.get(ref) or self.account_by_name.get(ref)
        if account is None:
            account = next((a for a in self.accounts.values() if a.alias and a.alias == ref),
                           None)
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
        self.roles.purge_account(account.id)
        self.certs.purge_account(account.id)
        self.mfa.purge_account(account.id)
        for provider in [p for p in self.oidc.providers.values() if p.account_id == account.id]:
            self.oidc.delete(provider)
        for arn in [a for a, p in self.managed.by_arn.items() if p.account_id == account.id]:
            policy = self.managed.by_arn.pop(arn)
            self.store.delete(self.managed.KIND, f"{policy.account_id}:{policy.name}")
        self.changed()
        del self.accounts[account.id]
        del self.account_by_name[account.name]
        self.store.delete("account", account.id)

    def visible_accounts(self) -> list[Account]:
        """Accounts that ListAccounts shows (not system accounts)."""
        return sorted((a for a in self.accounts.values() if not a.system), key=lambda a: a.name)

    # -- users ---------------------------------------------------------------------------
    def create_user(self, account_id: str, name: str, path: str = "/") -> User:
        """Create a user."""
        check_name(name, "userName")
        check_path(path)
        if (account_id, name) in self.users:
            raise IdentityError("EntityAlreadyExists", f"User with name {name} already exists.", 409)
        user = User(account_id, name, ids.principal_id("AIDA"), path, self.now())
        self.users[(account_id, name)] = user
        self.save_user(user)
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
        certs = self.certs.signing_for(account_id, name)
        login = self.logins.profiles.get((account_id, name))
        devices = self.mfa.for_user(account_id, name)
        if (keys or user.groups or user.policies or user.managed or certs or login or devices) \
                and not force:
            raise IdentityError("DeleteConflict",
                                "Cannot delete entity, must delete access keys, signing "
                                "certificates, login profile, MFA devices, policies and remove "
                                "from groups first.", 409)
        self.mfa.release_user(account_id, name)
        for key in keys:
            del self.keys[key.key_id]
            self.store.delete("access_key", key.key_id)
        for cert in certs:
            self.certs.delete_signing(account_id, name, cert.cert_id)
        if login is not None:
            self.logins.delete(account_id, name)
        self.changed()
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
        put_inline(user.policies, policy_name, document, USER_POLICY_SIZE, f"user {user_name}")
        self.save_user(user)

    def user_policy(self, account_id: str, user_name: str, policy_name: str) -> str:
        """One inline policy document of a user."""
        user = self.user(account_id, user_name)
        check_policy_name(policy_name)
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
        self.save_user(user)

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
        check_name(name, "groupName")
        check_path(path)
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
        group = self.group(account_id, name)
        if self.group_members(account_id, name):
            raise IdentityError("DeleteConflict", "Cannot delete entity, must remove users from "
                                "group first.", 409)
        if group.policies or group.managed:
            raise IdentityError("DeleteConflict", "Cannot delete entity, must delete policies "
                                "first.", 409)
        del self.groups[(account_id, name)]
        self.store.delete("group", f"{account_id}:{name}")

    def add_user_to_group(self, account_id: str, group: str, user_name: str) -> None:
        """Add a user to a group."""
        self.group(account_id, group)
        user = self.user(account_id, user_name)
        if group not in user.groups:
            if len(user.groups) >= GROUPS_PER_USER:
                raise IdentityError("LimitExceeded", "Cannot exceed quota for GroupsPerUser: "
                                    f"{GROUPS_PER_USER}", 409)
            user.groups.append(group)
            self.save_user(user)

    def remove_user_from_group(self, account_id: str, group: str, user_name: str) -> None:
        """Remove a user from a group."""
        self.group(account_id, group)
        user = self.user(account_id, user_name)
        if group in user.groups:
            user.groups.remove(group)
            self.save_user(user)

    def group_members(self, account_id: str, group: str) -> list[User]:
        """Users in a group."""
        return [u for (a, _), u in sorted(self.users.items())
                if a == account_id and group in u.groups]

    def list_groups(self, account_id: str, prefix: str = "/") -> list[Group]:
        """Groups of an account under a path prefix."""
        return sorted((g for (a, _), g in self.groups.items()
                       if a == account_id and g.path.startswith(prefix)), key=lambda g: g.name)


    # -- renames (UpdateUser, UpdateGroup) ----------------------------------------------
    def update_user(self, account_id: str, name: str, new_name: str | None = None,
                    new_path: str | None = None) -> User:
        """Rename a user and/or change its path; keys, certificates, logins and MFA devices
        follow."""
        user = self.user(account_id, name)
        if new_path is not None:
            check_path(new_path)
            user.path = new_path
        if new_name and new_name != name:
            check_name(new_name, "newUserName")
            if (account_id, new_name) in self.users:
                raise IdentityError("EntityAlreadyExists",
                                    f"User with name {new_name} already exists.", 409)
            del self.users[(account_id, name)]
            self.store.delete("user", f"{account_id}:{name}")
            user.name = new_name
            self.users[(account_id, new_name)] = user
            for key in self.keys.values():
                if key.account_id == account_id and key.user_name == name:
                    key.user_name = new_name
                    self.store.put("access_key", key.key_id, account_id, asdict(key))
            self.certs.rename_user(account_id, name, new_name)
            self.logins.rename_user(account_id, name, new_name)
            self.mfa.rename_user(account_id, name, new_name)
        self.save_user(user)
        return user

    def update_group(self, account_id: str, name: str, new_name: str | None = None,
                     new_path: str | None = None) -> Group:
        """Rename a group and/or change its path; memberships follow."""
        group = self.group(account_id, name)
        if new_path is not None:
            check_path(new_path)
            group.path = new_path
        if new_name and new_name != name:
            check_name(new_name, "newGroupName")
            if (account_id, new_name) in self.groups:
                raise IdentityError("EntityAlreadyExists",
                                    f"Group with name {new_name} already exists.", 409)
            del self.groups[(account_id, name)]
            self.store.delete("group", f"{account_id}:{name}")
            group.name = new_name
            self.groups[(account_id, new_name)] = group
            for user in self.group_members(account_id, name):
                user.groups = [new_name if g == name else g for g in user.groups]
                self.save_user(user)
        self.save_group(group)
        return group

    # -- inline group policies -----------------------------------------------------------
    def put_group_policy(self, account_id: str, group_name: str, policy_name: str,
                         document: str) -> None:
        """Add or replace a group's inline policy."""
        group = self.group(account_id, group_name)
        put_inline(group.policies, policy_name, document, GROUP_POLICY_SIZE,
                   f"group {group_name}")
        self.save_group(group)

    def group_policy(self, account_id: str, group_name: str, policy_name: str) -> str:
        """One inline policy document of a group."""
        group = self.group(account_id, group_name)
        return get_inline(group.policies, policy_name, "group")

    def delete_group_policy(self, account_id: str, group_name: str, policy_name: str) -> None:
        """Remove one inline policy of a group."""
        group = self.group(account_id, group_name)
        get_inline(group.policies, policy_name, "group")
        del group.policies[policy_name]
        self.save_group(group)

    # -- managed policy attachments ------------------------------------------------------
    def attach_user_policy(self, account_id: str, user_name: str, arn: str) -> None:
        """AttachUserPolicy."""
        user = self.user(account_id, user_name)
        self.managed.attach(account_id, user, arn)
        self.save_user(user)

    def detach_user_policy(self, account_id: str, user_name: str, arn: str) -> None:
        """DetachUserPolicy."""
        user = self.user(account_id, user_name)
        self.managed.detach(account_id, user, arn)
        self.save_user(user)

    def attach_group_policy(self, account_id: str, group_name: str, arn: str) -> None:
        """AttachGroupPolicy."""
        group = self.group(account_id, group_name)
        self.managed.attach(account_id, group, arn)
        self.save_group(group)

    def detach_group_policy(self, account_id: str, group_name: str, arn: str) -> None:
        """DetachGroupPolicy."""
        group = self.group(account_id, group_name)
        self.managed.detach(account_id, group, arn)
        self.save_group(group)

    def set_user_boundary(self, account_id: str, user_name: str, arn: str) -> None:
        """PutUserPermissionsBoundary ("" deletes it)."""
        user = self.user(account_id, user_name)
        if arn:
            self.managed.get(account_id, arn)
        elif not user.boundary:
            raise IdentityError("NoSuchEntity", f"The user {user_name} has no permissions "
                                "boundary.", 404)
        user.boundary = arn
        self.save_user(user)

    # -- what applies to a principal ------------------------------------------------------
    def policies_for(self, principal: Principal) -> dict[str, Any]:
        """The policy documents that apply to a principal, for the policy engine.

        ``identity``: user inline + its groups' inline + managed policies attached to the
        user and its groups (for a role session: the role's inline and managed ones);
        ``boundary``: the permissions boundary's document or None; ``session``: the session
        policies of an AssumeRole session (inline ``Policy`` and ``PolicyArns``).
        """
        out: dict[str, Any] = {"identity": [], "boundary": None, "session": []}
        if principal.anonymous:
            return out
        docs: list[str] = out["identity"]
        managed: list[str] = []
        boundary = ""
        if principal.role_name:
            role = self.roles.roles.get((principal.account_id, principal.role_name))
            if role is not None:
                docs.extend(role.policies.values())
                managed.extend(role.managed)
                boundary = role.boundary
            session = self.sessions.by_key.get(principal.access_key)
            if session is not None:
                out["session"] = self.sessions.session_documents(session)
        else:
            if principal.federated_name:
                session = self.sessions.by_key.get(principal.access_key)
                if session is not None:
                    out["session"] = self.sessions.session_documents(session)
            user = self.users.get((principal.account_id, principal.user_name))
            if user is not None:
                docs.extend(user.policies.values())
                managed.extend(user.managed)
                boundary = user.boundary
                for name in user.groups:
                    group = self.groups.get((principal.account_id, name))
                    if group is not None:
                        docs.extend(group.policies.values())
                        managed.extend(a for a in group.managed if a not in managed)
        for arn in dict.fromkeys(managed):
            document = self.managed.document(arn)
            if document is not None:
                docs.append(document)
        if boundary:
            out["boundary"] = self.managed.document(boundary)
        return out


    def attached_policies(self, principal: Principal) -> dict[str, Any]:
        """What the policy engine adds to a caller's inline policies
        (:func:`server.auth.policies_source.attached_policies`): managed policies of the
        user (``identity``) and of its groups (``groups``), or a role's inline and managed
        policies; the permissions boundary; and a session's policies (``session``: None
        when the caller has no session or an AssumeRole session without session policies,
        which then keeps the role's permissions whole)."""
        out: dict[str, Any] = {"identity": (), "groups": (), "boundary": None, "session": None}
        if principal.anonymous:
            return out
        boundary = ""
        if principal.role_name:
            role = self.roles.roles.get((principal.account_id, principal.role_name))
            if role is not None:
                docs = list(role.policies.values()) + self._managed_documents(role.managed)
                out["identity"] = tuple(docs)
                boundary = role.boundary
        else:
            user = self.users.get((principal.account_id, principal.user_name))
            if user is not None:
                out["identity"] = tuple(self._managed_documents(user.managed))
                group_arns: list[str] = []
                for name in user.groups:
                    group = self.groups.get((principal.account_id, name))
                    if group is not None:
                        group_arns.extend(a for a in group.managed if a not in group_arns)
                out["groups"] = tuple(self._managed_documents(group_arns))
                boundary = user.boundary
        if boundary:
            out["boundary"] = self.managed.document(boundary)
        if principal.role_name or principal.federated_name:
            session = self.sessions.by_key.get(principal.access_key)
            if session is not None:
                docs = self.sessions.session_documents(session)
                # A federation token without a policy grants nothing; a role session
                # without one keeps the role's permissions.
                if docs or principal.federated_name:
                    out["session"] = tuple(docs)
        return out

    def _managed_documents(self, arns: list[str]) -> list[str]:
        """The default versions' documents of managed policies, by ARN (missing ones skipped)."""
        docs = []
        for arn in dict.fromkeys(arns):
            document = self.managed.document(arn)
            if document is not None:
                docs.append(document)
        return docs

    def principal_tags(self, principal: Principal) -> dict[str, str]:
        """``aws:PrincipalTag/*``: the user's or role's tags, then the session's tags."""
        tags: dict[str, str] = {}
        if principal.role_name:
            role = self.roles.roles.get((principal.account_id, principal.role_name))
            if role is not None:
                tags.update(role.tags)
            session = self.sessions.by_key.get(principal.access_key)
            if session is not None:
                tags.update(session.tags)
        elif principal.user_name:
            user = self.users.get((principal.account_id, principal.user_name))
            if user is not None:
                tags.update(user.tags)
        return tags


def put_inline(policies: dict[str, str], policy_name: str, document: str, limit: int,
               owner: str) -> None:
    """Validate and store an inline policy, keeping the owner's total size under ``limit``."""
    check_policy_name(policy_name)
    validate_identity_policy(document)
    others = sum(policy_size(d) for n, d in policies.items() if n != policy_name)
    if others + policy_size(document) > limit:
        raise IdentityError("LimitExceeded",
                            f"Maximum policy size of {limit} bytes exceeded for {owner}", 409)
    policies[policy_name] = document


def get_inline(policies: dict[str, str], policy_name: str, kind: str) -> str:
    """One inline policy by name, or NoSuchEntity."""
    check_policy_name(policy_name)
    if policy_name not in policies:
        raise IdentityError("NoSuchEntity", f"The {kind} policy with name {policy_name} "
                            "cannot be found.", 404)
    return policies[policy_name]


def check_policy_name(name: str) -> None:
    """ValidationError unless ``name`` is a valid IAM policy name."""
    if not _POLICY_NAME.match(name):
        raise IdentityError("ValidationError",
                            f"1 validation error detected: Value '{name}' at 'policyName' failed "
                            "to satisfy constraint: Member must satisfy regular expression "
                            "pattern: [\\w+=,.@-]+")


def check_name(name: str, what: str = "name") -> None:
    """ValidationError unless ``name`` is a valid IAM user/group/role/profile name."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise IdentityError("ValidationError",
                            f"1 validation error detected: Value '{name}' at '{what}' failed "
                            "to satisfy constraint: Member must satisfy regular expression "
                            "pattern: [\\w+=,.@-]+ and have length at most 64")


def check_path(path: str) -> None:
    """ValidationError unless ``path`` is ``/`` or ``/a/b/`` (at most 512 characters)."""
    if not _PATH.match(path):
        raise IdentityError("ValidationError",
                            f"1 validation error detected: Value '{path}' at 'path' failed to "
                            "satisfy constraint: Member must satisfy regular expression pattern: "
                            "(\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)")


def policy_size(document: str) -> int:
    """IAM counts a policy's size without whitespace."""
    return sum(1 for ch in document if not ch.isspace())


def _malformed(message: str) -> IdentityError:
    return IdentityError("MalformedPolicyDocument", message)


def policy_statements(document: str) -> tuple[dict[str, Any], list[Any]]:
    """A policy document parsed, with its statements as a list: MalformedPolicyDocument
    for bad or too deeply nested JSON, an unknown Version, or no Statement."""
    try:
        doc = check_json_depth(json.loads(document))
    except (ValueError, RecursionError):
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
    return doc, statements


def validate_identity_policy(document: str) -> dict[str, Any]:
    """Check an identity-based policy document; returns it parsed.

    IAM's rules: JSON object, known Version, a Statement (object or list) whose entries
    each have Effect Allow/Deny, Action or NotAction, Resource or NotResource, and no
    Principal (that belongs in resource policies).
    """
    doc, statements = policy_statements(document)
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
