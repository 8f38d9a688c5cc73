"""Identity-level checks with a clock the test moves: session expiry and what
``Identity.policies_for`` hands the policy engine for each kind of principal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.auth.identity import Identity, IdentityError
from server.auth.login import check_password
from server.db.store import Store, make_engine, migrate


class Clock:
    """A clock the test advances by hand."""

    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t


def _doc(action: str, effect: str = "Allow") -> str:
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}]})


@pytest.fixture
def world(tmp_path: Path) -> tuple[Identity, Clock, Store]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cloud.db'}")
    migrate(engine)
    store = Store(engine)
    clock = Clock()
    return Identity(store, clock), clock, store


def test_session_expires_by_the_cloud_clock(world) -> None:
    """A session works until its expiry, then is ExpiredToken; a wrong token is refused."""
    identity, clock, _ = world
    account = identity.create_account("acme")
    session, token = identity.sessions.issue(account.id, 900, user_name="admin")
    assert identity.secret_for(session.key_id) == session.secret
    assert identity.principal_for(session.key_id, token).user_name == "admin"
    with pytest.raises(IdentityError) as err:
        identity.principal_for(session.key_id, token + "x")
    assert err.value.code == "InvalidClientTokenId"
    with pytest.raises(IdentityError) as err:
        identity.principal_for(session.key_id, None)
    assert err.value.code == "InvalidClientTokenId"
    clock.t += 899
    identity.principal_for(session.key_id, token)
    clock.t += 1
    with pytest.raises(IdentityError) as err:
        identity.principal_for(session.key_id, token)
    assert err.value.code == "ExpiredToken" and err.value.status == 400
    # Long after expiry the session is forgotten (a new issue purges it).
    clock.t += 2 * 86400
    identity.sessions.issue(account.id, 900, user_name="admin")
    assert identity.secret_for(session.key_id) is None


def test_policies_for_users_groups_and_boundaries(world) -> None:
    """User inline + group inline + managed (user and groups, once each) + boundary."""
    identity, _, _ = world
    acct = identity.create_account("acme").id
    identity.create_user(acct, "bob")
    identity.create_group(acct, "devs")
    identity.add_user_to_group(acct, "devs", "bob")
    identity.put_user_policy(acct, "bob", "mine", _doc("ec2:Describe*"))
    identity.put_group_policy(acct, "devs", "team", _doc("s3:List*"))
    managed = identity.managed.create(acct, "shared", _doc("iam:Get*"))
    identity.attach_user_policy(acct, "bob", managed.arn())
    identity.attach_group_policy(acct, "devs", managed.arn())
    identity.attach_group_policy(acct, "devs", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    boundary = identity.managed.create(acct, "bound", _doc("ec2:*"))
    identity.set_user_boundary(acct, "bob", boundary.arn())
    account = identity.accounts[acct]
    from server.auth.identity import Principal

    got = identity.policies_for(Principal(acct, account.name, "bob"))
    actions = [json.loads(d)["Statement"][0]["Action"] for d in got["identity"]]
    assert actions[:3] == ["ec2:Describe*", "s3:List*", "iam:Get*"]
    assert len(actions) == 4 and "s3:Get*" in actions[3]
    assert json.loads(got["boundary"])["Statement"][0]["Action"] == "ec2:*"
    assert got["session"] == []
    # A new default version is what applies from then on.
    identity.managed.create_version(acct, managed.arn(), _doc("iam:List*"), set_default=True)
    got = identity.policies_for(Principal(acct, account.name, "bob"))
    assert "iam:List*" in got["identity"][2]
    # Users without policies, and anonymous callers, get nothing.
    identity.create_user(acct, "empty")
    assert identity.policies_for(Principal(acct, account.name, "empty")) == \
        {"identity": [], "boundary": None, "session": []}


def test_policies_for_role_sessions(world) -> None:
    """A role session: the role's inline and managed policies plus the session policies."""
    identity, _, _ = world
    acct = identity.create_account("acme").id
    trust = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": acct},
                                       "Action": "sts:AssumeRole"}]})
    role = identity.roles.create(acct, "worker", trust)
    identity.roles.put_policy(acct, "worker", "inline", _doc("s3:*"))
    identity.managed.attach(acct, role, "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    identity.roles.save(role)
    session, token = identity.sessions.issue(
        acct, 900, role_name="worker", session_name="job", policy=_doc("s3:GetObject"),
        policy_arns=["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"])
    principal = identity.principal_for(session.key_id, token)
    assert principal.role_name == "worker" and principal.session_name == "job"
    assert principal.arn() == f"arn:aws:sts::{acct}:assumed-role/worker/job"
    got = identity.policies_for(principal)
    assert json.loads(got["identity"][0])["Statement"][0]["Action"] == "s3:*"
    assert "ec2:Describe*" in json.loads(got["identity"][1])["Statement"][0]["Action"]
    assert len(got["session"]) == 2
    # Principal tags: the role's, overridden by the session's.
    role.tags = {"team": "a", "env": "dev"}
    tagged, tag_token = identity.sessions.issue(acct, 900, role_name="worker",
                                                session_name="t", tags={"env": "prod"})
    assert identity.principal_tags(identity.principal_for(tagged.key_id, tag_token)) == \
        {"team": "a", "env": "prod"}
    assert json.loads(got["session"][0])["Statement"][0]["Action"] == "s3:GetObject"
    # The role's deletion ends its sessions.
    identity.roles.delete_policy(acct, "worker", "inline")
    identity.managed.detach(acct, role, "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    identity.roles.delete(acct, "worker")
    with pytest.raises(IdentityError):
        identity.principal_for(session.key_id, token)


def test_trust_policy_shapes() -> None:
    """Principal AWS account/root/ARN/*, Service, ExternalId condition, Deny wins."""
    from server.auth.sts import trust_allows

    def trust(principal: object, condition: object = None, effect: str = "Allow") -> str:
        st = {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}
        if condition:
            st["Condition"] = condition
        return json.dumps({"Statement": [st]})

    me = {"arn:aws:iam::111111111111:user/bob"}
    assert trust_allows(trust({"AWS": "111111111111"}), "sts:AssumeRole", me, "111111111111")
    assert trust_allows(trust({"AWS": "arn:aws:iam::111111111111:root"}), "sts:AssumeRole", me,
                        "111111111111")
    assert not trust_allows(trust({"AWS": "arn:aws:iam::222222222222:root"}), "sts:AssumeRole",
                            me, "111111111111")
    assert trust_allows(trust({"AWS": list(me)}), "sts:AssumeRole", me, "111111111111")
    assert trust_allows(trust("*"), "sts:AssumeRole", me, "111111111111")
    assert not trust_allows(trust({"Service": "ec2.amazonaws.com"}), "sts:AssumeRole", me,
                            "111111111111")
    assert trust_allows(trust({"Service": "ec2.amazonaws.com"}), "sts:AssumeRole", set(), "",
                        service="ec2.amazonaws.com")
    cond = {"StringEquals": {"sts:ExternalId": "x-1"}}
    assert not trust_allows(trust("*", cond), "sts:AssumeRole", me, "111111111111")
    assert trust_allows(trust("*", cond), "sts:AssumeRole", me, "111111111111",
                        context={"sts:ExternalId": ["x-1"]})
    both = json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sts:*"},
        {"Effect": "Deny", "Principal": {"AWS": list(me)}, "Action": "sts:AssumeRole"}]})
    assert not trust_allows(both, "sts:AssumeRole", me, "111111111111")
    assert not trust_allows(trust("*"), "sts:AssumeRoleWithSAML", me, "111111111111")


