"""The instance metadata service: EC2's ``/latest/meta-data/`` and ``/latest/user-data``.

An instance asks over plain HTTP; the answer is about the instance that asks.  It is
identified by its private address (``request.client``), or, as OpenStack's metadata
proxy does it, by an ``X-Instance-ID`` header and ``X-Instance-ID-Signature`` = hex
HMAC-SHA256 of the instance ID under the cloud's shared secret: a node-local proxy,
which knows which guest it serves, adds them (the tests do the same, since the tiny
test guests have no network here).  Unknown instances and paths get 404, a bad
signature 403.

The shared secret is ``[cloud] metadata_secret``; when that is empty one is generated
on first start and kept, sealed (``server.auth.secrets``), in ``DATA_DIR/metadata_secret``.

``setup(cloud)`` also registers the node health monitor, started with the cloud.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from typing import TYPE_CHECKING, Any

from server.protocol.http import Request, Response

if TYPE_CHECKING:
    from server.clc.model import Instance
    from server.cloud import Cloud

log = logging.getLogger(__name__)

#: ``/latest/...``, ``/1.0/...`` and any dated version (``/2009-04-04/...``) are answered
#: alike, from one tree (older versions only lack some of its keys).
_VERSION_PATH = re.compile(r"^/(latest|1\.0|\d{4}-\d{2}-\d{2})(/.*)?$")

#: Instances that may ask (a terminated instance's address may already be reused).
_LIVE = ("pending", "running", "stopping", "shutting-down")

Tree = dict[str, Any]  # a directory: name -> str (a leaf) or another Tree


def sign(secret: str, instance_id: str) -> str:
    """The ``X-Instance-ID-Signature`` for an instance ID (hex HMAC-SHA256)."""
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def instance_hostname(ip: str, domain: str) -> str:
    """Eucalyptus' DNS name for an instance address: ``euca-10-1-0-5.<domain>``."""
    return f"euca-{ip.replace('.', '-')}.{domain}" if ip else ""


def shared_secret(cloud: Cloud) -> str:
    """The configured secret, or the one generated on first start (kept in the data dir)."""
    configured = str(cloud.config.cloud.get("metadata_secret") or "")
    if configured:
        return configured
    path = os.path.join(cloud.data_dir, "metadata_secret")
    kept = cloud.secrets.read_file(path, "metadata_secret")  # sealed at rest
    if kept:
        return kept
    fresh = secrets.token_hex(32)
    cloud.secrets.write_file(path, "metadata_secret", fresh)
    return fresh


