"""The retrospective's readings: the event log, what each agent's branch changed, the prediction."""

from __future__ import annotations

import time

from fleet_tui.adapters import git
from fleet_tui.coupling import HISTORY
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.planning import read_coupling
from fleet_tui.engine.state import load_state, read_events
from fleet_tui.errors import FleetError
from fleet_tui.report import FleetReport, build_report, predicted_collisions


def changed_files(fleet: Fleet) -> dict[str, list[str]]:
    """Every file each agent changed: its branch since it was created, plus its uncommitted work
    while the worktree is there (a merged agent's branch still says what it changed)."""
    state = load_state(fleet.layout)
    found: dict[str, list[str]] = {}
    for agent in fleet.agents:
        record = state.agents.get(agent.name)
        files: set[str] = set()
        if record and record.branch_start and git.branch_exists(fleet.root, agent.branch):
            files |= git.changed_between(fleet.root, record.branch_start, agent.branch)
        path = fleet.layout.worktree(agent.name)
        if path.exists() and not (record and record.phase == "merged"):
            files |= {f.path for f in git.read_worktree(path, fleet.base).files}
        found[agent.name] = sorted(files)
    return found


def _running(fleet: Fleet) -> bool:
    try:
        return fleet.tmux.session_exists(fleet.session)
    except (FleetError, OSError):
        return False  # no tmux: nothing runs


def fleet_report(fleet: Fleet, *, history: int = HISTORY, now: float | None = None) -> FleetReport:
    """The retrospective of this fleet. While its tmux session runs, open statuses last until now."""
    events = read_events(fleet.layout)
    if now is None and _running(fleet):
        now = time.time()
    plan = fleet.plan()
    try:
        coupled = read_coupling(fleet, plan, history=history).pairs
    except FleetError:
        coupled = ()  # a report without the history's prediction is still a report
    changed = changed_files(fleet)
    drift = {name: [f for f in files if f not in fleet.scopes[name]] for name, files in changed.items()}
    return build_report(
        events,
        [a.name for a in fleet.agents],
        fleet=fleet.name,
        base=fleet.base,
        now=now,
        changed=changed,
        drift=drift,
        predicted=predicted_collisions(plan.overlaps, coupled),
    )
