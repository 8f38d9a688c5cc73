"""Account sign-up with administrator approval (Eucalyptus' web sign-up).

An applicant names an account, an e-mail address and a password; the application waits,
its password kept only as a scrypt hash.  The cloud administrator approves it, which
creates the account, its ``admin`` user with that password as login profile, an access
key and an X.509 signing certificate (whose private key is kept sealed for the user's
credentials archive), or rejects it.  Nothing of the account exists before approval.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from server.auth.certs import generate_certificate
from server.auth.identity import IdentityError
from server.auth.login import LoginProfile, hash_password
from server.auth.secrets import SEALED_FIELDS

if TYPE_CHECKING:
    from server.auth.identity import Identity

#: Signing certificates' private keys, kept for the credentials archive, are secrets.
SEALED_FIELDS.setdefault("signup", ("cert_key",))

_ACCOUNT = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
STATUSES = ("pending", "approved", "rejected")


@dataclass
class Signup:
    """One application for an account."""

    signup_id: str
    account_name: str
    email: str
    password_hash: str
    status: str
    created: float
    decided: float = 0.0
    account_id: str = ""
    #: The signing certificate's private key (PEM, sealed at rest) once approved.
    cert_key: str = ""
    cert_id: str = ""


class Signups:
    """Every application, pending and decided."""

    KIND = "signup"

    def __init__(self, identity: Identity):
        self.identity = identity
        self.by_id: dict[str, Signup] = {}
        for _, _, doc in identity.store.load(self.KIND):
            signup = Signup(**doc)
            self.by_id[signup.signup_id] = signup

    def _save(self, signup: Signup) -> None:
        self.identity.store.put(self.KIND, signup.signup_id, signup.account_id or "",
                                asdict(signup))

    def apply(self, account_name: str, email: str, password: str) -> Signup:
        """A new pending application (the password checked against the default policy)."""
        from server.console.passwords import check_new_password

        account_name = account_name.strip().lower()
        email = email.strip()
        if not _ACCOUNT.match(account_name):
            raise IdentityError("ValidationError", "Account names are 1 to 63 lowercase "
                                "letters, digits and hyphens, starting with a letter or digit.")
        if not _EMAIL.match(email):
            raise IdentityError("ValidationError", "Please give a valid e-mail address.")
        if account_name in self.identity.account_by_name or any(
                s.account_name == account_name and s.status == "pending"
                for s in self.by_id.values()):
            raise IdentityError("EntityAlreadyExists",
                                f"The account name {account_name} is already taken.", 409)
        check_new_password(self.identity, None, password)
        signup = Signup("su-" + secrets.token_hex(8), account_name, email,
                        hash_password(password), "pending", self.identity.now())
        self.by_id[signup.signup_id] = signup
        self._save(signup)
        return signup

    def get(self, signup_id: str) -> Signup:
        """An application by ID."""
        signup = self.by_id.get(signup_id)
        if signup is None:
            raise IdentityError("NoSuchEntity", f"Sign-up {signup_id} does not exist", 404)
        return signup

    def list(self, status: str | None = None) -> list[Signup]:
        """Applications, oldest first (only those of one status when given)."""
        return sorted((s for s in self.by_id.values() if status in (None, s.status)),
                      key=lambda s: (s.created, s.signup_id))

    def _pending(self, signup_id: str) -> Signup:
        signup = self.get(signup_id)
        if signup.status != "pending":
            raise IdentityError("InvalidState", f"Sign-up {signup_id} is already "
                                f"{signup.status}", 409)
        return signup

    def approve(self, signup_id: str) -> Signup:
        """Create the account, its admin with the applicant's password, an access key and a
        signing certificate."""
        signup = self._pending(signup_id)
        identity = self.identity
        account = identity.create_account(signup.account_name)
        profile = LoginProfile(account.id, "admin", signup.password_hash, identity.now())
        identity.logins.profiles[(account.id, "admin")] = profile
        identity.logins._save(profile)
        identity.create_access_key(account.id, "admin")
        body, key = generate_certificate(f"{signup.account_name}-admin")
        cert = identity.certs.upload_signing(account.id, "admin", body)
        signup.status, signup.decided, signup.account_id = "approved", identity.now(), account.id
        signup.cert_key, signup.cert_id = key, cert.cert_id
        self._save(signup)
        return signup

    def reject(self, signup_id: str) -> Signup:
        """Refuse an application; its password hash is forgotten."""
        signup = self._pending(signup_id)
        signup.status, signup.decided, signup.password_hash = "rejected", self.identity.now(), ""
        self._save(signup)
        return signup

    def certificate_key(self, account_id: str, cert_id: str) -> str | None:
        """The private key of a certificate made at approval (for the credentials archive)."""
        for signup in self.by_id.values():
            if signup.account_id == account_id and signup.cert_id == cert_id:
                return signup.cert_key or None
        return None
