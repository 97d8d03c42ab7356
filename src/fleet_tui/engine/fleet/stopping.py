"""Stopping agents: polite exit keys, then the whole process tree ended; and `down`, which stops
every agent (work snapshotted first) and the fleet's tmux session."""

from __future__ import annotations

import contextlib
import time
from typing import NamedTuple

from fleet_tui.adapters import processes
from fleet_tui.adapters.tmux import require_tmux
from fleet_tui.engine.fleet.core import FleetCore
from fleet_tui.engine.launcher import AGENT_MARKER, agent_id
from fleet_tui.engine.state import (
    Phase,
    load_state,
    log_event,
    read_exit,
    up_lock,
    update_state,
)
from fleet_tui.errors import ExternalCommandFailed
from fleet_tui.models import PaneReading

EXIT_KEY_PAUSE = 0.15  # seconds after a control key among the exit keys (see _send_exit_keys)


class Stopped(NamedTuple):
    """How many of an agent's processes ended on SIGTERM, and how many needed SIGKILL."""

    terminated: int
    killed: int


def stop_agent(fleet: FleetCore, name: str, pane: PaneReading | None, grace: float = 3.0) -> Stopped:
    """Polite exit keys, then SIGTERM, then SIGKILL, for every process of the agent: its pane's
    whole tree, and any process marked as this agent's that left it (setsid, a lost session).

    Returns (processes that ended on SIGTERM, processes that needed SIGKILL).
    """
    terminated = killed = 0
    leader = pane.pid if pane is not None else None
    if pane is not None and leader is not None:
        keys = fleet.agent(name).preset.exit_keys
        if not pane.dead and keys:
            with contextlib.suppress(ExternalCommandFailed):  # the pane died meanwhile
                _send_exit_keys(fleet, pane.pane_id, keys)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                if not processes.alive({leader}) or not (processes.tree(leader) - {leader}):
                    break
                time.sleep(0.1)
        result = processes.stop_tree(leader, grace)
        terminated, killed = len(result.terminated), len(result.killed)
        # The leader is the launcher: it records the exit code and ends. A leader that stays
        # (a placeholder, or a launcher that hangs) is ended too.
        deadline = time.monotonic() + 2.0
        while not pane.dead and processes.alive({leader}) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not pane.dead and processes.alive({leader}):
            last = processes.stop_tree(leader, grace, spare_leader=False)
            terminated += len(last.terminated)
            killed += len(last.killed)
    strays = processes.with_env(AGENT_MARKER, agent_id(fleet.layout, name)) - {leader or -1}
    rest = processes.stop_pids(strays, grace)
    return Stopped(terminated + len(rest.terminated), killed + len(rest.killed))


def _send_exit_keys(fleet: FleetCore, pane_id: str, keys: tuple[str, ...]) -> None:
    """Send exit keys in groups, pausing after each control key: a Ctrl-C makes the terminal
    flush its pending input, so keys sent right behind it are lost ("xit: command not found")."""
    group: list[str] = []
    for key in keys:
        group.append(key)
        if key.startswith(("C-", "M-")):
            fleet.tmux.send_keys(pane_id, *group)
            group = []
            time.sleep(EXIT_KEY_PAUSE)
    if group:
        fleet.tmux.send_keys(pane_id, *group)


def down(fleet: FleetCore, grace: float = 3.0, *, force: bool = False) -> bool:
    """Stop every agent (work snapshotted first) and the fleet's tmux session; worktrees,
    branches and state stay. Nothing of the agents keeps running headless.

    A snapshot that cannot be written (a full disk, a folder that is no worktree any more)
    does not keep its agent running: `unsaved` names them afterwards. `force`: go on even
    when `.fleet/` cannot be written (no lock, no event), the way out of a full disk."""
    require_tmux()
    fleet.require_own_session()
    fleet.unsaved = []
    if force:
        try:
            with up_lock(fleet.layout):
                return _down(fleet, grace, force=True)
        except OSError:
            return _down(fleet, grace, force=True)
    with up_lock(fleet.layout):
        return _down(fleet, grace)


def _down(fleet: FleetCore, grace: float, *, force: bool = False) -> bool:
    panes = {p.agent: p for p in fleet.tmux.list_panes(fleet.session)}
    state = load_state(fleet.layout)
    for agent in fleet.agents:
        if agent.name in panes or processes.with_env(AGENT_MARKER, agent_id(fleet.layout, agent.name)):
            try:
                fleet.snapshot_work(agent.name, "before down")
            except (ExternalCommandFailed, OSError) as exc:
                reason = exc.message if isinstance(exc, ExternalCommandFailed) else str(exc)
                fleet.unsaved.append(f"{agent.name}: {reason}")
            pane = panes.get(agent.name)
            record = state.agent(agent.name)
            # A working agent is stopped, not ended: the next `up` starts it again (resumed).
            working = (
                pane is not None
                and not pane.dead
                and record.phase == Phase.RUNNING
                and read_exit(fleet.layout, agent.name, record.run) is None
            )
            stop_agent(fleet, agent.name, pane, grace)
            if working:
                try:
                    with update_state(fleet.layout) as fresh:
                        fresh.agent(agent.name).phase = Phase.STOPPED
                    log_event(fleet.layout, agent.name, "stopped", run=record.run, by="down")
                except OSError:
                    if not force:  # forced: stopping matters more than recording it
                        raise
    stopped = fleet.tmux.kill_session(fleet.session)
    if stopped:
        try:
            log_event(fleet.layout, None, "down", unsaved=fleet.unsaved)
        except OSError:
            if not force:
                raise
    return stopped
