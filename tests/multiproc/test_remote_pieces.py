"""The pieces of the remote ports without processes: signatures, messages, command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.nc.types import BlockDevice, InstanceEvent, InstanceSpec, InstanceState, Resources
from server.remote import wire
from server.remote.registration import parse_addresses, parse_components
from server.remote.signing import Keyring, Refused

BIN = Path(sys.executable).parent


def test_signature_holds_only_for_the_signed_request(tmp_path: Path) -> None:
    now = [1000.0]
    cc = Keyring(str(tmp_path), "cc-zone-a", accept=("clc",), now=lambda: now[0])
    clc = Keyring(str(tmp_path), "clc", now=lambda: now[0])
    headers = clc.sign("POST", "/cc/state", b"body")
    for method, path, body in (("POST", "/cc/state", b"other"), ("POST", "/cc/place", b"body"),
                               ("GET", "/cc/state", b"body")):
        with pytest.raises(Refused, match="does not match"):
            cc.verify(method, path, body, headers)
    with pytest.raises(Refused, match="does not match"):
        cc.verify("POST", "/cc/state", b"body", dict(headers, **{"x-euca-nonce": "other"}))
    assert cc.verify("POST", "/cc/state", b"body", headers) == "clc"
    with pytest.raises(Refused, match="replay"):  # the same request again, within the window
        cc.verify("POST", "/cc/state", b"body", headers)
    now[0] += 601  # its nonce is forgotten once its timestamp can no longer pass
    assert cc.verify("POST", "/cc/state", b"body", clc.sign("POST", "/cc/state", b"body"))
    assert len(cc._seen) == 1
    now[0] -= 601
    with pytest.raises(Refused, match="not signed"):
        cc.verify("POST", "/cc/state", b"body", {})
    now[0] += 301  # outside the 300 s window
    with pytest.raises(Refused, match="window"):
        cc.verify("POST", "/cc/state", b"body", headers)


def test_only_accepted_components_with_keys_may_call(tmp_path: Path) -> None:
    nc = Keyring(str(tmp_path), "nc-node-1", accept=("cc-",))
    clc = Keyring(str(tmp_path), "clc")
    with pytest.raises(Refused, match="may not call"):
        nc.verify("POST", "/node/state", b"", clc.sign("POST", "/node/state", b""))
    stranger = Keyring(str(tmp_path / "elsewhere"), "cc-zone-x")  # its key is not shared
    with pytest.raises(Refused, match="unknown component"):
        nc.verify("POST", "/node/state", b"", stranger.sign("POST", "/node/state", b""))
    forged = dict(clc.sign("POST", "/node/state", b""), **{"x-euca-component": "cc-zone-a"})
    Keyring(str(tmp_path), "cc-zone-a")
    with pytest.raises(Refused, match="does not match"):
        nc.verify("POST", "/node/state", b"", forged)


def test_keys_are_private_files(tmp_path: Path) -> None:
    Keyring(str(tmp_path), "clc")
    assert (tmp_path / "clc.key").stat().st_mode & 0o077 == 0
    with pytest.raises(ValueError):
        Keyring(str(tmp_path), "../escape")


def test_messages_round_trip() -> None:
    spec = InstanceSpec("i-1", "m1.small", Resources(1, 256, 5), image_id="emi-1",
                        user_data=b"\x00\xffdata", groups=("sg-1",),
                        block_devices=(BlockDevice("/dev/sdf", "vol-1", "/v/1", 1),),
                        metadata={"a": "b"}, image_source={"manifest": "u"})
    assert wire.to_spec(wire.loads(wire.dumps(wire.spec(spec)))) == spec
    event = InstanceEvent("i-1", "node-1", InstanceState.RUNNING, 12.5, "why")
    assert wire.to_event(wire.loads(wire.dumps(wire.event(event)))) == event
    with pytest.raises(ValueError):
        wire.loads(b"\xff\xff")


def test_command_line_values() -> None:
    assert parse_components("clc,walrus") == {"clc", "walrus"}
    assert parse_addresses(("zone-a=10.0.0.2:8773",), "cluster") == {"zone-a": "10.0.0.2:8773"}
    with pytest.raises(ValueError, match="unknown"):
        parse_components("clc,bogus")
    with pytest.raises(ValueError, match="exactly one"):
        parse_components("cc,nc")
    with pytest.raises(ValueError, match="NAME=HOST:PORT"):
        parse_addresses(("zone-a",), "cluster")


@pytest.mark.parametrize("args, message", [
    (["--components", "nc", "--zone", "z"], "--node-name is required"),
    (["--components", "cc"], "--zone is required"),
    (["--cluster", "z=h:1"], "need --components"),
    (["--components", "clc", "--cluster", "z"], "NAME=HOST:PORT"),
])
def test_bad_command_lines_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    out = subprocess.run([str(BIN / "eucalyptus-cloud"), "--data-dir", str(tmp_path), *args],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and message in out.stderr


def test_internal_server_answers_signed_operations_and_batches(tmp_path: Path) -> None:
    import asyncio

    from server.remote.http import InternalServer, RemoteError

    marks: list[str] = []

    def refuse(request: object) -> None:
        raise RemoteError("no such instance", "InstanceNotFound")

    server = InternalServer(Keyring(str(tmp_path), "nc-n1", accept=("cc-",)),
                            {"/node/echo": lambda r: r, "/node/refuse": refuse},
                            (lambda: marks.append("begin"), lambda: marks.append("end")))
    cc = Keyring(str(tmp_path), "cc-z")

    def ask(path: str, payload: object, headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, object]]:
        body = wire.dumps(payload)
        signed = cc.sign("POST", path, body) if headers is None else headers
        return asyncio.run(server.handle("POST", path, body, signed))

    assert ask("/node/echo", {"a": 1}) == (200, {"result": {"a": 1}})
    assert ask("/node/echo", {"a": 1}, {})[0] == 403
    assert ask("/node/nothing", {})[0] == 404
    status, answer = ask("/node/refuse", {})
    assert (status, answer["code"]) == (400, "InstanceNotFound")
    status, answer = ask("/batch", {"ops": [["/node/echo", 1], ["/node/refuse", {}],
                                            ["/node/echo", 2], ["/batch", {}]]})
    assert status == 200
    assert [r[0] for r in answer["result"]] == [True, False, True, False]  # type: ignore[index]
    assert marks == ["begin", "end"]
    assert ask("/batch", {"ops": "nope"})[0] == 400


def test_a_clc_new_to_a_cc_takes_each_instance_latest_state(tmp_path: Path) -> None:
    import asyncio

    from server.remote.cluster_client import RemoteCluster
    from server.remote.http import InternalClient

    loop = asyncio.new_event_loop()
    try:
        cluster = RemoteCluster("z", InternalClient("http://127.0.0.1:9", Keyring(
            str(tmp_path), "clc")), loop)
        heard: list[tuple[str, str]] = []
        cluster.listeners.append(lambda e: heard.append((e.instance_id, e.state.value)))

        def state(epoch: str, seq: int, events: list[tuple[str, str]]) -> dict[str, object]:
            return {"epoch": epoch, "seq": seq, "resources": {}, "nodes": [], "placement": {},
                    "events": [["event", wire.event(InstanceEvent(i, "n", InstanceState(s), 1.0))]
                               for i, s in events]}

        cluster._apply(state("e1", 1, [("i-0", "staging")]), views_only=True)
        assert heard == [] and cluster.epoch == ""  # the start-up sync leaves events alone
        # An EBS instance stopped and started again before this CLC heard of it: its
        # old teardown is not replayed, only its latest state.
        log = [("i-1", "staging"), ("i-1", "running"), ("i-2", "shutting-down"),
               ("i-2", "terminated"), ("i-2", "staging"), ("i-2", "running")]
        cluster._apply(state("e1", 6, log))
        assert heard == [("i-1", "running"), ("i-2", "running")]
        heard.clear()
        cluster._apply(state("e1", 8, [("i-3", "staging"), ("i-3", "running")]))
        assert heard == [("i-3", "staging"), ("i-3", "running")]  # the same CC: every event
    finally:
        cluster.stop()
        loop.close()


def test_a_reservation_never_started_is_released(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLC died between RunInstances' two requests: the CC releases the capacity."""
    import asyncio

    from server.cc.cluster import ClusterController
    from server.clock import RealClock
    from server.nc.hypervisor import make_driver
    from server.nc.node import NodeController
    from server.remote import cluster_server
    from server.remote.cluster_server import ClusterService
    from server.remote.http import RemoteError

    monkeypatch.setattr(cluster_server, "RESERVATION_SECONDS", 0.05)
    small = Resources(1, 256, 5)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        clock = RealClock(loop)
        nc = NodeController("n1", clock, make_driver("virtual", "n1", {}, clock),
                            lambda e: None)
        cc = ClusterController("z", clock, [nc])
        cc.set_vm_types({"m1.small": small})
        service = ClusterService(cc, Keyring(str(tmp_path), "cc-z"), str(tmp_path), loop)
        specs = [wire.spec(InstanceSpec(f"i-{n}", "m1.small", small)) for n in range(2)]
        assert service.place({"specs": specs, "min_count": 2}) == ["n1", "n1"]
        service.start({"specs": specs[:1]})  # the first starts; the second is left
        assert set(service.reserved) == {"i-1"}
        await asyncio.sleep(0.2)
        assert not service.reserved and cc.node_of("i-1") is None
        assert cc.node_of("i-0") is not None
        with pytest.raises(RemoteError, match="not reserved"):
            service.start({"specs": specs[1:]})

    asyncio.run(scenario())


