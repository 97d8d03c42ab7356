"""Shared test helpers: waiting (poll real tmux and git, or a Pilot app, until a condition holds,
instead of sleeping), comparing file trees, reading an agent's pane."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import Monitor
from fleet_tui.models import FleetSnapshot, PaneReading

T = TypeVar("T")

# The installed `fleet-tui` console script beside this interpreter: tests run it as a person would.
FLEET_TUI = str(Path(sys.executable).with_name("fleet-tui"))


def wait_for(fn: Callable[[], T], timeout: float = 20.0, interval: float = 0.1, what: str = "") -> T:
    """Call `fn` until it returns something truthy; fail with its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T = fn()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or fn}: last {last!r}")
        time.sleep(interval)
        last = fn()
    return last


def wait_snapshot(
    monitor: Monitor,
    predicate: Callable[[FleetSnapshot], bool],
    timeout: float = 20.0,
    what: str = "",
) -> FleetSnapshot:
    """Tick the monitor (re-reading git every time) until the snapshot satisfies `predicate`."""
    deadline = time.monotonic() + timeout
    while True:
        monitor.mark_dirty()
        snapshot = monitor.tick()
        if predicate(snapshot):
            return snapshot
        if time.monotonic() > deadline:
            summary = [(a.name, a.status.value, a.status_reason, a.tail[-2:]) for a in snapshot.agents]
            raise AssertionError(f"timed out waiting for {what or predicate}: {summary}")
        time.sleep(0.2)


async def until(pilot: Any, check: Callable[[], object], what: str = "", timeout: float = 30.0) -> None:
    """In a Pilot test: let the app run until `check()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        await pilot.pause(0.05)


def files_of(root: Path, skip: tuple[str, ...] = (".git",)) -> dict[str, bytes]:
    """Every file under `root` with its bytes (folders named in `skip` left out): to compare trees."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not set(skip) & set(p.relative_to(root).parts)
    }


def pane_of(fleet: Fleet, name: str) -> PaneReading:
    return next(p for p in fleet.tmux.list_panes(fleet.session) if p.agent == name)


def screen_of(fleet: Fleet, name: str) -> str:
    """The agent's pane as tmux shows it now (a fresh capture)."""
    return next(p.screen for p in fleet.tmux.read(fleet.session) if p.agent == name)


def pane_text(fleet: Fleet, name: str) -> str:
    """The agent's pane as the person would see it (tmux's own capture, no escapes)."""
    pane_id = fleet.pane_id(name)
    assert pane_id is not None
    return subprocess.run(
        ["tmux", "-L", fleet.tmux.socket, "capture-pane", "-p", "-t", pane_id],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def fleet_cli(
    fleet: Fleet, *args: str, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `fleet-tui ARGS` on this fleet (its repository and fleet file) in a process of its own."""
    return subprocess.run(
        [FLEET_TUI, "-C", str(fleet.root), "-f", str(fleet.spec.path), *args],
        input=stdin, capture_output=True, text=True, check=False, timeout=timeout,
    )  # fmt: skip


def free_port() -> int:
    """A TCP port nobody listens on right now (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
