"""What every steering action shares: changing one agent's record, needing its worktree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import AgentState, update_state
from fleet_tui.errors import ActionRefused

DEFAULT_GRACE = 3.0  # seconds between the polite exit, SIGTERM and SIGKILL


def update_record(fleet: Fleet, name: str, change: Callable[[AgentState], None]) -> AgentState:
    """Re-read the state, change one agent, write it back: other writers' changes survive."""
    with update_state(fleet.layout) as state:
        record = state.agent(name)
        change(record)
    return record


def require_worktree(fleet: Fleet, name: str) -> Path:
    path = fleet.layout.worktree(name)
    if not path.exists():
        raise ActionRefused(f"the worktree of {name} ({path}) does not exist", "run `fleet-tui up` first")
    problem = fleet.worktree_problem(name)
    if problem:  # git run there would act on an enclosing repository, not on this agent
        raise ActionRefused(f"{problem}; nothing was done", "move the folder away, then `fleet-tui up`")
    return path
