"""Slots and the queue of waiting agents: which queued agents may start now (dependencies merged, a
free slot under max_agents), starting them, and where a run's number and phase are set."""

from __future__ import annotations

import time

from fleet_tui.adapters import git
from fleet_tui.engine.fleet.core import FleetCore
from fleet_tui.engine.state import (
    AgentState,
    FleetState,
    Phase,
    load_state,
    log_event,
    save_state,
    state_lock,
)
from fleet_tui.spec import Agent


def begin_run(record: AgentState) -> None:
    """A new run of an agent starts now: the one place a run's number, phase and start are set."""
    record.run += 1
    record.phase = Phase.RUNNING
    record.started_at = time.time()


def unmet_dependencies(fleet: FleetCore, agent: Agent, state: FleetState | None = None) -> list[str]:
    state = state or load_state(fleet.layout)
    return [d for d in agent.depends_on if not is_merged(fleet, d, state)]


def is_merged(fleet: FleetCore, name: str, state: FleetState) -> bool:
    """Merged by fleet-tui, or by hand: its branch moved and base now contains it."""
    record = state.agents.get(name)
    if record and record.phase == Phase.MERGED:
        return True
    branch = fleet.agent(name).branch
    if not git.branch_exists(fleet.root, branch):
        return False
    tip = git.rev_parse(fleet.root, branch)
    start = record.branch_start if record else None
    return tip != start and git.is_ancestor(fleet.root, tip, fleet.base)


def active_doers(fleet: FleetCore, state: FleetState) -> list[str]:
    """Doers holding a slot: started and not yet merged, killed or handed to a person."""
    return [
        a.name
        for a in fleet.spec.doers
        if state.agent(a.name).phase == Phase.RUNNING and not state.agent(a.name).needs_human
    ]


def queued_reason(fleet: FleetCore, agent: Agent, state: FleetState) -> str | None:
    """Why an agent whose dependencies are met still waits, or None when it may start."""
    if agent.is_reviewer:
        return f"reviewer of {agent.reviews}: starts when {agent.reviews}'s gates pass"
    limit = fleet.spec.settings.max_agents
    if limit is not None and len(active_doers(fleet, state)) >= limit:
        return f"waiting for a free slot (max_agents = {limit})"
    return None


def start_ready(fleet: FleetCore) -> list[str]:
    """Start queued agents whose dependencies are now merged, as slots allow (max_agents), in
    file order; reviewers are started by the pipeline, not here. Returns what it did."""
    with state_lock(fleet.layout):
        return _start_ready(fleet)


def _start_ready(fleet: FleetCore) -> list[str]:
    state = load_state(fleet.layout)
    panes = {p.agent: p.pane_id for p in fleet.panes()}
    done: list[str] = []
    for agent in fleet.agents:
        record = state.agent(agent.name)
        if record.phase != Phase.QUEUED or agent.name not in panes:
            continue
        if unmet_dependencies(fleet, agent, state) or queued_reason(fleet, agent, state):
            continue
        caught_up = _catch_up(fleet, agent, record)
        begin_run(record)
        fleet.launch(agent, panes[agent.name], record.run)
        why = "its dependencies are merged" if agent.depends_on else "a slot is free"
        log_event(fleet.layout, agent.name, "started", run=record.run, reason=why, caught_up=caught_up)
        done.append(f"started {agent.name}: {why}")
    if done:
        save_state(fleet.layout, state)
    return done


def _catch_up(fleet: FleetCore, agent: Agent, record: AgentState) -> str | None:
    """A queued agent's untouched branch moves up to base's tip before it starts, so it builds on
    what was merged meanwhile (its dependencies above all). Only a fast-forward of a branch with
    no commits of its own and a clean worktree: nothing can be lost. Returns the new start."""
    path = fleet.layout.worktree(agent.name)
    start = record.branch_start
    if not start or not path.exists() or git.rev_parse(path, "HEAD") != start or not git.is_clean(path):
        return None
    base_head = git.rev_parse(fleet.root, fleet.base)
    if base_head == start or not git.is_ancestor(fleet.root, start, base_head):
        return None
    git.fast_forward(path, base_head)
    record.branch_start = base_head
    return base_head