def test_a_cc_deregisters_a_node_and_forgets_it_across_restarts(tmp_path: Path) -> None:
    """``/cc/deregister_node``: refused while the node has instances; then the node leaves
    the CC and its saved node list (what a restarted CC registers again), and asking again
    is harmless (a CLC repeats a request it queued while the CC was away)."""
    import asyncio
    import json

    from server.cc.cluster import ClusterController
    from server.clock import RealClock
    from server.nc.hypervisor import make_driver
    from server.nc.node import NodeController
    from server.remote.cluster_server import NODES_FILE, ClusterService
    from server.remote.http import RemoteError

    small = Resources(1, 256, 5)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        clock = RealClock(loop)
        ncs = [NodeController(n, clock, make_driver("virtual", n, {}, clock), lambda e: None)
               for n in ("n1", "n2")]
        cc = ClusterController("z", clock, ncs, policy="GREEDY")
        cc.set_vm_types({"m1.small": small})
        service = ClusterService(cc, Keyring(str(tmp_path), "cc-z"), str(tmp_path), loop)
        service.addresses = {"n1": "http://127.0.0.1:1", "n2": "http://127.0.0.1:2"}
        service.save_nodes()
        deregister = service.routes()["/cc/deregister_node"]
        assert cc.run_instances([InstanceSpec("i-1", "m1.small", small)], 1) == ["n1"]
        with pytest.raises(RemoteError, match=r"Node n1 still has instances \(i-1\)") as refused:
            deregister({"name": "n1"})
        assert refused.value.code == "NodeHasInstances" and "n1" in cc.by_name
        cc.terminate_instance("i-1")
        while cc.node_of("i-1") is not None:
            await asyncio.sleep(0.01)
        max_before = cc.describe_resources()["m1.small"][1]
        deregister({"name": "n1"})
        assert "n1" not in cc.by_name and [n.name for n in cc.describe_nodes()] == ["n2"]
        assert cc.describe_resources()["m1.small"][1] < max_before
        saved = json.loads((tmp_path / NODES_FILE).read_text())
        assert saved == {"nodes": {"n2": "http://127.0.0.1:2"}}
        deregister({"name": "n1"})  # already gone: nothing to do
        assert [n.name for n in cc.describe_nodes()] == ["n2"]

    asyncio.run(scenario())