def test_login_profile_password_is_hashed(world) -> None:
    """Passwords are kept as scrypt hashes, never in clear."""
    identity, _, store = world
    acct = identity.create_account("acme").id
    identity.create_user(acct, "bob")
    identity.logins.create(acct, "bob", "correct horse battery")
    store.flush()
    profile = identity.logins.profiles[(acct, "bob")]
    assert "correct horse" not in profile.password_hash
    assert profile.password_hash.startswith("scrypt$")
    assert check_password("correct horse battery", profile.password_hash)
    assert not check_password("wrong password", profile.password_hash)
    assert identity.logins.verify(acct, "bob", "correct horse battery")
    with pytest.raises(IdentityError) as err:
        identity.logins.update(acct, "bob", "short")
    assert err.value.code == "PasswordPolicyViolation"


def test_instance_credentials_renewed_before_expiry(world) -> None:
    """Instance-profile credentials are renewed within 15 minutes of their expiry."""
    from server.auth import sts

    identity, clock, _ = world
    acct = identity.create_account("acme").id
    identity.roles.create(acct, "r", json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
         "Action": "sts:AssumeRole"}]}))
    first, token = identity.sessions.for_instance("i-1", acct, "r")
    assert first.expires - first.created == sts.INSTANCE_SESSION
    clock.t += sts.INSTANCE_SESSION - sts.INSTANCE_RENEW - 1
    assert identity.sessions.for_instance("i-1", acct, "r")[0] is first
    clock.t += 2
    renewed, token2 = identity.sessions.for_instance("i-1", acct, "r")
    assert renewed.key_id != first.key_id and token2 != token
    assert renewed.expires > first.expires
    # The old credentials still work until they expire.
    assert identity.principal_for(first.key_id, token).session_name == "i-1"


def test_policies_for_federated_users(world) -> None:
    """A federated session: the IAM user's policies plus its session policy (or nothing)."""
    from server.auth.sts import NOTHING

    identity, _, _ = world
    acct = identity.create_account("acme").id
    identity.create_user(acct, "broker")
    identity.put_user_policy(acct, "broker", "p", _doc("s3:*"))
    session, token = identity.sessions.issue(acct, 900, user_name="broker",
                                             federated_name="carol", policy=_doc("s3:Get*"))
    principal = identity.principal_for(session.key_id, token)
    assert principal.arn() == f"arn:aws:sts::{acct}:federated-user/carol"
    got = identity.policies_for(principal)
    assert len(got["identity"]) == 1 and "s3:*" in got["identity"][0]
    assert len(got["session"]) == 1 and "s3:Get*" in got["session"][0]
    bare, bare_token = identity.sessions.issue(acct, 900, user_name="broker",
                                               federated_name="dave")
    assert identity.policies_for(identity.principal_for(bare.key_id, bare_token))[
        "session"] == [NOTHING]
