"""Keeps `.fleet/plan.md` current while the fleet runs (the live monitor calls it per snapshot)."""

from __future__ import annotations

from pathlib import Path

from fleet_tui.coupling import Coupling
from fleet_tui.engine.fleet import Fleet, Plan
from fleet_tui.engine.planning import read_coupling
from fleet_tui.engine.state import read_events, write_atomic
from fleet_tui.errors import FleetError
from fleet_tui.models import FleetSnapshot, OverlapEntry
from fleet_tui.planfile import PLAN_FILE, plan_markdown, stamped
from fleet_tui.report import as_events, merge_conflicts, merge_order


class PlanWriter:
    """Renders the living plan from each snapshot and writes it only when its content changed.

    The prediction (scopes, history) is read once; the event log again only when it grew."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.path: Path = fleet.layout.state_dir / PLAN_FILE
        self._plan: Plan | None = None
        self._coupling: Coupling | None = None
        self._events_size = -1
        self._merges: list[tuple[str, float]] = []
        self._conflicts: dict[str, tuple[str, ...]] = {}
        self._text: str | None = None
        self._key: tuple[object, ...] | None = None  # what the plan was last rendered from
        self.writes = 0
        self.renders = 0  # how often the plan was rendered (tests read it)
        # What was seen so far: a merged agent's diff is empty, yet its drift and overlaps happened.
        self._drift: dict[str, dict[str, None]] = {}
        self._overlap: dict[str, dict[str, set[str]]] = {}
        self._entries: dict[str, set[str]] = {}

    def seen(self, snapshot: FleetSnapshot) -> FleetSnapshot:
        """The snapshot with every drift and overlap seen since the writer started, not only today's."""
        for agent in snapshot.agents:
            self._drift.setdefault(agent.name, {}).update(dict.fromkeys(agent.drift))
            for path, others in agent.overlap.items():
                self._overlap.setdefault(agent.name, {}).setdefault(path, set()).update(others)
        for entry in snapshot.overlaps:
            self._entries.setdefault(entry.path, set()).update(entry.agents)
        agents = tuple(
            a.model_copy(
                update={
                    "drift": tuple(self._drift.get(a.name, {})),
                    "overlap": {p: tuple(sorted(o)) for p, o in self._overlap.get(a.name, {}).items()},
                }
            )
            for a in snapshot.agents
        )
        entries = tuple(
            OverlapEntry(path=p, agents=tuple(sorted(a))) for p, a in sorted(self._entries.items())
        )
        return snapshot.model_copy(update={"agents": agents, "overlaps": entries})

    def _inputs(self, snapshot: FleetSnapshot) -> tuple[object, ...]:
        """Everything of a snapshot (and the event log) that the plan shows: equal inputs, equal plan."""
        agents = tuple(
            (a.name, a.status, a.exit_code, a.needs_human, a.drift, tuple(sorted(a.overlap.items())))
            for a in snapshot.agents
        )
        return (snapshot.fleet, snapshot.base, self._events_size, agents, snapshot.overlaps)

    def _read_events(self) -> None:
        try:
            size = self.fleet.layout.events_file.stat().st_size
        except OSError:
            size = 0
        if size != self._events_size:
            self._events_size = size
            events = as_events(read_events(self.fleet.layout))
            self._merges = merge_order(events)
            self._conflicts = merge_conflicts(events)

    def update(self, snapshot: FleetSnapshot) -> str | None:
        """Write the plan for this snapshot if it changed; a problem comes back as words, never raised
        (a plan file must not stop the monitor)."""
        if any(a.git_pending for a in snapshot.agents):
            return None  # the first picture, before git: the plan waits for the figures
        try:
            if self._plan is None:
                self._plan = self.fleet.plan()
                self._coupling = read_coupling(self.fleet, self._plan)
            self._read_events()
            key = self._inputs(snapshot)
            if key == self._key:
                return None  # nothing the plan shows changed: rendering it was most of an idle tick
            self._key = key
            self.renders += 1
            text = plan_markdown(
                self._plan.rows,
                self._plan.overlaps,
                self._coupling,
                snapshot=self.seen(snapshot),
                merges=self._merges,
                conflicts=self._conflicts,
                title=f"fleet plan: {self.fleet.name}",
            )
            if text != self._text:
                write_atomic(self.path, stamped(text, snapshot.taken_at))
                self._text = text
                self.writes += 1
        except (FleetError, OSError) as exc:
            return f"could not write {self.path}: {exc}"
        return None
