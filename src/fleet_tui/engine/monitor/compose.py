"""Snapshot composition: one AgentSnapshot per agent from its verdict, pane, git reading and record.

An agent's snapshot is rebuilt only when something it is made of changed (`AgentInputs`), so an
idle fleet composes in next to no time and hands the UI the very same objects as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet_tui.engine.monitor.panes import ENDED, Verdict
from fleet_tui.engine.state import AgentState
from fleet_tui.models import AgentSnapshot, PaneReading, StatusVerdict, WorktreeReading
from fleet_tui.scope import drift
from fleet_tui.signals import ContextReading
from fleet_tui.spec import Agent
from fleet_tui.status import screen_tail

TAIL_LINES = 20


@dataclass(frozen=True)
class AgentInputs:
    """Everything one agent's snapshot is made of: equal inputs, the same snapshot."""

    verdict: StatusVerdict
    since: float
    record: AgentState
    pane_id: str | None
    screen: str
    reading: WorktreeReading
    exit_code: int | None
    waiting_for: tuple[str, ...]
    overlap: dict[str, tuple[str, ...]]
    context: ContextReading | None
    context_window: int | None
    locks: tuple[str, ...] = ()


class Composer:
    """Builds agents' snapshots, keeping the last one of each with the inputs it came from."""

    def __init__(self, worktrees: dict[str, str]) -> None:
        self._worktrees = worktrees
        self._built: dict[str, tuple[AgentInputs, AgentSnapshot]] = {}

    def agent(
        self,
        agent: Agent,
        record: AgentState,
        pane: PaneReading | None,
        look: Verdict,
        since: float,
        reading: WorktreeReading,
        waiting_for: tuple[str, ...],
        overlap: dict[str, tuple[str, ...]],
        context: ContextReading | None = None,
        context_window: int | None = None,
        locks: tuple[str, ...] = (),
    ) -> AgentSnapshot:
        name = agent.name
        inputs = AgentInputs(
            verdict=look.verdict,
            since=since,
            record=record,
            pane_id=pane.pane_id if pane else None,
            screen=pane.screen if pane else "",
            reading=reading,
            exit_code=look.exit_code if look.status in ENDED else None,
            waiting_for=waiting_for,
            overlap=overlap,
            context=context,
            context_window=context_window,
            locks=locks,
        )
        cached = self._built.get(name)
        if cached is not None and cached[0] == inputs:
            return cached[1]  # nothing this agent's snapshot is made of has changed
        snapshot = self._build(agent, inputs)
        self._built[name] = (inputs, snapshot)
        return snapshot

    def _build(self, agent: Agent, inputs: AgentInputs) -> AgentSnapshot:
        verdict, record, files = inputs.verdict, inputs.record, inputs.reading.files
        context = inputs.context
        return AgentSnapshot(
            name=agent.name,
            task=agent.task,
            branch=agent.branch,
            worktree=self._worktrees[agent.name],
            preset=agent.preset_name,
            status=verdict.status,
            status_reason=verdict.reason,
            status_rule=verdict.rule,
            status_evidence=verdict.evidence,
            status_since=inputs.since,
            status_source=verdict.source,
            status_signal_at=verdict.signal_at,
            context_used=context.used if context else None,
            context_source=context.source if context and context.used is not None else "",
            context_window=inputs.context_window,
            cost_usd=context.cost_usd if context else None,
            exit_code=inputs.exit_code,
            started_at=record.started_at,
            restarts=record.restarts,
            max_restarts=agent.max_restarts,
            needs_human=record.needs_human,
            depends_on=agent.depends_on,
            waiting_for=inputs.waiting_for,
            pane_id=inputs.pane_id,
            tail=screen_tail(inputs.screen, TAIL_LINES),
            screen=inputs.screen,
            files=files,
            added=sum(f.added or 0 for f in files),
            removed=sum(f.removed or 0 for f in files),
            commits_ahead=inputs.reading.commits_ahead,
            drift=drift(files),
            overlap=inputs.overlap,
            git_error=inputs.reading.error,
            git_pending=inputs.reading.pending,
            git_locks=inputs.locks,
        )
