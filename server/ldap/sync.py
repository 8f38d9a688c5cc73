"""LDAP / Active Directory sync: Eucalyptus' LDAP integration configuration ("LIC").

The LIC (JSON, the cloud property ``authentication.ldap_integration_configuration``)
names the directory (``ldap-service``: ``server-url``, ``auth-method``, ``auth-user``,
``auth-credentials``), which entries become accounts (``accounting-groups``: groups whose
members are the account's groups; or ``groups-partition``: account name -> group names),
groups and users (``groups`` / ``users``: ``base-dn``, ``id-attribute``,
``member-attribute``, ``selection.filter``) and the sync (``sync``: ``enable``, ``auto``,
``interval`` in ms, ``clean-deletion``).

A sync merges the directory into the cloud: accounts, groups and users are created, group
memberships updated; with clean deletion, what an earlier sync created and the directory
no longer has is deleted.  Only one sync runs at a time.  Synced users have no local
password: they log in with their directory password, checked by binding as them.  Access
keys, certificates, policies and quotas stay local, as do the ``eucalyptus`` account and
the accounts' ``admin`` users.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from server.auth.identity import ADMIN_ACCOUNT, IdentityError
from server.auth.secrets import SEALED_FIELDS

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)

PROPERTY = "authentication.ldap_integration_configuration"
#: The LIC holds the directory's bind password: sealed at rest.
SEALED_FIELDS.setdefault("ldap_lic", ("value",))
_NAME = re.compile(r"[^a-z0-9-]")
_USER = re.compile(r"[^\w+=,.@-]")


class LicError(ValueError):
    """A malformed LIC; the message names the field."""


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


@dataclass
class Lic:
    """The parts of a LIC this cloud uses."""

    server_url: str
    bind_dn: str
    bind_password: str
    users: dict[str, Any]
    groups: dict[str, Any]
    accounting_groups: dict[str, Any] | None
    partition: dict[str, list[str]] | None
    enable: bool
    auto: bool
    interval: float
    clean_deletion: bool

    @classmethod
    def parse(cls, text: str) -> Lic:
        """Validate a LIC document."""
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise LicError(f"not JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise LicError("expected a JSON object")
        service = doc.get("ldap-service")
        if not isinstance(service, dict) or not service.get("server-url"):
            raise LicError("ldap-service.server-url is required")
        if str(service.get("auth-method", "simple")).lower() != "simple":
            raise LicError("ldap-service.auth-method: only simple is supported")
        sync = doc.get("sync") or {}
        for part in ("users", "groups"):
            section = doc.get(part)
            if not isinstance(section, dict) or not section.get("base-dn"):
                raise LicError(f"{part}.base-dn is required")
        accounting, partition = doc.get("accounting-groups"), doc.get("groups-partition")
        if (accounting is None) == (partition is None):
            raise LicError("exactly one of accounting-groups and groups-partition is required")
        if partition is not None and not (isinstance(partition, dict) and all(
                isinstance(v, list) for v in partition.values())):
            raise LicError("groups-partition: account name -> list of group names")
        try:
            interval = float(sync.get("interval", 900000)) / 1000.0
        except (TypeError, ValueError):
            raise LicError("sync.interval: milliseconds") from None
        return cls(str(service["server-url"]), str(service.get("auth-user", "")),
                   str(service.get("auth-credentials", "")), doc["users"], doc["groups"],
                   accounting, partition, _truthy(sync.get("enable", True)),
                   _truthy(sync.get("auto", False)), max(interval, 1.0),
                   _truthy(sync.get("clean-deletion", False)))


@dataclass
class SyncStatus:
    """What GetLdapSyncStatus reports."""

    enabled: bool = False
    in_progress: bool = False
    last_sync: float = 0.0
    last_error: str = ""
    accounts: int = 0
    users: int = 0
    groups: int = 0


@dataclass
class Synced:
    """What syncs created: account ID -> users' DNs and group names (for clean deletion
    and log-in)."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)


def _first(entry: Any, attribute: str) -> str:
    value = entry[attribute].value if attribute in entry else None
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value is not None else ""


def _values(entry: Any, attribute: str) -> list[str]:
    if attribute not in entry:
        return []
    value = entry[attribute].value
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v is not None]


def _filter(section: dict[str, Any]) -> str:
    raw = str((section.get("selection") or {}).get("filter") or "objectClass=*")
    return raw if raw.startswith("(") else f"({raw})"


