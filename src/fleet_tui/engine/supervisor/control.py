"""Is the supervisor running, what did it publish, and starting and stopping it.

Exactly one supervisor runs per fleet: it holds an flock on `.fleet/supervisor.lock` for its
lifetime, which is also how others tell whether it runs (no pid file to go stale). Its heartbeat
(`.fleet/supervisor.json`) says how fresh its picture is.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass

from pydantic import ValidationError

from fleet_tui.adapters import processes
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.launcher import AGENT_MARKER
from fleet_tui.engine.state import Layout, lock_held
from fleet_tui.errors import EnvironmentProblem
from fleet_tui.models import AgentSnapshot, FleetSnapshot

HEARTBEAT_EVERY = 1.0  # seconds between heartbeats (each tick writes one at most this often)
STALE_AFTER = 5.0  # a heartbeat older than this: the picture is stale (the UI says so)
START_WAIT = 10.0  # seconds `up` waits for a started supervisor to publish its first snapshot


@dataclass(frozen=True)
class SupervisorStatus:
    running: bool
    pid: int | None = None
    started_at: float | None = None
    heartbeat: float | None = None

    def fresh(self, now: float | None = None) -> bool:
        """Running and heard from within STALE_AFTER seconds."""
        now = time.time() if now is None else now
        return self.running and self.heartbeat is not None and now - self.heartbeat <= STALE_AFTER

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if not self.running:
            return "not running (start it with `fleet-tui up`)"
        since = time.strftime("%H:%M:%S", time.localtime(self.started_at)) if self.started_at else "?"
        words = f"running (pid {self.pid}, since {since})"
        if not self.fresh(now):
            age = f"{now - self.heartbeat:.0f} s ago" if self.heartbeat else "never"
            words += f", but its last reading was {age}"
        return words


def status(layout: Layout) -> SupervisorStatus:
    """Whether the fleet's supervisor runs, and what it last said about itself."""
    running = lock_held(layout.supervisor_lock, holder="exclusive")
    try:
        info = json.loads(layout.supervisor_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict):
        info = {}

    def number(key: str) -> float | None:
        value = info.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    pid = number("pid")
    return SupervisorStatus(
        running=running,
        pid=int(pid) if pid is not None and running else None,
        started_at=number("started_at") if running else None,
        heartbeat=number("heartbeat") if running else None,
    )


class SnapshotReader:
    """Reads `.fleet/snapshot.json` again only when it was replaced (one stat per look), and
    builds again only the agents that changed: one agent with 23,000 untracked files made every
    publish (one a second while any agent works) cost the dashboard 0.1 s of validation."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._key: tuple[int, int, int] | None = None
        self.snapshot: FleetSnapshot | None = None
        self._agents: dict[str, tuple[object, AgentSnapshot]] = {}  # name -> (its JSON, its model)

    def _parse(self, raw: bytes) -> FleetSnapshot:
        data = json.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("agents"), list):
            raise ValueError("not a fleet snapshot")
        agents, known = [], {}
        for item in data["agents"]:
            name = item.get("name") if isinstance(item, dict) else None
            last = self._agents.get(name) if isinstance(name, str) else None
            # the same JSON as last time: the same (immutable) model, not validated again
            agent = last[1] if last is not None and last[0] == item else AgentSnapshot.model_validate(item)
            agents.append(agent)
            known[agent.name] = (item, agent)
        snapshot = FleetSnapshot.model_validate({**data, "agents": agents})
        self._agents = known
        return snapshot

    def read(self) -> tuple[FleetSnapshot | None, bool]:
        """(the latest published snapshot, whether it is new since the last read)."""
        try:
            st = self.layout.snapshot_file.stat()
        except OSError:
            return self.snapshot, False
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        if key == self._key:
            return self.snapshot, False
        try:
            snapshot = self._parse(self.layout.snapshot_file.read_bytes())
        except (OSError, ValueError, ValidationError):
            return self.snapshot, False  # a damaged file: the next publish replaces it
        self._key, self.snapshot = key, snapshot
        return snapshot, True


def published(layout: Layout) -> FleetSnapshot | None:
    """The supervisor's latest snapshot, when it runs and is fresh; None otherwise."""
    state = status(layout)
    if not state.fresh():
        return None
    snapshot, _ = SnapshotReader(layout).read()
    if snapshot is None:
        return None
    return snapshot.model_copy(update={"taken_at": max(snapshot.taken_at, state.heartbeat or 0.0)})


def supervisor_argv(fleet: Fleet) -> list[str]:
    return [sys.executable, "-m", "fleet_tui", "supervise", "-C", str(fleet.root), "-f", str(fleet.spec.path)]


def start(fleet: Fleet, wait: float = START_WAIT) -> SupervisorStatus:
    """Start the fleet's supervisor unless it runs; wait until it published a snapshot."""
    layout = fleet.layout
    current = status(layout)
    if current.running:
        return current
    env = {k: v for k, v in os.environ.items() if k not in (AGENT_MARKER, "TMUX", "TMUX_PANE")}
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    processes.spawn_detached(supervisor_argv(fleet), fleet.root, env, layout.state_dir / "supervisor.out")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        current = status(layout)
        if current.running and current.heartbeat is not None:
            return current
        time.sleep(0.05)
    raise EnvironmentProblem(
        f"the supervisor of fleet {fleet.name!r} did not start within {wait:g} s",
        f"see {layout.supervisor_log} and {layout.state_dir / 'supervisor.out'}",
    )


def stop(layout: Layout, timeout: float = 10.0) -> bool:
    """Stop the supervisor (SIGTERM, then SIGKILL); True when one was running."""
    current = status(layout)
    if not current.running or current.pid is None:
        return False
    processes.signal_pid(current.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while lock_held(layout.supervisor_lock, holder="exclusive"):
        if time.monotonic() > deadline:
            processes.signal_pid(current.pid, signal.SIGKILL)
            time.sleep(0.2)
            break
        time.sleep(0.05)
    return True
