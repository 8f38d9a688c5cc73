"""Login profiles: a user's console password, kept only as a scrypt hash; and the second
factor of a password log-in.

The hash is ``scrypt$N$r$p$salt$hash`` (hex), from :func:`hashlib.scrypt` with a random
16-byte salt; the password itself is never stored or returned.

A user with an assigned MFA device signs in as on AWS's console: the password, then a
code of the device (:func:`verify_sign_in_code`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from server.auth.identity import IdentityError
from server.auth.mfa import check_code, check_serial

if TYPE_CHECKING:
    from server.auth.identity import Identity

#: scrypt cost (n=2**14, r=8, p=1: about 16 MiB and tens of milliseconds per hash).
_N, _R, _P = 2 ** 14, 8, 1
#: IAM's default password policy: 8..128 characters.
MIN_PASSWORD, MAX_PASSWORD = 8, 128


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password`."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        mine = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                              p=int(p), dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(mine.hex(), digest)


@dataclass
class LoginProfile:
    """A user's console password (hashed)."""

    account_id: str
    user_name: str
    password_hash: str
    created: float
    reset_required: bool = False


def _check(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise IdentityError("PasswordPolicyViolation",
                            f"Password should have a minimum length of {MIN_PASSWORD}")


class LoginProfiles:
    """Every user's login profile."""

    KIND = "login_profile"

    def __init__(self, identity: Identity):
        self.identity = identity
        self.profiles: dict[tuple[str, str], LoginProfile] = {}
        for _, _, doc in identity.store.load(self.KIND):
            profile = LoginProfile(**doc)
            self.profiles[(profile.account_id, profile.user_name)] = profile

    def _save(self, profile: LoginProfile) -> None:
        self.identity.store.put(self.KIND, f"{profile.account_id}:{profile.user_name}",
                                profile.account_id, asdict(profile))

    def _check_policy(self, account_id: str, password: str) -> None:
        """The account's password policy, or IAM's default length rule without one."""
        from server.console.passwords import check_new_password, policy_for

        if policy_for(self.identity, account_id) is None:
            _check(password)
        else:
            check_new_password(self.identity, account_id, password)

    def create(self, account_id: str, user_name: str, password: str,
               reset_required: bool = False) -> LoginProfile:
        """CreateLoginProfile."""
        self.identity.user(account_id, user_name)
        if (account_id, user_name) in self.profiles:
            raise IdentityError("EntityAlreadyExists", f"Login Profile for user {user_name} "
                                "already exists.", 409)
        self._check_policy(account_id, password)
        profile = LoginProfile(account_id, user_name, hash_password(password),
                               self.identity.now(), reset_required)
        self.profiles[(account_id, user_name)] = profile
        self._save(profile)
        return profile

    def get(self, account_id: str, user_name: str) -> LoginProfile:
        """GetLoginProfile."""
        self.identity.user(account_id, user_name)
        profile = self.profiles.get((account_id, user_name))
        if profile is None:
            raise IdentityError("NoSuchEntity", f"Login Profile for User {user_name} cannot be "
                                "found.", 404)
        return profile

    def update(self, account_id: str, user_name: str, password: str | None,
               reset_required: bool | None = None) -> None:
        """UpdateLoginProfile: a new password and/or the reset flag."""
        profile = self.get(account_id, user_name)
        if password is not None:
            self._check_policy(account_id, password)
            profile.password_hash = hash_password(password)
        if reset_required is not None:
            profile.reset_required = reset_required
        self._save(profile)

    def delete(self, account_id: str, user_name: str) -> None:
        """DeleteLoginProfile."""
        self.get(account_id, user_name)
        del self.profiles[(account_id, user_name)]
        self.identity.store.delete(self.KIND, f"{account_id}:{user_name}")

    def verify(self, account_id: str, user_name: str, password: str) -> bool:
        """Whether a password is the user's."""
        profile = self.profiles.get((account_id, user_name))
        return profile is not None and check_password(password, profile.password_hash)

    def rename_user(self, account_id: str, old: str, new: str) -> None:
        """Follow a user's rename."""
        profile = self.profiles.pop((account_id, old), None)
        if profile is not None:
            self.identity.store.delete(self.KIND, f"{account_id}:{old}")
            profile.user_name = new
            self.profiles[(account_id, new)] = profile
            self._save(profile)


def mfa_required(identity: Identity, account_id: str, user_name: str) -> bool:
    """Whether a password log-in of the user needs an MFA code (it has a device)."""
    return bool(identity.mfa.for_user(account_id, user_name))


def verify_sign_in_code(identity: Identity, account_id: str, user_name: str, code: str,
                        serial: str | None = None) -> str:
    """Check the MFA code of a password log-in; the serial number of the device it is a
    fresh code of.

    ``serial`` names the device; without it each of the user's devices is tried, as the
    console only asks for the code.  AccessDenied (STS's words) for a wrong or spent code.
    """
    if serial is not None:
        check_serial(serial)
    check_code(code, "tokenCode")
    devices = [d.serial for d in identity.mfa.for_user(account_id, user_name)]
    candidates = [serial] if serial is not None else devices or [""]
    failure: IdentityError | None = None
    for candidate in candidates:
        try:
            identity.mfa.verify(account_id, user_name, candidate, code)
        except IdentityError as exc:
            failure = failure or exc
        else:
            return candidate
    assert failure is not None
    raise failure