class MetadataService:
    """Serves the EC2 instance metadata paths to instances (claimed by path, unsigned)."""

    path = ""
    signing_names: tuple[str, ...] = ()

    def __init__(self, cloud: Cloud, secret: str):
        self.cloud = cloud
        self.secret = secret

    def claims(self, request: Request) -> bool:
        """``/latest/...`` and ``/<version>/...`` GETs that are not signed API requests.

        Signed requests are left to the services (a path-style S3 bucket named
        ``latest`` still works for its owner); instances never sign.
        """
        if request.method not in ("GET", "HEAD") or not _VERSION_PATH.match(request.path):
            return False
        if request.header("authorization") or "X-Amz-" in request.query_string \
                or "Signature=" in request.query_string:
            return False
        return True

    # -- who is asking --------------------------------------------------------------
    def caller(self, request: Request) -> Instance | None:
        """The instance that asks, or None; raises PermissionError on a bad signature."""
        instances = self.cloud.clc.instances
        claimed = request.header("x-instance-id")
        if claimed:
            signature = request.header("x-instance-id-signature")
            # Compared as bytes: compare_digest refuses non-ASCII text, and a header may
            # carry any byte.
            if not hmac.compare_digest(signature.lower().encode("utf-8", "surrogateescape"),
                                       sign(self.secret, claimed).encode()):
                raise PermissionError("bad X-Instance-ID-Signature")
            inst = instances.get(claimed)
            return inst if inst is not None and inst.state in _LIVE else None
        address = request.client
        if not address:
            return None
        for inst in instances.values():
            if inst.private_ip == address and inst.state in _LIVE:
                return inst
        return None

    # -- what it is told ------------------------------------------------------------
    def tree(self, inst: Instance) -> Tree:
        """The ``meta-data/`` directory of one instance."""
        clc = self.cloud.clc
        domain = str(self.cloud.config.cloud.get("dns_domain") or "eucalyptus.internal")
        local = instance_hostname(inst.private_ip, domain)
        public = instance_hostname(inst.public_ip, domain) or local
        image = clc.images.get(inst.image_id)
        root = inst.root_device_name or "/dev/sda1"
        devices: Tree = {"ami": root.removeprefix("/dev/"), "root": root}
        ebs = [b for b in inst.block_devices if b.get("volume_id")]
        for n, bdm in enumerate(ebs, 1):
            devices[f"ebs{n}"] = str(bdm.get("device", "")).removeprefix("/dev/")
        data: Tree = {
            "ami-id": inst.image_id,
            "ami-launch-index": str(inst.launch_index),
            "ami-manifest-path": image.location if image is not None else "",
            "block-device-mapping": devices,
            "hostname": local,
            "instance-id": inst.id,
            "instance-type": inst.vm_type,
            "local-hostname": local,
            "local-ipv4": inst.private_ip,
            "mac": inst.mac,
            "placement": {"availability-zone": inst.zone},
            "public-hostname": public,
            "public-ipv4": inst.public_ip,
            "reservation-id": inst.reservation_id,
            "security-groups": "\n".join(g[1] for g in inst.groups),
        }
        if inst.kernel_id:
            data["kernel-id"] = inst.kernel_id
        if inst.ramdisk_id:
            data["ramdisk-id"] = inst.ramdisk_id
        key = clc.key_pairs.get((inst.account_id, inst.key_name)) if inst.key_name else None
        if key is not None:
            data["public-keys"] = {f"0={key.name}": {"openssh-key": key.public_key}}
        iam = self.iam(inst)
        if iam:
            data["iam"] = iam
        return {k: v for k, v in data.items() if v != ""}

    def iam(self, inst: Instance) -> Tree:
        """``iam/info`` and ``iam/security-credentials/ROLE`` for an instance profile.

        The credentials are the role's, from STS, renewed before they expire; a role whose
        trust policy does not admit ``ec2.amazonaws.com`` gets none (as on EC2).
        """
        if not inst.iam_profile:
            return {}
        from server.auth.sts import trust_allows

        identity = self.cloud.identity
        arn, profile_id = inst.iam_profile[0], inst.iam_profile[1]
        name = arn.rsplit("/", 1)[-1]
        profile = identity.roles.profiles.get((inst.account_id, name))
        now = _stamp(self.cloud.clock.now())
        info = {"Code": "Success", "LastUpdated": now, "InstanceProfileArn": arn,
                "InstanceProfileId": profile_id}
        tree: Tree = {"info": json.dumps(info, indent=2)}
        role = None
        if profile is not None and profile.profile_id == profile_id and profile.roles:
            role = identity.roles.roles.get((inst.account_id, profile.roles[0]))
        if role is None or not trust_allows(role.trust, "sts:AssumeRole", set(), "",
                                            service="ec2.amazonaws.com"):
            return tree
        session, token = identity.sessions.for_instance(inst.id, inst.account_id, role.name)
        self.cloud.store.flush()  # a newly issued session must survive a restart
        creds = {"Code": "Success", "LastUpdated": _stamp(session.created),
                 "Type": "AWS-HMAC", "AccessKeyId": session.key_id,
                 "SecretAccessKey": session.secret, "Token": token,
                 "Expiration": _stamp(session.expires)}
        tree["security-credentials"] = {role.name: json.dumps(creds, indent=2)}
        return tree

    @staticmethod
    def lookup(tree: Tree, parts: list[str]) -> str | Tree | None:
        """Walk a path in a tree; ``public-keys/0`` finds the ``0=name`` entry as EC2 does."""
        node: str | Tree = tree
        for part in parts:
            if not isinstance(node, dict):
                return None
            if part in node:
                node = node[part]
                continue
            entry = next((k for k in node if k.split("=", 1)[0] == part and "=" in k), None)
            if entry is None:
                return None
            node = node[entry]
        return node

    @staticmethod
    def listing(tree: Tree) -> str:
        """A directory as EC2 lists it: one name a line, directories with a trailing slash."""
        out = []
        for name, value in tree.items():
            if "=" in name:  # public-keys/: "0=name" lines, no slash
                out.append(name)
            else:
                out.append(name + "/" if isinstance(value, dict) else name)
        return "\n".join(out)

    async def handle(self, request: Request) -> Response:
        """Answer one metadata request."""
        match = _VERSION_PATH.match(request.path)
        rest = (match.group(2) or "") if match else ""
        try:
            inst = self.caller(request)
        except PermissionError:
            return _text(403, "Forbidden")
        if inst is None:
            return _text(404, "Not Found")
        parts = [p for p in rest.split("/") if p]
        if not parts:
            top = ["dynamic", "meta-data"] + (["user-data"] if inst.user_data else [])
            return _text(200, "\n".join(top))
        head, tail = parts[0], parts[1:]
        if head == "user-data" and not tail:
            if not inst.user_data:
                return _text(404, "Not Found")
            return Response(200, base64.b64decode(inst.user_data),
                            content_type="application/octet-stream")
        if head == "meta-data":
            node = self.lookup(self.tree(inst), tail)
            if node is None:
                return _text(404, "Not Found")
            return _text(200, self.listing(node) if isinstance(node, dict) else node)
        if head == "dynamic":
            node = self.lookup({"instance-identity": {"document": self.identity(inst)}}, tail)
            if node is None:
                return _text(404, "Not Found")
            return _text(200, self.listing(node) if isinstance(node, dict) else node)
        return _text(404, "Not Found")

    def identity(self, inst: Instance) -> str:
        """``dynamic/instance-identity/document``: the instance's facts as JSON."""
        return json.dumps({
            "instanceId": inst.id, "imageId": inst.image_id, "instanceType": inst.vm_type,
            "availabilityZone": inst.zone, "privateIp": inst.private_ip,
            "accountId": inst.account_id, "architecture": inst.architecture,
            "kernelId": inst.kernel_id or None, "ramdiskId": inst.ramdisk_id or None,
            "region": self.cloud.config.cloud.get("region", ""),
            "pendingTime": inst.launch_time, "version": "2010-08-31"}, indent=2)


def _stamp(ts: float) -> str:
    """``2026-12-07T14:00:00Z``, as the metadata service writes times."""
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(status: int, body: str) -> Response:
    return Response(status, body.encode(), content_type="text/plain")


def setup(cloud: Cloud) -> None:
    """Register the metadata service and the node health monitor."""
    from server.cc.monitor import NodeHealthMonitor

    cloud.app.register(MetadataService(cloud, shared_secret(cloud)))
    monitor = NodeHealthMonitor(cloud.clock, cloud.clusters)
    cloud.components["node_monitor"] = monitor
    cloud.start_hooks.append(monitor.start)
    cloud.stop_hooks.append(monitor.stop)

