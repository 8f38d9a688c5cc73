"""Account password policies (IAM's UpdateAccountPasswordPolicy) and log-in lock-out.

A policy sets the minimum length and the character classes a new password needs, as
IAM's does; an account without one gets IAM's default (8 to 128 characters).  Repeated
failed log-ins lock a user out for a while, by the cloud's clock.
"""

from __future__ import annotations

import string
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from server.auth.identity import IdentityError
from server.auth.login import MAX_PASSWORD, MIN_PASSWORD

if TYPE_CHECKING:
    from server.auth.identity import Identity

#: Failed log-ins in a row that lock a user out, and for how long (seconds).
LOCKOUT_FAILURES, LOCKOUT_SECONDS = 5, 900.0
KIND = "password_policy"


@dataclass
class PasswordPolicy:
    """One account's password policy (IAM's fields)."""

    MinimumPasswordLength: int = MIN_PASSWORD
    RequireSymbols: bool = False
    RequireNumbers: bool = False
    RequireUppercaseCharacters: bool = False
    RequireLowercaseCharacters: bool = False
    AllowUsersToChangePassword: bool = False
    MaxPasswordAge: int = 0
    PasswordReusePrevention: int = 0
    HardExpiry: bool = False

    def problems(self, password: str) -> list[str]:
        """What ``password`` lacks under this policy (empty when it complies)."""
        out = []
        if len(password) < self.MinimumPasswordLength:
            out.append(f"a minimum length of {self.MinimumPasswordLength}")
        if len(password) > MAX_PASSWORD:
            out.append(f"a maximum length of {MAX_PASSWORD}")
        if self.RequireSymbols and not any(c in string.punctuation for c in password):
            out.append("at least one symbol")
        if self.RequireNumbers and not any(c.isdigit() for c in password):
            out.append("at least one number")
        if self.RequireUppercaseCharacters and not any(c.isupper() for c in password):
            out.append("at least one uppercase letter")
        if self.RequireLowercaseCharacters and not any(c.islower() for c in password):
            out.append("at least one lowercase letter")
        return out


def policy_for(identity: Identity, account_id: str | None) -> PasswordPolicy | None:
    """The account's policy, or None when it has none."""
    if account_id is None:
        return None
    for rid, _, doc in identity.store.load(KIND):
        if rid == account_id:
            return PasswordPolicy(**doc)
    return None


def save_policy(identity: Identity, account_id: str, policy: PasswordPolicy | None) -> None:
    """Set (or with None delete) an account's policy."""
    if policy is None:
        identity.store.delete(KIND, account_id)
    else:
        identity.store.put(KIND, account_id, account_id, asdict(policy))


def check_new_password(identity: Identity, account_id: str | None, password: Any) -> None:
    """Refuse a password the account's policy (or IAM's default) does not allow."""
    if not isinstance(password, str):
        raise IdentityError("PasswordPolicyViolation", "A password is required.")
    policy = policy_for(identity, account_id) or PasswordPolicy()
    problems = policy.problems(password)
    if problems:
        raise IdentityError("PasswordPolicyViolation",
                            "Password should have " + ", ".join(problems) + ".")


@dataclass
class Lockout:
    """Failed log-ins per user; a user with too many in a row is locked out for a while."""

    now: Any
    failures: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def locked(self, account_id: str, user: str) -> bool:
        """Whether the user may not log in now."""
        recent = [t for t in self.failures.get((account_id, user), [])
                  if t > self.now() - LOCKOUT_SECONDS]
        return len(recent) >= LOCKOUT_FAILURES

    def failed(self, account_id: str, user: str) -> None:
        """Count one failure."""
        if len(self.failures) > 10000:  # forget stale entries (guessed user names)
            cutoff = self.now() - LOCKOUT_SECONDS
            self.failures = {k: v for k, v in self.failures.items() if v and v[-1] > cutoff}
        times = self.failures.setdefault((account_id, user), [])
        times.append(self.now())
        del times[:-LOCKOUT_FAILURES]

    def succeeded(self, account_id: str, user: str) -> None:
        """A good log-in clears the count."""
        self.failures.pop((account_id, user), None)
