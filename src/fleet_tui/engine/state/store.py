"""`state.json`: what fleet-tui remembers per agent, loaded with recovery, saved with a backup.

Each write also refreshes `state.json.bak`, so a state file that was deleted or corrupted is
recovered from the last good one (or rebuilt from the event log) instead of being silently reset;
when neither works, commands refuse with a message naming the file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fleet_tui.engine.state.events import EventLog, has_events, log_event
from fleet_tui.engine.state.layout import Layout, write_atomic
from fleet_tui.engine.state.locks import state_lock
from fleet_tui.errors import EnvironmentProblem


class Phase(StrEnum):
    """Where an agent is in its life, as fleet-tui left it (its status is read live)."""

    NEW = "new"  # declared, never started
    QUEUED = "queued"  # waiting for its dependencies to be merged
    RUNNING = "running"  # started by fleet-tui (it may since have ended by itself)
    STOPPED = "stopped"  # stopped by `fleet-tui down`: the next `up` starts it again
    KILLED = "killed"
    MERGED = "merged"


class AgentState(BaseModel):
    """What fleet-tui remembers about an agent between runs."""

    # validate_assignment: `record.phase = "killed"` stores Phase.KILLED, and a typo fails at once.
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    phase: Phase = Phase.NEW
    run: int = 0  # increases at every start; the launcher stamps its exit code with it
    restarts: int = 0
    started_at: float | None = None
    branch_start: str | None = None  # the commit the branch was created at
    needs_human: bool = False


class FleetState(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    schema_version: int = Field(1, alias="schema")
    base: str | None = None  # pinned at the first `up`: checking out another branch moves nothing
    agents: dict[str, AgentState] = Field(default_factory=dict)

    def agent(self, name: str) -> AgentState:
        return self.agents.setdefault(name, AgentState())


class StateUnreadable(EnvironmentProblem):
    """state.json (and its backup) cannot be read, and the event log cannot rebuild it."""


def _parse_state(path: Path) -> tuple[FleetState | None, str]:
    """(state, "") when the file is a valid state; (None, why) when missing or invalid."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"unreadable ({exc.strerror})"
    try:
        return FleetState.model_validate_json(raw), ""
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        return None, f"not a valid state file ({where}: {first['msg']})"


def _state_text(state: FleetState) -> str:
    return state.model_dump_json(by_alias=True, indent=2) + "\n"


def load_state(layout: Layout) -> FleetState:
    """The fleet's state; a missing or corrupt state.json is recovered, never silently reset.

    Recovery order: the backup written with the last good state, else a rebuild from the event log.
    A fleet that was never brought up (no state, no backup, no events) starts from an empty state.
    Raises StateUnreadable when the state is damaged and nothing can stand in for it.
    """
    state, why = _parse_state(layout.state_file)
    if state is not None:
        return state
    backup, why_backup = _parse_state(layout.backup_file)
    if backup is None and why == why_backup == "missing" and not _ever_up(layout):
        return FleetState()  # never brought up: nothing to recover
    source = f"its backup {layout.backup_file.name}"
    if backup is None:
        backup = rebuild_from_events(layout)
        source = f"the event log {layout.events_file.name}"
    if backup is None:
        raise StateUnreadable(
            f"{layout.state_file} is {why}, its backup {layout.backup_file.name} is {why_backup}, "
            f"and the event log cannot tell the fleet's base branch; nothing was changed",
            f"repair the JSON in {layout.state_file}, or replace it with "
            '{"schema": 1, "base": "<the base branch>"} to carry on from there',
        )
    _recover(layout, backup, f"{layout.state_file.name} was {why}: recovered from {source}")
    return backup


# What watching a fleet logs (a supervisor about itself, the session, what it saw): a supervisor
# started on a fleet never brought up (by a dashboard or `watch`) writes these, and that must not
# make the fleet look damaged. Every other event means the fleet was up.
WATCH_EVENTS = frozenset(
    {"supervisor-started", "supervisor-stopped", "session-down", "session-up", "status", "drift", "overlap",
     "attention"}
)  # fmt: skip


def _ever_up(layout: Layout) -> bool:
    """Whether the event log says the fleet was ever brought up (anything but watching it)."""
    return has_events(layout) and any(e.event not in WATCH_EVENTS for e in EventLog(layout).read())


def _recover(layout: Layout, state: FleetState, message: str) -> None:
    """Put the recovered state back in place (once: the next load reads it) and say so in the log."""
    with contextlib.suppress(OSError, EnvironmentProblem), state_lock(layout, timeout=5.0):
        current, _ = _parse_state(layout.state_file)
        if current is not None:
            return  # another process repaired it meanwhile
        write_atomic(layout.state_file, _state_text(state))
        log_event(layout, None, "state-recovered", message=message, base=state.base)


def rebuild_from_events(layout: Layout) -> FleetState | None:
    """The state as far as the event log tells it; None when it does not say which base was pinned."""
    state = FleetState()
    for event in EventLog(layout).read():
        details = event.details
        if isinstance(details.get("base"), str) and event.event in ("up", "merged", "state-recovered"):
            state.base = details["base"]
        if event.agent is None:
            continue
        if event.event == "removed":  # out of the fleet file: a later agent of that name starts afresh
            state.agents.pop(event.agent, None)
            continue
        record = state.agent(event.agent)
        run = details.get("run")
        if event.event == "started":
            record.phase, record.started_at = Phase.RUNNING, event.time
            record.run = run if isinstance(run, int) else record.run + 1
        elif event.event == "restart":
            record.phase, record.started_at, record.needs_human = Phase.RUNNING, event.time, False
            record.run = run if isinstance(run, int) else record.run + 1
            attempt = details.get("attempt")
            record.restarts = attempt if isinstance(attempt, int) else record.restarts + 1
        elif event.event == "stopped":
            record.phase = Phase.STOPPED
        elif event.event == "kill" and record.phase != Phase.MERGED:
            record.phase = Phase.KILLED
        elif event.event == "merged":
            record.phase = Phase.MERGED
        elif event.event == "needs-human":
            record.needs_human = True
    return state if state.base else None


def pinned_base(root: Path) -> str | None:
    """The base branch the fleet was brought up on, if it has been (StateUnreadable if unknowable)."""
    return load_state(Layout(root=root, worktree_root=root)).base


def save_state(layout: Layout, state: FleetState) -> None:
    """Write state.json and its backup (the last good state), each atomically."""
    text = _state_text(state)
    write_atomic(layout.state_file, text)
    write_atomic(layout.backup_file, text)


@contextlib.contextmanager
def update_state(layout: Layout) -> Iterator[FleetState]:
    """Read the state under the lock, let the caller change it, write it back (not on an error)."""
    with state_lock(layout):
        state = load_state(layout)
        yield state
        save_state(layout, state)
