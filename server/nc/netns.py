"""Running node network commands in the zone's network namespace (or the host's own).

A zone's ``network_namespace`` names a namespace made with ``ip netns add`` (tests,
``scripts/netns-node.sh``); empty means the node's own namespace (a real node).  Sockets
are opened inside a namespace by a thread that enters it with ``setns(2)``, which in
Linux changes only the calling thread's network namespace.
"""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence

CLONE_NEWNET = 0x40000000


class CommandError(RuntimeError):
    """A network command failed (its stderr is the message)."""


def run(args: Sequence[str], netns: str = "", stdin: str | None = None,
        check: bool = True) -> str:
    """Run a command in ``netns`` (the current namespace when empty); its stdout."""
    argv = ["ip", "netns", "exec", netns, *args] if netns else list(args)
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30,
                          check=False)
    if check and proc.returncode != 0:
        raise CommandError(f"{' '.join(args)}: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout


def ip(args: Sequence[str], netns: str = "", check: bool = True) -> str:
    """``ip [-n NETNS] ARGS`` (``-n`` needs no exec, so it is cheaper than :func:`run`)."""
    return run(["ip", *(["-n", netns] if netns else []), *args], check=check)


def socket_in(netns: str, make: Callable[[], socket.socket]) -> socket.socket:
    """A socket made by ``make`` inside ``netns`` (it stays there once made)."""
    if not netns:
        return make()
    made: list[socket.socket] = []
    errors: list[BaseException] = []

    def enter_and_make() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
        try:
            if libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {netns}")
            try:
                made.append(make())
            finally:
                if libc.setns(own, CLONE_NEWNET) != 0:  # never keep a thread in there
                    raise OSError(ctypes.get_errno(), "setns back")
        except BaseException as exc:  # reported to the caller's thread
            errors.append(exc)
        finally:
            os.close(own)
            os.close(target)

    # A thread of its own: should returning fail, only that thread is left inside.
    worker = threading.Thread(target=enter_and_make, name=f"netns-{netns}")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return made[0]


def listen_in(netns: str, address: str, port: int) -> socket.socket:
    """A listening TCP socket bound inside ``netns``."""
    return socket_in(netns, lambda: socket.create_server((address, port)))
