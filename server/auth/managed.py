"""Managed policies: standalone, versioned policy documents attached to users, groups and roles.

A customer-managed policy belongs to an account (``arn:aws:iam::ACCOUNT:policy/PATH/NAME``)
and keeps at most five versions, one of them the default (the one that applies).  The
AWS-managed policies (``arn:aws:iam::aws:policy/...``) are built in, shared by every account
and read-only.  Attachments are recorded on the user, group or role (``managed``: ARNs).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from server import ids
from server.auth.identity import (
    IdentityError,
    check_path,
    check_policy_name,
    policy_size,
    validate_identity_policy,
)

if TYPE_CHECKING:
    from server.auth.identity import Identity

#: IAM's quotas: non-whitespace characters of one managed policy version, versions kept,
#: managed policies attached to one user, group or role.
MANAGED_POLICY_SIZE = 6144
MAX_VERSIONS = 5
MAX_ATTACHED = 10
AWS_ACCOUNT = "aws"
_EPOCH = 1423094400.0  # 2015-02-05, when IAM's managed policies appeared


@dataclass
class ManagedPolicy:
    """A managed policy with its versions (``versions``: VersionId -> document and date)."""

    account_id: str
    name: str
    policy_id: str
    path: str
    created: float
    updated: float
    description: str = ""
    default_version: str = "v1"
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_version: int = 2

    def arn(self) -> str:
        """``arn:aws:iam::ACCOUNT:policy/PATH/NAME`` (ACCOUNT is ``aws`` for AWS's own)."""
        return f"arn:aws:iam::{self.account_id}:policy{self.path}{self.name}"

    @property
    def document(self) -> str:
        """The default version's document (the one that applies)."""
        return str(self.versions[self.default_version]["document"])

    @property
    def aws_managed(self) -> bool:
        """True for the built-in AWS-managed policies."""
        return self.account_id == AWS_ACCOUNT


def _allow(actions: list[str] | str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


#: The AWS-managed policies this cloud provides (name -> (path, description, statements)).
AWS_MANAGED: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    "AdministratorAccess": ("/", "Provides full access to AWS services and resources.",
                            [_allow("*")]),
    "ReadOnlyAccess": ("/", "Provides read-only access to AWS services and resources.",
                       [_allow(["ec2:Describe*", "ec2:Get*", "iam:Get*", "iam:List*",
                                "iam:Generate*", "iam:Simulate*", "s3:Get*", "s3:List*",
                                "s3:Head*", "sts:GetCallerIdentity", "autoscaling:Describe*",
                                "elasticloadbalancing:Describe*", "cloudwatch:Describe*",
                                "cloudwatch:Get*", "cloudwatch:List*",
                                "cloudformation:Describe*", "cloudformation:Get*",
                                "cloudformation:List*"])]),
    "AmazonEC2FullAccess": ("/", "Provides full access to Amazon EC2.",
                            [_allow(["ec2:*", "elasticloadbalancing:*", "cloudwatch:*",
                                     "autoscaling:*"]),
                             _allow("iam:PassRole")]),
    "AmazonEC2ReadOnlyAccess": ("/", "Provides read only access to Amazon EC2.",
                                [_allow(["ec2:Describe*", "elasticloadbalancing:Describe*",
                                         "cloudwatch:ListMetrics",
                                         "cloudwatch:GetMetricStatistics",
                                         "cloudwatch:Describe*", "autoscaling:Describe*"])]),
    "AmazonS3FullAccess": ("/", "Provides full access to all buckets.", [_allow("s3:*")]),
    "AmazonS3ReadOnlyAccess": ("/", "Provides read only access to all buckets.",
                               [_allow(["s3:Get*", "s3:List*", "s3:Head*"])]),
    "IAMFullAccess": ("/", "Provides full access to IAM.", [_allow("iam:*")]),
    # The policy of Auto Scaling's service-linked role (its EC2 part).
    "AutoScalingServiceRolePolicy": (
        "/aws-service-role/", "Enables access to AWS Services and Resources used or managed "
        "by Auto Scaling",
        [_allow(["ec2:RunInstances", "ec2:TerminateInstances", "ec2:CreateTags",
                 "ec2:Describe*"])]),
}


def _builtin() -> dict[str, ManagedPolicy]:
    out = {}
    for name, (path, description, statements) in AWS_MANAGED.items():
        document = json.dumps({"Version": "2012-10-17", "Statement": statements})
        policy = ManagedPolicy(AWS_ACCOUNT, name, "ANPA" + name.upper()[:17].ljust(17, "X"),
                               path, _EPOCH, _EPOCH, description,
                               versions={"v1": {"document": document, "created": _EPOCH}})
        out[policy.arn()] = policy
    return out


def parse_policy_arn(arn: str) -> tuple[str, str]:
    """``(account, name)`` of a policy ARN; ValidationError when it is not one."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "iam"] or \
            not parts[5].startswith("policy/"):
        raise IdentityError("ValidationError", f"ARN {arn} is not valid.")
    return parts[4], parts[5].rsplit("/", 1)[-1]


class ManagedPolicies:
    """The managed policies of every account plus the AWS-managed ones, by ARN."""

    KIND = "managed_policy"

    def __init__(self, identity: Identity):
        self.identity = identity
        self.by_arn: dict[str, ManagedPolicy] = _builtin()
        for _, _, doc in identity.store.load(self.KIND):
            policy = ManagedPolicy(**doc)
            self.by_arn[policy.arn()] = policy

    def _save(self, policy: ManagedPolicy) -> None:
        self.identity.store.put(self.KIND, f"{policy.account_id}:{policy.name}",
                                policy.account_id, asdict(policy))

    # -- lookups ---------------------------------------------------------------------
    def get(self, account_id: str, arn: str) -> ManagedPolicy:
        """A policy the account can see (its own or AWS's); NoSuchEntity otherwise."""
        owner, _ = parse_policy_arn(arn)
        policy = self.by_arn.get(arn)
        if policy is None or owner not in (account_id, AWS_ACCOUNT):
            raise IdentityError("NoSuchEntity", f"Policy {arn} does not exist or is not "
                                "attachable.", 404)
        return policy

    def document(self, arn: str) -> str | None:
        """The default document of a policy by ARN (None if it no longer exists)."""
        policy = self.by_arn.get(arn)
        return policy.document if policy is not None else None

    def attachments(self, account_id: str, arn: str) -> dict[str, list[str]]:
        """Names of the account's users, groups and roles that have the policy attached."""
        ident = self.identity
        return {
            "user": sorted(u.name for (a, _), u in ident.users.items()
                           if a == account_id and arn in u.managed),
            "group": sorted(g.name for (a, _), g in ident.groups.items()
                            if a == account_id and arn in g.managed),
            "role": sorted(r.name for (a, _), r in ident.roles.roles.items()
                           if a == account_id and arn in r.managed),
        }

    def attachment_count(self, account_id: str, arn: str) -> int:
        """How many entities of the account have the policy attached."""
        return sum(len(v) for v in self.attachments(account_id, arn).values())

    def list_policies(self, account_id: str, *, scope: str = "All", only_attached: bool = False,
             prefix: str = "/") -> list[ManagedPolicy]:
        """ListPolicies: ``scope`` All, AWS or Local; sorted by name."""
        if scope not in ("All", "AWS", "Local"):
            raise IdentityError("ValidationError", "Scope must be one of All, AWS, Local")
        owners = {"All": (account_id, AWS_ACCOUNT), "AWS": (AWS_ACCOUNT,),
                  "Local": (account_id,)}[scope]
        out = [p for p in self.by_arn.values()
               if p.account_id in owners and p.path.startswith(prefix)
               and (not only_attached or self.attachment_count(account_id, p.arn()))]
        return sorted(out, key=lambda p: (p.name, p.account_id))

    # -- lifecycle -------------------------------------------------------------------
    def create(self, account_id: str, name: str, document: str, path: str = "/",
               description: str = "") -> ManagedPolicy:
        """CreatePolicy: version v1, the default."""
        check_policy_name(name)
        check_path(path)
        if len(description) > 1000:
            raise IdentityError("ValidationError", "Description must be at most 1000 characters")
        _validate(document)
        arn = f"arn:aws:iam::{account_id}:policy{path}{name}"
        if any(p.account_id == account_id and p.name == name for p in self.by_arn.values()):
            raise IdentityError("EntityAlreadyExists",
                                f"A policy called {name} already exists. Duplicate names are "
                                "not allowed.", 409)
        now = self.identity.now()
        policy = ManagedPolicy(account_id, name, ids.principal_id("ANPA"), path, now, now,
                               description,
                               versions={"v1": {"document": document, "created": now}})
        self.by_arn[arn] = policy
        self._save(policy)
        return policy

    def _own(self, account_id: str, arn: str) -> ManagedPolicy:
        policy = self.get(account_id, arn)
        if policy.aws_managed:
            raise IdentityError("InvalidInput",
                                f"Policy {arn} is an AWS managed policy and cannot be "
                                "modified.")
        return policy

    def delete(self, account_id: str, arn: str) -> None:
        """DeletePolicy: refused while attached or while it has non-default versions."""
        policy = self._own(account_id, arn)
        if self.attachment_count(account_id, arn):
            raise IdentityError("DeleteConflict",
                                "Cannot delete a policy attached to entities.", 409)
        if len(policy.versions) > 1:
            raise IdentityError("DeleteConflict", "This policy has more than one version. "
                                "Before you delete a policy, you must delete the policy's "
                                "versions. The default version is deleted with the policy.",
                                409)
        del self.by_arn[arn]
        self.identity.store.delete(self.KIND, f"{policy.account_id}:{policy.name}")

    def create_version(self, account_id: str, arn: str, document: str,
                       set_default: bool = False) -> str:
        """CreatePolicyVersion: a new version (at most five kept); returns its ID."""
        policy = self._own(account_id, arn)
        _validate(document)
        if len(policy.versions) >= MAX_VERSIONS:
            raise IdentityError("LimitExceeded",
                                f"A managed policy can have up to {MAX_VERSIONS} versions. "
                                "Before you create a new version, you must delete an existing "
                                "version.", 409)
        version = f"v{policy.next_version}"
        policy.next_version += 1
        now = self.identity.now()
        policy.versions[version] = {"document": document, "created": now}
        if set_default:
            policy.default_version = version
        policy.updated = now
        self._save(policy)
        self.identity.changed()
        return version

    def version(self, account_id: str, arn: str, version: str) -> dict[str, Any]:
        """One version: ``{"document", "created"}``."""
        policy = self.get(account_id, arn)
        found = policy.versions.get(version)
        if found is None:
            raise IdentityError("NoSuchEntity", f"Policy {arn} version {version} does not "
                                "exist or is not attachable.", 404)
        return found

    def delete_version(self, account_id: str, arn: str, version: str) -> None:
        """DeletePolicyVersion (never the default one)."""
        policy = self._own(account_id, arn)
        self.version(account_id, arn, version)
        if version == policy.default_version:
            raise IdentityError("DeleteConflict", "Cannot delete the default version of a "
                                "policy.", 409)
        del policy.versions[version]
        self._save(policy)

    def set_default(self, account_id: str, arn: str, version: str) -> None:
        """SetDefaultPolicyVersion."""
        policy = self._own(account_id, arn)
        self.version(account_id, arn, version)
        policy.default_version = version
        policy.updated = self.identity.now()
        self._save(policy)
        self.identity.changed()

    # -- attachments -----------------------------------------------------------------
    def attach(self, account_id: str, entity: Any, arn: str) -> None:
        """Attach a policy to a user, group or role record (caller saves the entity)."""
        self.get(account_id, arn)
        if arn in entity.managed:
            return
        if len(entity.managed) >= MAX_ATTACHED:
            raise IdentityError("LimitExceeded", f"Cannot exceed quota for "
                                f"PoliciesPerEntity: {MAX_ATTACHED}", 409)
        entity.managed.append(arn)

    def detach(self, account_id: str, entity: Any, arn: str) -> None:
        """Detach a policy (NoSuchEntity when it is not attached)."""
        parse_policy_arn(arn)
        if arn not in entity.managed:
            raise IdentityError("NoSuchEntity", f"Policy {arn} was not found.", 404)
        entity.managed.remove(arn)


def _validate(document: str) -> None:
    validate_identity_policy(document)
    if policy_size(document) > MANAGED_POLICY_SIZE:
        raise IdentityError("LimitExceeded", "Cannot exceed quota for PolicySize: "
                            f"{MANAGED_POLICY_SIZE}", 409)
