"""The installed ``euca-tui`` in a real terminal (tmux), read back with capture-pane."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

EUCA_TUI = Path(sys.executable).parent / "euca-tui"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """A detached tmux session on a private server socket."""

    def __init__(self, command: str) -> None:
        self.socket = f"euca-tui-test-{uuid.uuid4().hex[:8]}"
        self.tmux("new-session", "-d", "-x", "160", "-y", "45", command)

    def tmux(self, *args: str) -> str:
        """Run a tmux command against this session's server."""
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              timeout=10).stdout

    def screen(self) -> str:
        """The visible text."""
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        """Type keys (tmux key names)."""
        self.tmux("send-keys", *keys)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        """Wait until ``text`` is on screen; return the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen()}")

    def alive(self) -> bool:
        """Whether the session (the app) is still running."""
        return subprocess.run(["tmux", "-L", self.socket, "has-session"], capture_output=True).returncode == 0

    def close(self) -> None:
        """Kill the session's tmux server (only ours: it has its own socket)."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def server(make_cloud: Any) -> Any:
    """A fresh cloud, as after its first start (this test stops and restarts it)."""
    return make_cloud()


@pytest.fixture
def terminal(server: Any) -> Iterator[Terminal]:
    """``euca-tui`` started as a new user would: only EUCA_CONFIG_PATH points at the cloud."""
    term = Terminal(f"env -u EC2_URL -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY TERM=xterm-256color "
                    f"EUCA_CONFIG_PATH={server.ini} {EUCA_TUI} --interval 0.5")
    yield term
    term.close()


def instance_lines(screen: str) -> list[str]:
    """The instance rows on screen."""
    return [line for line in screen.splitlines() if line.strip().startswith("i-")]


def test_installed_euca_tui_in_tmux(terminal: Terminal, server: Any) -> None:
    """The whole first-day flow in a real terminal: image and capacity, launch three and watch
    them run, terminate one, lose the server and get it back; q quits."""
    screen = terminal.wait_for("● connected")
    assert "1 Instances" in screen and "2 Capacity" in screen and "q Quit" in screen
    terminal.keys("3")
    screen = terminal.wait_for("default-image")
    assert "emi-" in screen
    terminal.keys("2")
    screen = terminal.wait_for("m1.small")
    assert "zone-1" in screen and "0032" in screen and "zone-1-node-01" in screen

    terminal.keys("1")
    terminal.wait_for("l Launch")
    terminal.keys("l")
    terminal.wait_for("Launch instances")
    terminal.keys("3", "Enter")
    deadline = time.monotonic() + 20
    seen_pending = False
    while time.monotonic() < deadline:
        lines = instance_lines(terminal.screen())
        seen_pending |= any(" pending " in line for line in lines)
        if len(lines) == 3 and all(" running " in line for line in lines):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"three running instances never showed:\n{terminal.screen()}")
    assert seen_pending, "the launch never showed pending"

    terminal.keys("t")
    terminal.wait_for("Terminate instance i-")
    terminal.keys("y")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        states = [line.split()[1:2] for line in instance_lines(terminal.screen())]
        if ["running"] in states and (["shutting-down"] in states or ["terminated"] in states):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"termination never showed:\n{terminal.screen()}")

    server.stop()
    screen = terminal.wait_for("UNREACHABLE")
    assert "retrying" in screen
    server.start()
    terminal.wait_for("● connected", timeout=30)

    terminal.keys("?")
    terminal.wait_for("Key bindings")
    # Escape and q typed together would arrive as alt+q: let the help close first.
    terminal.keys("Escape")
    deadline = time.monotonic() + 10
    while "Key bindings" in terminal.screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    terminal.keys("q")
    deadline = time.monotonic() + 10
    while terminal.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not terminal.alive(), "q did not quit"
