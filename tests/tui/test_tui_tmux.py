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
def terminal(cloud: Any) -> Iterator[Terminal]:
    """``euca-tui`` started with only EUCA_CONFIG_PATH pointing at the cloud."""
    term = Terminal(f"env -u EC2_URL -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY TERM=xterm-256color "
                    f"EUCA_CONFIG_PATH={cloud.ini} {EUCA_TUI} --interval 0.5")
    yield term
    term.close()


def test_installed_euca_tui_in_tmux(terminal: Terminal, cloud: Any) -> None:
    """The dashboard draws, switches views by key, shows image and capacity, and quits with q."""
    screen = terminal.wait_for("● connected")
    assert "1 Instances" in screen and "2 Capacity" in screen and "q Quit" in screen
    terminal.keys("3")
    screen = terminal.wait_for("default-image")
    assert "emi-" in screen
    terminal.keys("2")
    screen = terminal.wait_for("m1.small")
    assert "zone-1" in screen and "0032" in screen and "zone-1-node-01" in screen
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
