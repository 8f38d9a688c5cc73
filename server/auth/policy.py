"""The one IAM policy engine of the cloud: language, cache and evaluation.

Every service asks this module: the query services (EC2, IAM, STS, ...) through
:mod:`server.auth.enforcement`, Walrus for identity and bucket policies.  Evaluation
follows AWS's documented logic:

* default deny; an explicit ``Deny`` in any policy that applies wins;
* an ``Allow`` in an identity-based policy grants, but only within the permissions
  boundary (when the principal has one) and the session policies (assumed roles);
* in one account an ``Allow`` in the resource's policy (S3 bucket policy) grants too;
  across accounts both the caller's identity policies and the resource policy must allow;
* Eucalyptus' ``Limit`` statements are quotas: they never allow or deny here, they are
  read by :mod:`server.auth.quotas`.

Documents are compiled once (cached by their text) and statements are indexed by the
action they name, so a decision costs a dictionary lookup plus the few statements that
name the action.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from server.auth.policy_conditions import ConditionError, Test, compile_block, glob_regex

ALLOW, DENY, LIMIT = "Allow", "Deny", "Limit"
VERSIONS = ("2012-10-17", "2008-10-17")
#: Deepest JSON nesting a policy may have (a policy is at most a few levels deep).
MAX_DEPTH = 32


class PolicyError(ValueError):
    """A policy document the language does not accept (MalformedPolicyDocument)."""


# -- request context ---------------------------------------------------------------------
class RequestContext:
    """What one request looks like to policies: condition keys and variables.

    ``values`` holds keys known up front (lower-cased names; ``str`` or ``list[str]``);
    ``resolve`` is asked, once per key, for the others (resource tags and the like, which
    are costly and rarely needed).
    """

    __slots__ = ("values", "resolve")

    def __init__(self, values: dict[str, Any] | None = None,
                 resolve: Callable[[str], Any] | None = None):
        self.values: dict[str, Any] = values if values is not None else {}
        self.resolve = resolve

    def get(self, key: str) -> Any:
        """The value(s) of a lower-cased key, or None when the request has none."""
        values = self.values
        if key in values:
            return values[key]
        found = self.resolve(key) if self.resolve is not None else None
        values[key] = found
        return found

    def strings(self, key: str) -> list[str] | None:
        """A key's values as a list of strings (None when absent or empty)."""
        raw = self.get(key)
        if raw is None or raw == "" or raw == []:
            return None
        if isinstance(raw, (list, tuple, set, frozenset)):
            return [_text(v) for v in raw]
        return [_text(raw)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class Request:
    """One authorization question: may ``principal_ids`` do ``action`` on ``resource``?"""

    #: ``service:ActionName``.
    action: str
    #: The resource's ARN (``*`` for actions without one).
    resource: str
    #: Strings that name the caller in a Principal element: its account ID, ARNs, ...;
    #: empty for an anonymous caller (who matches only ``"*"``).
    principal_ids: frozenset[str] = frozenset()
    context: RequestContext = field(default_factory=RequestContext)


# -- compiled policies -------------------------------------------------------------------
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


def substitute(value: str, context: RequestContext) -> str:
    """``${key}`` (and ``${key, 'default'}``) policy variables replaced from the context.

    A variable with no value and no default is left as written, so it matches nothing a
    real request carries.
    """
    def one(m: re.Match[str]) -> str:
        name, _, default = m.group(1).partition(",")
        name = name.strip()
        if name in _SPECIAL:
            return _SPECIAL[name]
        found = context.get(name.lower())
        if isinstance(found, (list, tuple)):
            found = found[0] if len(found) == 1 else None
        if found is not None and _text(found) != "":
            return _text(found)
        default = default.strip()
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
        return m.group(0)

    return _VARIABLE.sub(one, value)


class _Patterns:
    """A list of ``*``/``?`` wildcard patterns compiled into one regex."""

    __slots__ = ("regex", "variables", "raw", "everything", "ignore_case")

    def __init__(self, patterns: list[str], *, ignore_case: bool):
        self.raw = tuple(patterns)
        self.ignore_case = ignore_case
        self.everything = "*" in patterns
        self.variables = any("${" in p for p in patterns)
        self.regex = None if self.variables else _alternation(self.raw, ignore_case)

    def matches(self, value: str, context: RequestContext | None = None) -> bool:
        """True when some pattern matches ``value`` whole."""
        if self.everything:
            return True
        if self.regex is not None:
            return self.regex.fullmatch(value) is not None
        ctx = context or RequestContext()
        return any(glob_regex(substitute(p, ctx), self.ignore_case).fullmatch(value)
                   is not None for p in self.raw)


@lru_cache(maxsize=4096)
def _alternation(patterns: tuple[str, ...], ignore_case: bool) -> re.Pattern[str]:
    body = "|".join(f"(?:{glob_regex(p, ignore_case).pattern})" for p in patterns)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@dataclass
class Statement:
    """One compiled statement."""

    effect: str
    sid: str
    actions: _Patterns | None
    not_actions: _Patterns | None
    resources: _Patterns | None
    not_resources: _Patterns | None
    principal: Any
    not_principal: Any
    has_principal: bool
    has_not_principal: bool
    conditions: tuple[Test, ...]
    #: Policy variables are a 2012-10-17 feature: older documents take ``${`` literally.
    variables: bool
    #: Where it came from (for the encoded authorization message).
    source: str = ""

    def names_action(self, action: str) -> bool:
        """Whether Action/NotAction select ``action`` (``service:Name``)."""
        if self.actions is not None and not self.actions.matches(action):
            return False
        return not (self.not_actions is not None and self.not_actions.matches(action))

    def names_resource(self, resource: str) -> bool | None:
        """Resource/NotResource on ``resource`` when they hold no policy variables (None
        when they do: the answer then depends on the request)."""
        for patterns, wanted in ((self.resources, True), (self.not_resources, False)):
            if patterns is None:
                continue
            if patterns.variables and self.variables:
                return None
            if patterns.matches(resource) != wanted:
                return False
        return True

    def applies(self, req: Request, resource_known: bool = False) -> bool:
        """Resource, Principal and Condition against one request (action already matched;
        with ``resource_known`` the resource too, by :meth:`names_resource`)."""
        if not resource_known:
            ctx = req.context if self.variables else None
            if self.resources is not None and not self.resources.matches(req.resource, ctx):
                return False
            if self.not_resources is not None and self.not_resources.matches(req.resource,
                                                                             ctx):
                return False
        if self.has_principal and not principal_matches(self.principal, req.principal_ids):
            return False
        if self.has_not_principal and principal_matches(self.not_principal,
                                                        req.principal_ids):
            return False
        return not self.conditions or conditions_hold(self.conditions, req.context,
                                                      self.variables)


def conditions_hold(tests: tuple[Test, ...], context: RequestContext, variables: bool) -> bool:
    """Every test of a Condition block holds (AND across operators and keys)."""
    for test in tests:
        wanted = test.wanted
        if variables and test.variables:
            wanted = tuple(substitute(w, context) for w in wanted)
        if not test.holds(context.strings(test.key), wanted):
            return False
    return True


def principal_matches(spec: Any, ids: frozenset[str]) -> bool:
    """A Principal element (``"*"``, ``{"AWS": [...]}``, ``{"CanonicalUser": ...}``, ...)
    against the strings that name the caller."""
    if spec == "*":
        return True
    if isinstance(spec, dict):
        values: list[Any] = []
        for kind in ("AWS", "CanonicalUser", "Service", "Federated"):
            v = spec.get(kind, [])
            values += v if isinstance(v, list) else [v]
    else:
        values = spec if isinstance(spec, list) else [spec]
    for value in values:
        text = str(value)
        if text == "*" or text in ids:
            return True
    return False


@dataclass
class Policy:
    """One compiled document: its statements that allow or deny, and its quotas."""

    version: str
    statements: tuple[Statement, ...]
    limits: tuple[Statement, ...]


def _as_list(value: Any, what: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise PolicyError(f"Syntax errors in policy: {what} must be strings.")
    return values


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def load_document(text: str) -> dict[str, Any]:
    """A policy's JSON object (PolicyError for bad JSON, too deep or not an object)."""
    if text.count("[") + text.count("{") > 10000:
        raise PolicyError("Syntax errors in policy.")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise PolicyError("Syntax errors in policy.") from None
    if not isinstance(doc, dict) or _depth(doc) > MAX_DEPTH:
        raise PolicyError("Syntax errors in policy.")
    return doc


def statements_of(doc: dict[str, Any]) -> list[Any]:
    """The Statement element as a list (PolicyError when missing or empty)."""
    st = doc.get("Statement")
    if isinstance(st, dict):
        return [st]
    if not isinstance(st, list) or not st:
        raise PolicyError("Syntax errors in policy.")
    return st


def parse(text: str, *, source: str = "", limits: bool = True) -> Policy:
    """Compile a document (PolicyError when the language refuses it)."""
    doc = load_document(text)
    version = doc.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise PolicyError("The policy must contain a valid version string")
    statements: list[Statement] = []
    quotas: list[Statement] = []
    for st in statements_of(doc):
        if not isinstance(st, dict):
            raise PolicyError("Syntax errors in policy.")
        effect = st.get("Effect")
        if effect not in (ALLOW, DENY) and not (limits and effect == LIMIT):
            raise PolicyError("Syntax errors in policy: Effect must be Allow or Deny.")
        if ("Action" in st) == ("NotAction" in st):
            raise PolicyError("Policy statement must contain actions.")
        if ("Resource" in st) == ("NotResource" in st):
            raise PolicyError("Policy statement must contain resources.")
        patterns: dict[str, _Patterns | None] = {}
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key not in st:
                patterns[key] = None
                continue
            values = _as_list(st[key], key)
            if key.endswith("Action") and not all(v == "*" or ":" in v for v in values):
                raise PolicyError("Actions/Conditions must be prefaced by a vendor, e.g., "
                                  "iam, sdb, ec2, etc.")
            patterns[key] = _Patterns(values, ignore_case=key.endswith("Action"))
        try:
            tests = compile_block(st.get("Condition"))
        except ConditionError as exc:
            raise PolicyError(str(exc)) from None
        compiled = Statement(
            effect=str(effect), sid=str(st.get("Sid", "")),
            actions=patterns["Action"], not_actions=patterns["NotAction"],
            resources=patterns["Resource"], not_resources=patterns["NotResource"],
            principal=st.get("Principal"), not_principal=st.get("NotPrincipal"),
            has_principal="Principal" in st, has_not_principal="NotPrincipal" in st,
            conditions=tests, variables=version == "2012-10-17", source=source)
        (quotas if effect == LIMIT else statements).append(compiled)
    return Policy(version, tuple(statements), tuple(quotas))


_EMPTY = Policy("2012-10-17", (), ())


@lru_cache(maxsize=8192)
def compiled(text: str) -> Policy:
    """A document compiled once per distinct text; an invalid one grants nothing."""
    try:
        return parse(text)
    except PolicyError:
        return _EMPTY


class PolicyGroup:
    """Several documents evaluated together (a principal's identity policies, a bucket
    policy...), with their statements indexed by the action they name."""

    def __init__(self, texts: Iterable[str]):
        self.policies = tuple(compiled(t) for t in texts)
        self.statements = tuple(s for p in self.policies for s in p.statements)
        self.limits = tuple(s for p in self.policies for s in p.limits)
        self._by_action: dict[str, tuple[Statement, ...]] = {}
        self._by_request: dict[tuple[str, str], tuple[tuple[Statement, bool], ...]] = {}
        self._lock = threading.Lock()

    def extended(self, texts: Iterable[str]) -> PolicyGroup:
        """A new group: these documents and some more (a simulation's PolicyInputList)."""
        out = PolicyGroup(texts)
        out.policies = self.policies + out.policies
        out.statements = self.statements + out.statements
        out.limits = self.limits + out.limits
        return out

    def for_action(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction select ``action`` (memoized)."""
        found = self._by_action.get(action)
        if found is None:
            found = tuple(s for s in self.statements if s.names_action(action))
            with self._lock:
                if len(self._by_action) > 4096:
                    self._by_action.clear()
                self._by_action[action] = found
        return found

    def candidates(self, action: str, resource: str) -> tuple[tuple[Statement, bool], ...]:
        """The statements that may apply to ``action`` on ``resource`` (memoized), each
        with whether its resource test is already passed."""
        key = (action, resource)
        found = self._by_request.get(key)
        if found is None:
            out = []
            for st in self.for_action(action):
                named = st.names_resource(resource)
                if named is not False:
                    out.append((st, named is True))
            found = tuple(out)
            with self._lock:
                if len(self._by_request) > 8192:
                    self._by_request.clear()
                self._by_request[key] = found
        return found

    def decide(self, req: Request, matched: list[Statement] | None = None) -> str | None:
        """``Deny``, ``Allow`` or None (no statement applies)."""
        result = None
        for st, known in self.candidates(req.action, req.resource):
            if st.applies(req, known):
                if matched is not None:
                    matched.append(st)
                if st.effect == DENY:
                    return DENY
                result = ALLOW
        return result


@lru_cache(maxsize=4096)
def group(texts: tuple[str, ...]) -> PolicyGroup:
    """The cached :class:`PolicyGroup` of some documents (cached by their texts)."""
    return PolicyGroup(texts)


EMPTY_GROUP = group(())


@dataclass
class PolicySet:
    """What a principal's own side contributes to a decision.

    ``identity``: user, group, managed and role policies; ``implicit``: the principal is
    its account's admin or root, allowed everything in its account without a policy;
    ``boundary``: the permissions boundary (None: none set); ``session``: session policies
    of an assumed role or federation token (None: none); ``account``: Eucalyptus account
    policies (their Deny applies to every principal of the account, admin included).
    """

    identity: PolicyGroup = EMPTY_GROUP
    implicit: bool = False
    boundary: PolicyGroup | None = None
    session: PolicyGroup | None = None
    account: PolicyGroup | None = None
    #: The principal's account (to tell same-account from cross-account requests).
    account_id: str = ""

    def quota_groups(self) -> list[PolicyGroup]:
        """Where Limit statements are read: the account's, then the user's own."""
        return [g for g in (self.account, self.identity) if g is not None]


@dataclass
class Decision:
    """The outcome, with what an encoded authorization message reports."""

    allowed: bool
    explicit_deny: bool = False
    matched: list[Statement] = field(default_factory=list)


def decide(req: Request, policies: PolicySet, resource_policy: PolicyGroup | None = None,
           resource_account: str | None = None) -> Decision:
    """AWS's evaluation logic for one request (see the module docstring)."""
    matched: list[Statement] = []
    deny = Decision(False, True, matched)
    if policies.account is not None and policies.account.decide(req, matched) == DENY:
        return deny
    ident = policies.identity.decide(req, matched)
    if ident == DENY:
        return deny
    res = resource_policy.decide(req, matched) if resource_policy is not None else None
    if res == DENY:
        return deny
    boundary: str | None = ALLOW
    session: str | None = ALLOW
    if policies.boundary is not None:
        boundary = policies.boundary.decide(req, matched)
        if boundary == DENY:
            return deny
    if policies.session is not None:
        session = policies.session.decide(req, matched)
        if session == DENY:
            return deny
    identity_ok = (policies.implicit or ident == ALLOW) and boundary == ALLOW and \
        session == ALLOW
    cross = resource_account is not None and resource_account != policies.account_id
    if cross:
        return Decision(identity_ok and res == ALLOW, False, matched)
    return Decision(identity_ok or res == ALLOW, False, matched)


def evaluate(texts: Iterable[str] | str | None, req: Request) -> str | None:
    """``Deny``, ``Allow`` or None for some documents on one request."""
    if not texts:
        return None
    if isinstance(texts, str):
        texts = (texts,)
    return group(tuple(texts)).decide(req)


def simulate(policies: Iterable[str], action: str, resource: str = "*",
             context: Mapping[str, Any] | None = None, *, principal_ids: Iterable[str] = (),
             boundary: str | None = None, resource_policy: str | None = None,
             implicit: bool = False, base: PolicySet | None = None) -> dict[str, Any]:
    """One SimulatePrincipalPolicy/SimulateCustomPolicy evaluation result, in IAM's
    shape: ``EvalDecision`` is ``allowed``, ``explicitDeny`` or ``implicitDeny``, with the
    statements that matched.  ``context`` holds condition keys (any case).  ``base`` is
    a principal's own set (what the engine evaluates for it); ``policies`` are then added
    to its identity policies."""
    values = {str(k).lower(): v for k, v in (context or {}).items()}
    req = Request(action, resource, frozenset(principal_ids), RequestContext(values))
    if base is not None:
        pset = replace(base, identity=base.identity.extended(tuple(policies)))
    else:
        pset = PolicySet(identity=group(tuple(policies)), implicit=implicit,
                         boundary=group((boundary,)) if boundary else None)
    found = decide(req, pset, group((resource_policy,)) if resource_policy else None)
    state = "allowed" if found.allowed else "explicitDeny" if found.explicit_deny \
        else "implicitDeny"
    return {"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": state,
            "MatchedStatements": [{"SourcePolicyId": st.source or st.sid,
                                   "StatementId": st.sid, "Effect": st.effect}
                                  for st in found.matched]}


# -- encoded authorization messages --------------------------------------------------------
_KEY_LOCK = threading.Lock()
_message_key: list[bytes] = []


def set_message_key(key: bytes) -> None:
    """Use the cloud's key (32 random bytes kept in the data dir) for encoded messages."""
    with _KEY_LOCK:
        _message_key[:] = [key]


def load_message_key(data_dir: str) -> None:
    """Read (or create, 0600) the cloud's message key in ``DATA_DIR/authz-message.key``,
    so encoded messages stay readable across restarts of the same cloud."""
    path = os.path.join(data_dir, "authz-message.key")
    try:
        with open(path, "rb") as fh:
            key = fh.read()
    except FileNotFoundError:
        key = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
    if len(key) != 32:
        raise ValueError(f"{path} does not hold a 32-byte key")
    set_message_key(key)


def _key() -> bytes:
    with _KEY_LOCK:
        if not _message_key:
            _message_key.append(os.urandom(32))
        return _message_key[0]


def _fernet() -> Any:
    from cryptography.fernet import Fernet

    return Fernet(base64.urlsafe_b64encode(_key()))


def authorization_message(req: Request, decision: Decision,
                          principal: Mapping[str, str]) -> dict[str, Any]:
    """The document ``DecodeAuthorizationMessage`` returns, in AWS's shape."""
    conditions = []
    for key, value in sorted(req.context.values.items()):
        if value is None or key.startswith("aws:principaltag/"):
            continue
        values = value if isinstance(value, list) else [value]
        conditions.append({"key": key, "values": {"items": [{"value": _text(v)}
                                                            for v in values]}})
    return {
        "allowed": decision.allowed,
        "explicitDeny": decision.explicit_deny,
        "matchedStatements": {"items": [
            {"statementId": s.sid, "effect": s.effect, "source": s.source}
            for s in decision.matched if s.effect == DENY or decision.allowed]},
        "failures": {"items": []},
        "context": {"principal": dict(principal), "action": req.action,
                    "resource": req.resource, "conditions": {"items": conditions}},
    }


def encode_authorization_message(message: dict[str, Any]) -> str:
    """An opaque token for a refusal's details: only the cloud can read it back."""
    raw = zlib.compress(json.dumps(message, separators=(",", ":")).encode())
    return str(_fernet().encrypt_at_time(raw, int(time.time())).decode("ascii"))


def decode_authorization_message(token: str) -> dict[str, Any]:
    """The details an encoded authorization message carries (ValueError if not ours)."""
    from cryptography.fernet import InvalidToken

    try:
        raw = _fernet().decrypt(token.strip().encode("ascii"))
        message: dict[str, Any] = json.loads(zlib.decompress(raw))
    except (InvalidToken, ValueError, UnicodeEncodeError, zlib.error):
        raise ValueError("The encoded message is not valid") from None
    return message