class LdapSync:
    """The cloud's LDAP integration: configuration, sync and directory log-in."""

    KIND, STATE = "ldap_lic", "ldap_synced"

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.identity = cloud.identity
        self.lic: Lic | None = None
        self.status = SyncStatus()
        self.synced = Synced()
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[SyncStatus]] = set()
        for rid, _, doc in self.identity.store.load(self.STATE):
            if rid == "state":
                self.synced = Synced(**doc)
        for rid, _, doc in self.identity.store.load(self.KIND):
            if rid == PROPERTY and doc.get("value"):
                try:
                    self.lic = Lic.parse(doc["value"])
                except LicError as exc:
                    log.error("%s: %s", PROPERTY, exc)
        self.status.enabled = bool(self.lic and self.lic.enable)

    # -- configuration -----------------------------------------------------------------
    def configure(self, text: str) -> None:
        """Set the LIC (empty: turn LDAP integration off); a sync follows."""
        lic = Lic.parse(text) if text.strip() else None
        self.lic = lic
        self.status.enabled = bool(lic and lic.enable)
        self.identity.store.put(self.KIND, PROPERTY, "", {"value": text})
        self.identity.store.flush()

    def property_value(self) -> str:
        """The LIC as set."""
        for rid, _, doc in self.identity.store.load(self.KIND):
            if rid == PROPERTY:
                return str(doc.get("value", ""))
        return ""

    # -- the directory -------------------------------------------------------------------
    def _connect(self, lic: Lic, user: str | None = None, password: str | None = None) -> Any:
        import ldap3

        server = ldap3.Server(lic.server_url, connect_timeout=10)
        return ldap3.Connection(server, user=user if user is not None else lic.bind_dn or None,
                                password=password if password is not None
                                else lic.bind_password or None,
                                receive_timeout=30, raise_exceptions=False)

    def _search(self, conn: Any, section: dict[str, Any], attributes: list[str]) -> list[Any]:
        import ldap3

        conn.search(str(section["base-dn"]), _filter(section), ldap3.SUBTREE,
                    attributes=attributes)
        return list(conn.entries)

    def read_directory(self, lic: Lic) -> dict[str, dict[str, Any]]:
        """account name -> {"groups": {group: [user ids]}, "users": {user id: DN}}."""
        conn = self._connect(lic)
        if not conn.bind():
            raise ConnectionError(f"cannot bind to {lic.server_url}: {conn.result}")
        try:
            uid = str(lic.users.get("id-attribute", "uid"))
            users = {e.entry_dn.lower(): _first(e, uid)
                     for e in self._search(conn, lic.users, [uid])}
            gid = str(lic.groups.get("id-attribute", "cn"))
            gmember = str(lic.groups.get("member-attribute", "member"))
            groups: dict[str, tuple[str, list[str]]] = {}
            for e in self._search(conn, lic.groups, [gid, gmember]):
                groups[e.entry_dn.lower()] = (_first(e, gid), _values(e, gmember))
            by_name = {name: dn for dn, (name, _) in groups.items()}
            partition: dict[str, list[str]] = {}
            if lic.accounting_groups is not None:
                aid = str(lic.accounting_groups.get("id-attribute", "cn"))
                amember = str(lic.accounting_groups.get("member-attribute", "member"))
                for e in self._search(conn, lic.accounting_groups, [aid, amember]):
                    partition[_first(e, aid)] = [groups[m.lower()][0] for m in _values(e, amember)
                                                 if m.lower() in groups]
            else:
                partition = {k: [str(g) for g in v] for k, v in (lic.partition or {}).items()}
        finally:
            conn.unbind()
        out: dict[str, dict[str, Any]] = {}
        for account, group_names in partition.items():
            name = _NAME.sub("-", account.lower())[:63].strip("-")
            if not name or name == ADMIN_ACCOUNT:
                continue
            entry: dict[str, Any] = out.setdefault(name, {"groups": {}, "users": {}})
            for gname in group_names:
                dn = by_name.get(gname)
                if dn is None:
                    continue
                members = []
                for member in groups[dn][1]:
                    user_id = users.get(member.lower())
                    if not user_id:
                        continue
                    user_id = _USER.sub("-", user_id)[:64]
                    if user_id == "admin":
                        continue  # the account's admin stays local
                    members.append(user_id)
                    entry["users"][user_id] = member
                entry["groups"][_USER.sub("-", gname)[:128]] = members
        return out

    # -- sync ----------------------------------------------------------------------------
    async def sync(self) -> SyncStatus:
        """Merge the directory into the cloud once; a sync already running is not doubled.
        The directory is read off the loop, the merge runs on it (with every other change
        to identities)."""
        lic = self.lic
        if lic is None or not lic.enable or self.status.in_progress:
            return self.status
        self.status.in_progress = True
        try:
            directory = await asyncio.to_thread(self.read_directory, lic)
            self._merge(directory, lic.clean_deletion)
            self.status.last_error = ""
        except Exception as exc:  # the directory down or misconfigured: reported, retried
            log.warning("LDAP sync failed: %s", exc)
            self.status.last_error = str(exc)
        finally:
            self.status.in_progress = False
            self.status.last_sync = self.cloud.clock.now()
        return self.status

    def sync_soon(self) -> None:
        """Start a sync on the running loop (after the LIC is set)."""
        task = asyncio.get_running_loop().create_task(self.sync())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _merge(self, directory: dict[str, dict[str, Any]], clean: bool) -> None:
        identity = self.identity
        state = self.synced.accounts
        for name, entry in directory.items():
            try:
                account = identity.account(name)
            except IdentityError:
                account = identity.create_account(name)
            mine = state.setdefault(account.id, {"name": name, "users": {}, "groups": []})
            for user_id, dn in entry["users"].items():
                if (account.id, user_id) not in identity.users:
                    identity.create_user(account.id, user_id, "/ldap/")
                mine["users"][user_id] = dn
            for gname, members in entry["groups"].items():
                if (account.id, gname) not in identity.groups:
                    identity.create_group(account.id, gname, "/ldap/")
                if gname not in mine["groups"]:
                    mine["groups"].append(gname)
                current = {u.name for u in identity.group_members(account.id, gname)}
                for user_id in set(members) - current:
                    identity.add_user_to_group(account.id, gname, user_id)
                for user_id in current - set(members):
                    if user_id in mine["users"]:
                        identity.remove_user_from_group(account.id, gname, user_id)
            if clean:
                for user_id in [u for u in mine["users"] if u not in entry["users"]]:
                    self._drop_user(account.id, user_id)
                    del mine["users"][user_id]
                for gname in [g for g in mine["groups"] if g not in entry["groups"]]:
                    try:
                        identity.delete_group(account.id, gname)
                    except IdentityError as exc:
                        log.warning("LDAP clean deletion of group %s: %s", gname, exc.message)
                    mine["groups"].remove(gname)
        if clean:
            for account_id in [a for a, m in state.items() if m["name"] not in directory]:
                try:
                    identity.delete_account(account_id, recursive=True)
                except IdentityError as exc:
                    log.warning("LDAP clean deletion of account %s: %s", account_id, exc.message)
                del state[account_id]
        self.status.accounts = len(state)
        self.status.users = sum(len(m["users"]) for m in state.values())
        self.status.groups = sum(len(m["groups"]) for m in state.values())
        identity.store.put(self.STATE, "state", "", asdict(self.synced))
        identity.store.flush()

    def _drop_user(self, account_id: str, user_id: str) -> None:
        try:
            self.identity.delete_user(account_id, user_id, force=True)
        except IdentityError as exc:
            log.warning("LDAP clean deletion of user %s: %s", user_id, exc.message)

    # -- log-in --------------------------------------------------------------------------
    def directory_dn(self, account_id: str, user: str) -> str | None:
        """The DN of a synced user (None for a local one)."""
        dn = (self.synced.accounts.get(account_id) or {}).get("users", {}).get(user)
        return str(dn) if dn else None

    def check_password(self, account_id: str, user: str, password: str) -> bool | None:
        """The directory's verdict on a synced user's password (None: not a synced user)."""
        dn = self.directory_dn(account_id, user)
        if dn is None or self.lic is None:
            return None
        if not password:
            return False  # an empty password would be an unauthenticated bind
        try:
            conn = self._connect(self.lic, dn, password)
            ok = bool(conn.bind())
            conn.unbind()
        except Exception as exc:  # directory unreachable: no log-in
            log.warning("LDAP log-in of %s: %s", dn, exc)
            return False
        return ok

    # -- life cycle ----------------------------------------------------------------------
    async def run(self) -> None:
        """Sync at start, then every ``interval`` while ``auto`` is on."""
        while True:
            lic = self.lic
            if lic is not None and lic.enable:
                await self.sync()
            delay = lic.interval if lic is not None and lic.auto else 60.0
            await asyncio.sleep(delay)

    def start(self) -> None:
        """Start the periodic sync on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Stop the periodic sync."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass



def setup(cloud: Cloud) -> LdapSync:
    """Keep the cloud's LDAP integration."""
    ldap = LdapSync(cloud)
    cloud.components["ldap"] = ldap
    cloud.start_hooks.append(ldap.start)
    cloud.stop_hooks.append(ldap.stop)
    return ldap
