"""STS sessions: temporary credentials (``ASIA...`` key, secret, session token).

GetSessionToken gives a user a session acting as itself; AssumeRole gives a principal
the trust policy admits a session acting as the role, narrowed by the session policies.
A session is valid until it expires by the cloud's clock; a request with its key must
carry its token.  Only a hash of the token is kept.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
import secrets
import string
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from server.auth.identity import IdentityError, Principal
from server.auth.policy import RequestContext, conditions_hold
from server.auth.policy_conditions import ConditionError, compile_block

if TYPE_CHECKING:
    from server.auth.identity import Identity

#: DurationSeconds bounds: GetSessionToken 900..129600, AssumeRole 900..role's maximum.
MIN_DURATION = 900
SESSION_TOKEN_MAX = 129600
ROLE_SESSION_MAX = 43200
#: Expired sessions are remembered this long (so their callers hear ExpiredToken).
KEEP_EXPIRED = 86400
#: Instance-profile credentials: lifetime, and how long before expiry they are renewed.
INSTANCE_SESSION = 6 * 3600
INSTANCE_RENEW = 15 * 60
#: Total size of session policies (packed) as AWS bounds it.
SESSION_POLICY_SIZE = 2048
_UPPER_ALNUM = string.ascii_uppercase + string.digits
#: A session policy that allows nothing (federated sessions without a policy).
NOTHING = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "NotAction": "*", "Resource": "*"}]})


@dataclass
class Session:
    """One set of temporary credentials."""

    key_id: str
    secret: str
    token_hash: str
    account_id: str
    created: float
    expires: float
    #: GetSessionToken: the user it acts as.  AssumeRole: the role and session names.
    user_name: str = ""
    role_name: str = ""
    session_name: str = ""
    policy: str = ""
    policy_arns: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    #: Who asked for it (ARN), for GetAccessKeyInfo-style audits.
    source_arn: str = ""
    #: GetFederationToken: the federated user's name.
    federated_name: str = ""
    #: The MFA device whose code was checked when the session was issued (or inherited
    #: from the session that asked for it) and when: ``aws:MultiFactorAuthPresent`` and
    #: ``aws:MultiFactorAuthAge``.  0 when no MFA was used.
    mfa_serial: str = ""
    mfa_time: float = 0.0


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """All live STS sessions, by temporary access key ID."""

    KIND = "sts_session"

    def __init__(self, identity: Identity):
        self.identity = identity
        self.by_key: dict[str, Session] = {}
        #: Instance ID -> its current role credentials and token (see for_instance).
        self.instance_sessions: dict[str, tuple[Session, str]] = {}
        for _, _, doc in identity.store.load(self.KIND):
            session = Session(**doc)
            self.by_key[session.key_id] = session

    def issue(self, account_id: str, duration: int, *, user_name: str = "",
              role_name: str = "", session_name: str = "", policy: str = "",
              policy_arns: list[str] | None = None, tags: dict[str, str] | None = None,
              source_arn: str = "", federated_name: str = "", mfa_serial: str = "",
              mfa_time: float = 0.0) -> tuple[Session, str]:
        """A new session; returns it with its token (only the token's hash is kept)."""
        self._purge()
        now = self.identity.now()
        key_id = "ASIA" + "".join(secrets.choice(_UPPER_ALNUM) for _ in range(16))
        secret = base64.b64encode(secrets.token_bytes(30)).decode()
        token = base64.b64encode(b"\x01" + secrets.token_bytes(149)).decode()
        session = Session(key_id, secret, _hash(token), account_id, now, now + duration,
                          user_name, role_name, session_name, policy, list(policy_arns or []),
                          dict(tags or {}), source_arn, federated_name, mfa_serial,
                          mfa_time)
        self.by_key[key_id] = session
        self.identity.store.put(self.KIND, key_id, account_id, asdict(session))
        return session, token

    def _purge(self) -> None:
        cutoff = self.identity.now() - KEEP_EXPIRED
        for key_id in [k for k, s in self.by_key.items() if s.expires < cutoff]:
            del self.by_key[key_id]
            self.identity.store.delete(self.KIND, key_id)
        for instance_id in [i for i, (s, _) in self.instance_sessions.items()
                            if s.key_id not in self.by_key]:
            del self.instance_sessions[instance_id]

    def principal(self, key_id: str, token: str | None) -> Principal:
        """The principal of a temporary key, checking its token and expiry."""
        session = self.by_key.get(key_id)
        if session is None:
            raise IdentityError("InvalidClientTokenId",
                                "The security token included in the request is invalid.", 403)
        if not token or not hmac.compare_digest(_hash(token), session.token_hash):
            raise IdentityError("InvalidClientTokenId",
                                "The security token included in the request is invalid.", 403)
        if self.identity.now() >= session.expires:
            raise IdentityError("ExpiredToken",
                                "The security token included in the request is expired", 400)
        account = self.identity.accounts.get(session.account_id)
        if account is None:
            raise IdentityError("InvalidClientTokenId",
                                "The security token included in the request is invalid.", 403)
        if session.role_name:
            if (session.account_id, session.role_name) not in self.identity.roles.roles:
                raise IdentityError("InvalidClientTokenId",
                                    "The security token included in the request is invalid.",
                                    403)
            return Principal(account.id, account.name, "", key_id,
                             role_name=session.role_name, session_name=session.session_name,
                             session_id=key_id)
        if (session.account_id, session.user_name) not in self.identity.users:
            raise IdentityError("InvalidClientTokenId",
                                "The security token included in the request is invalid.", 403)
        return Principal(account.id, account.name, session.user_name, key_id,
                         session_id=key_id, federated_name=session.federated_name)

    def for_instance(self, instance_id: str, account_id: str,
                     role_name: str) -> tuple[Session, str]:
        """The credentials an instance's metadata service hands out for its role.

        They last :data:`INSTANCE_SESSION` seconds; new ones are issued once the current
        ones are within :data:`INSTANCE_RENEW` of expiring (or the role changed), so code
        on the instance that refreshes early never holds expired credentials.
        """
        cached = self.instance_sessions.get(instance_id)
        now = self.identity.now()
        if cached is not None:
            session, token = cached
            if session.role_name == role_name and session.key_id in self.by_key and \
                    session.expires - now > INSTANCE_RENEW:
                return cached
        issued = self.issue(account_id, INSTANCE_SESSION, role_name=role_name,
                            session_name=instance_id,
                            source_arn=f"arn:aws:ec2::{account_id}:instance/{instance_id}")
        self.instance_sessions[instance_id] = issued
        return issued

    def session_documents(self, session: Session) -> list[str]:
        """The session policies of a session (inline then managed), as documents.

        A federated user's session with no session policy has no permissions at all (as
        on AWS): it gets a policy that allows nothing.
        """
        docs = [session.policy] if session.policy else []
        if session.federated_name and not session.policy and not session.policy_arns:
            return [NOTHING]
        for arn in session.policy_arns:
            document = self.identity.managed.document(arn)
            if document is not None:
                docs.append(document)
        return docs

    def revoke_for_user(self, account_id: str, user_name: str) -> None:
        """Forget a user's GetSessionToken sessions (the user is gone)."""
        for key_id in [k for k, s in self.by_key.items()
                       if s.account_id == account_id and s.user_name == user_name]:
            del self.by_key[key_id]
            self.identity.store.delete(self.KIND, key_id)


# -- trust policies ------------------------------------------------------------------------
def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(element: Any, caller_arns: set[str], account_id: str,
                       service: str) -> bool:
    """Whether a trust statement's Principal names the caller (AWS or Service principals)."""
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    for kind, values in element.items():
        for value in _values(values):
            if not isinstance(value, str):
                continue
            if kind == "AWS":
                if value == "*" or value in caller_arns:
                    return True
                if value in (account_id, f"arn:aws:iam::{account_id}:root") and account_id:
                    return True
            elif kind == "Service" and service and value == service:
                return True
    return False


def _conditions_hold(condition: Any, context: dict[str, list[str]]) -> bool:
    """A trust statement's Condition block, evaluated by the policy engine's operators
    (String*, Bool, Numeric*, Date*, ...) on the AssumeRole request's keys; a block the
    engine cannot compile never grants."""
    if not condition:
        return True
    try:
        tests = compile_block(condition)
    except ConditionError:
        return False
    return conditions_hold(tests, RequestContext(dict(context)), True)


def trust_allows(trust: str, action: str, caller_arns: set[str], caller_account: str,
                 *, service: str = "", context: dict[str, list[str]] | None = None) -> bool:
    """Whether a role's trust policy lets the caller perform ``action`` (sts:AssumeRole).

    Handles the usual shapes: Principal ``AWS`` (account ID, account root ARN, user or role
    ARN, ``*``), ``Service``, and String conditions such as ``sts:ExternalId``.  An explicit
    Deny that matches wins.
    """
    try:
        doc = json.loads(trust)
    except ValueError:
        return False
    ctx = {k.lower(): v for k, v in (context or {}).items()}
    allowed = False
    for st in _values(doc.get("Statement", [])):
        if not isinstance(st, dict):
            continue
        if "Action" in st:
            hit = any(fnmatch.fnmatch(action.lower(), a.lower()) for a in _values(st["Action"])
                      if isinstance(a, str))
        else:
            hit = not any(fnmatch.fnmatch(action.lower(), a.lower())
                          for a in _values(st.get("NotAction", [])) if isinstance(a, str))
        if not hit:
            continue
        if "Principal" in st:
            named = _principal_matches(st["Principal"], caller_arns, caller_account, service)
        else:
            named = not _principal_matches(st.get("NotPrincipal"), caller_arns, caller_account,
                                           service)
        if not named or not _conditions_hold(st.get("Condition"), ctx):
            continue
        if st.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed
