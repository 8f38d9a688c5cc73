"""Roles (with their trust policies) and instance profiles.

A role is an identity with no keys of its own: principals its trust policy names obtain
temporary credentials for it with ``sts:AssumeRole``; an instance profile carries one role
to instances (the metadata service hands out the role's credentials).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from server import ids
from server.auth.identity import (
    ROLE_POLICY_SIZE,
    IdentityError,
    check_name,
    check_path,
    get_inline,
    policy_size,
    policy_statements,
    put_inline,
)

if TYPE_CHECKING:
    from server.auth.identity import Identity

#: IAM's quotas: trust policy size, roles per instance profile, tags per entity.
TRUST_POLICY_SIZE = 2048
ROLES_PER_PROFILE = 1
MAX_TAGS = 50
#: Where service-linked roles live (AWSServiceRoleFor... of each service).
SERVICE_ROLE_PATH = "/aws-service-role/"
#: MaxSessionDuration bounds (seconds).
MIN_SESSION, MAX_SESSION = 3600, 43200


@dataclass
class Role:
    """An IAM role."""

    account_id: str
    name: str
    role_id: str
    path: str
    created: float
    trust: str
    description: str = ""
    max_session: int = MIN_SESSION
    policies: dict[str, str] = field(default_factory=dict)
    managed: list[str] = field(default_factory=list)
    boundary: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    last_used: float = 0.0

    def arn(self) -> str:
        """``arn:aws:iam::ACCOUNT:role/PATH/NAME``."""
        return f"arn:aws:iam::{self.account_id}:role{self.path}{self.name}"


@dataclass
class InstanceProfile:
    """An instance profile: a container for (at most) one role."""

    account_id: str
    name: str
    profile_id: str
    path: str
    created: float
    roles: list[str] = field(default_factory=list)

    def arn(self) -> str:
        """``arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME``."""
        return f"arn:aws:iam::{self.account_id}:instance-profile{self.path}{self.name}"


def service_linked(role: Role) -> bool:
    """A service-linked role (path ``/aws-service-role/SERVICE/``): the service owns it."""
    return role.path.startswith(SERVICE_ROLE_PATH)


def _malformed(message: str) -> IdentityError:
    return IdentityError("MalformedPolicyDocument", message)


def validate_trust_policy(document: str) -> dict[str, Any]:
    """Check a role trust policy: JSON, statements with Effect, Principal and an sts action."""
    if not isinstance(document, str):
        raise _malformed("Syntax errors in policy.")
    if policy_size(document) > TRUST_POLICY_SIZE:
        raise IdentityError("LimitExceeded", "Cannot exceed quota for "
                            f"ACLSizePerRole: {TRUST_POLICY_SIZE}", 409)
    doc, statements = policy_statements(document)
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            raise _malformed("Syntax errors in policy.")
        if "Resource" in st or "NotResource" in st:
            raise _malformed("Has prohibited field Resource")
        if "Principal" not in st and "NotPrincipal" not in st:
            raise _malformed("AssumeRolepolicy contained an invalid principal element")
        actions = st.get("Action", st.get("NotAction"))
        if actions is None:
            raise _malformed("Policy statement must contain actions.")
        actions = actions if isinstance(actions, list) else [actions]
        if not actions or not all(isinstance(a, str) and (a == "*" or a.lower().startswith(
                "sts:")) for a in actions):
            raise _malformed("AssumeRole policy may only specify STS AssumeRole actions.")
        if "Condition" in st and not isinstance(st["Condition"], dict):
            raise _malformed("Syntax errors in policy.")
    return doc


def check_tags(tags: dict[str, str], existing: dict[str, str]) -> None:
    """Tag keys/values as IAM limits them (128/256 characters, 50 per entity, no ``aws:``)."""
    for key, value in tags.items():
        if not key or len(key) > 128 or len(value) > 256:
            raise IdentityError("ValidationError", f"Invalid tag {key!r}")
        if key.lower().startswith("aws:"):
            raise IdentityError("InvalidInput", "User-defined tag keys can't start with 'aws:'.")
    if len({**existing, **tags}) > MAX_TAGS:
        raise IdentityError("LimitExceeded", f"Cannot exceed quota for TagsPerEntity: "
                            f"{MAX_TAGS}", 409)


class Roles:
    """Every account's roles and instance profiles."""

    ROLE, PROFILE = "role", "instance_profile"

    def __init__(self, identity: Identity):
        self.identity = identity
        self.roles: dict[tuple[str, str], Role] = {}
        #: Service-linked roles' paths -> what names the service's resources of an account
        #: that use the role (a service registers it; DeleteRole is refused while in use).
        self.in_use: dict[str, Callable[[str], list[str]]] = {}
        self.profiles: dict[tuple[str, str], InstanceProfile] = {}
        for _, _, doc in identity.store.load(self.ROLE):
            role = Role(**doc)
            self.roles[(role.account_id, role.name)] = role
        for _, _, doc in identity.store.load(self.PROFILE):
            profile = InstanceProfile(**doc)
            self.profiles[(profile.account_id, profile.name)] = profile

    def save(self, role: Role) -> None:
        """Write a role through (and invalidate policy caches)."""
        self.identity.store.put(self.ROLE, f"{role.account_id}:{role.name}", role.account_id,
                                asdict(role))
        self.identity.changed()

    def _save_profile(self, profile: InstanceProfile) -> None:
        self.identity.store.put(self.PROFILE, f"{profile.account_id}:{profile.name}",
                                profile.account_id, asdict(profile))

    # -- roles -----------------------------------------------------------------------
    def create(self, account_id: str, name: str, trust: str, path: str = "/",
               description: str = "", max_session: int | None = None,
               tags: dict[str, str] | None = None) -> Role:
        """CreateRole."""
        check_name(name, "roleName")
        check_path(path)
        validate_trust_policy(trust)
        if (account_id, name) in self.roles:
            raise IdentityError("EntityAlreadyExists", f"Role with name {name} already exists.",
                                409)
        role = Role(account_id, name, ids.principal_id("AROA"), path, self.identity.now(),
                    trust, description)
        if max_session is not None:
            role.max_session = _max_session(max_session)
        if tags:
            check_tags(tags, {})
            role.tags = dict(tags)
        self.roles[(account_id, name)] = role
        self.save(role)
        return role

    def role(self, account_id: str, name: str) -> Role:
        """A role by name."""
        role = self.roles.get((account_id, name))
        if role is None:
            raise IdentityError("NoSuchEntity", f"The role with name {name} cannot be found.",
                                404)
        return role

    def modifiable(self, account_id: str, name: str) -> Role:
        """A role the account may change: not a service-linked one (UnmodifiableEntity)."""
        role = self.role(account_id, name)
        if service_linked(role):
            raise IdentityError("UnmodifiableEntity", f"Cannot perform the operation on the "
                                f"protected role '{name}' - this role is only modifiable by "
                                "AWS", 400)
        return role

    def by_arn(self, arn: str) -> Role:
        """A role by ARN (``arn:aws:iam::ACCOUNT:role/PATH/NAME``)."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            raise IdentityError("ValidationError", f"{arn} is not a valid role ARN")
        role = self.roles.get((parts[4], parts[5].rsplit("/", 1)[-1]))
        if role is None or role.arn() != arn:
            raise IdentityError("NoSuchEntity", f"Role {arn} cannot be found.", 404)
        return role

    def list_roles(self, account_id: str, prefix: str = "/") -> list[Role]:
        """Roles of an account under a path prefix."""
        return sorted((r for (a, _), r in self.roles.items()
                       if a == account_id and r.path.startswith(prefix)), key=lambda r: r.name)

    def update(self, account_id: str, name: str, description: str | None = None,
               max_session: int | None = None) -> Role:
        """UpdateRole / UpdateRoleDescription."""
        role = self.role(account_id, name)
        if description is not None:
            role.description = description
        if max_session is not None:
            role.max_session = _max_session(max_session)
        self.save(role)
        return role

    def update_trust(self, account_id: str, name: str, trust: str) -> None:
        """UpdateAssumeRolePolicy."""
        role = self.modifiable(account_id, name)
        validate_trust_policy(trust)
        role.trust = trust
        self.save(role)

    def delete(self, account_id: str, name: str) -> None:
        """DeleteRole: refused while it has policies or is in an instance profile; a
        service-linked role goes with its own policy, refused while the service uses it."""
        role = self.role(account_id, name)
        if service_linked(role):
            in_use = self.in_use.get(role.path)
            users = in_use(account_id) if in_use is not None else []
            if users:
                raise IdentityError(
                    "DeleteConflict", f"Cannot delete entity, the service-linked role {name} "
                    f"is in use by {', '.join(sorted(users))}.", 409)
            role.managed.clear()
        if role.policies or role.managed:
            raise IdentityError("DeleteConflict", "Cannot delete entity, must delete policies "
                                "first.", 409)
        if self.profiles_for_role(account_id, name):
            raise IdentityError("DeleteConflict", "Cannot delete entity, must remove roles "
                                "from instance profile first.", 409)
        del self.roles[(account_id, name)]
        self.identity.store.delete(self.ROLE, f"{account_id}:{name}")
        self.identity.changed()

    # -- inline policies ---------------------------------------------------------------
    def put_policy(self, account_id: str, name: str, policy_name: str, document: str) -> None:
        """PutRolePolicy."""
        role = self.modifiable(account_id, name)
        put_inline(role.policies, policy_name, document, ROLE_POLICY_SIZE, f"role {name}")
        self.save(role)

    def policy(self, account_id: str, name: str, policy_name: str) -> str:
        """GetRolePolicy's document."""
        return get_inline(self.role(account_id, name).policies, policy_name, "role")

    def delete_policy(self, account_id: str, name: str, policy_name: str) -> None:
        """DeleteRolePolicy."""
        role = self.role(account_id, name)
        get_inline(role.policies, policy_name, "role")
        del role.policies[policy_name]
        self.save(role)

    # -- instance profiles -------------------------------------------------------------
    def create_profile(self, account_id: str, name: str, path: str = "/") -> InstanceProfile:
        """CreateInstanceProfile."""
        check_name(name, "instanceProfileName")
        check_path(path)
        if (account_id, name) in self.profiles:
            raise IdentityError("EntityAlreadyExists",
                                f"Instance Profile {name} already exists.", 409)
        profile = InstanceProfile(account_id, name, ids.principal_id("AIPA"), path,
                                  self.identity.now())
        self.profiles[(account_id, name)] = profile
        self._save_profile(profile)
        return profile

    def profile(self, account_id: str, name: str) -> InstanceProfile:
        """An instance profile by name."""
        profile = self.profiles.get((account_id, name))
        if profile is None:
            raise IdentityError("NoSuchEntity",
                                f"Instance Profile {name} cannot be found.", 404)
        return profile

    def profile_by_ref(self, account_id: str, name: str = "", arn: str = "") -> InstanceProfile:
        """An instance profile by name or ARN (RunInstances' IamInstanceProfile)."""
        if arn:
            parts = arn.split(":", 5)
            if len(parts) != 6 or not parts[5].startswith("instance-profile/") or \
                    parts[4] != account_id:
                raise IdentityError("InvalidParameterValue",
                                    f"Value ({arn}) for parameter iamInstanceProfile.arn is "
                                    "invalid.")
            name = parts[5].rsplit("/", 1)[-1]
        profile = self.profiles.get((account_id, name))
        if profile is None or (arn and profile.arn() != arn):
            raise IdentityError("InvalidParameterValue",
                                f"Value ({arn or name}) for parameter iamInstanceProfile."
                                f"{'arn' if arn else 'name'} is invalid. Invalid IAM Instance "
                                "Profile name")
        return profile

    def list_profiles(self, account_id: str, prefix: str = "/") -> list[InstanceProfile]:
        """Instance profiles under a path prefix."""
        return sorted((p for (a, _), p in self.profiles.items()
                       if a == account_id and p.path.startswith(prefix)), key=lambda p: p.name)

    def delete_profile(self, account_id: str, name: str) -> None:
        """DeleteInstanceProfile: refused while it holds a role."""
        profile = self.profile(account_id, name)
        if profile.roles:
            raise IdentityError("DeleteConflict", "Cannot delete entity, must remove roles "
                                "from instance profile first.", 409)
        del self.profiles[(account_id, name)]
        self.identity.store.delete(self.PROFILE, f"{account_id}:{name}")

    def add_role(self, account_id: str, name: str, role_name: str) -> None:
        """AddRoleToInstanceProfile (one role per profile)."""
        profile = self.profile(account_id, name)
        self.role(account_id, role_name)
        if role_name in profile.roles:
            raise IdentityError("EntityAlreadyExists",
                                f"Role {role_name} is already in instance profile {name}.", 409)
        if len(profile.roles) >= ROLES_PER_PROFILE:
            raise IdentityError("LimitExceeded", "Cannot exceed quota for "
                                f"InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}", 409)
        profile.roles.append(role_name)
        self._save_profile(profile)

    def remove_role(self, account_id: str, name: str, role_name: str) -> None:
        """RemoveRoleFromInstanceProfile."""
        profile = self.profile(account_id, name)
        if role_name not in profile.roles:
            raise IdentityError("NoSuchEntity", f"Role {role_name} is not in instance profile "
                                f"{name}.", 404)
        profile.roles.remove(role_name)
        self._save_profile(profile)

    def profiles_for_role(self, account_id: str, role_name: str) -> list[InstanceProfile]:
        """Instance profiles that hold a role."""
        return [p for p in self.list_profiles(account_id) if role_name in p.roles]

    def purge_account(self, account_id: str) -> None:
        """Forget an account's roles and profiles (DeleteAccount)."""
        for key in [k for k in self.roles if k[0] == account_id]:
            del self.roles[key]
            self.identity.store.delete(self.ROLE, f"{key[0]}:{key[1]}")
        for key in [k for k in self.profiles if k[0] == account_id]:
            del self.profiles[key]
            self.identity.store.delete(self.PROFILE, f"{key[0]}:{key[1]}")


def _max_session(value: int) -> int:
    if not MIN_SESSION <= value <= MAX_SESSION:
        raise IdentityError("ValidationError",
                            f"1 validation error detected: Value '{value}' at "
                            "'maxSessionDuration' failed to satisfy constraint: Member must "
                            f"have value between {MIN_SESSION} and {MAX_SESSION}")
    return value
