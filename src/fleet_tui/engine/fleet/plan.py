"""The plan of a fleet before it starts: each agent's branch, worktree and scope, predicted overlaps
(and whether the agents sharing them depend on each other), warnings, context budgets."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fleet_tui.adapters import git
from fleet_tui.budget import Budget, estimate
from fleet_tui.engine.fleet.core import FleetCore
from fleet_tui.models import OverlapEntry
from fleet_tui.scope import predicted_overlaps, unmatched_patterns
from fleet_tui.spec import FleetSpec


@dataclass(frozen=True)
class PlanRow:
    agent: str
    branch: str
    worktree: Path
    scope: tuple[str, ...]
    depends_on: tuple[str, ...]
    preset: str


@dataclass(frozen=True)
class Plan:
    rows: tuple[PlanRow, ...]
    overlaps: tuple[OverlapEntry, ...]
    order: tuple[str, ...]
    warnings: tuple[str, ...]
    unrelated_overlaps: tuple[OverlapEntry, ...]  # between agents that do not depend on each other
    budgets: tuple[Budget, ...] = ()  # each agent's start against its context window

    @property
    def over_budget(self) -> tuple[Budget, ...]:
        return tuple(b for b in self.budgets if b.over)


def make_plan(fleet: FleetCore) -> Plan:
    """What `up` would do: each agent's row, predicted overlaps, launch order, warnings, budgets."""
    sizes = git.tracked_sizes(fleet.root, fleet.base)
    files = list(sizes)
    overlaps = predicted_overlaps(fleet.doer_scopes, files)
    budgets = tuple(
        estimate(
            a.name,
            a.task,
            {path: size for path, size in sizes.items() if path in fleet.scopes[a.name]},
            a.preset.context_window,
        )
        for a in fleet.agents
    )
    order = fleet.spec.launch_order()
    below = _ancestors(order, {a.name: a.depends_on for a in fleet.agents})
    rank = {name: i for i, name in enumerate(order)}
    unrelated = tuple(e for e in overlaps if not _one_chain(e.agents, rank, below))
    warnings = (
        *(
            f"{a.name}: scope pattern {p!r} matches no tracked file in {fleet.base}"
            for a in fleet.agents
            for p in unmatched_patterns(a.scope, files)
        ),
        *fleet.restart_warnings(),
        *(
            f"not installed (not on PATH): {m}; `fleet-tui up` will refuse until it is"
            for m in fleet.missing_programs()
        ),
        *(warning for b in budgets if (warning := b.warning())),
    )
    rows = tuple(
        PlanRow(
            agent=a.name,
            branch=a.branch,
            worktree=fleet.layout.worktree(a.name),
            scope=a.scope,
            depends_on=a.depends_on,
            preset=a.preset_name,
        )
        for a in fleet.agents
    )
    return Plan(rows, overlaps, tuple(fleet.spec.launch_order()), warnings, unrelated, budgets)


def dependency_relation(spec: FleetSpec) -> Callable[[str, str], bool]:
    """Does one agent (transitively) depend on the other? One bitset pass, then each question is
    one shift: asking it for every pair of a thousand agents stays cheap."""
    order = spec.launch_order()
    below = _ancestors(order, {a.name: a.depends_on for a in spec.agents})
    rank = {name: i for i, name in enumerate(order)}
    return lambda a, b: bool(below[a] >> rank[b] & 1 or below[b] >> rank[a] & 1)


def _ancestors(order: list[str], deps: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Every agent's transitive dependencies as a bitset over `order` (a topological order):
    one pass, so asking whether two agents depend on each other is one AND."""
    bit = {name: 1 << i for i, name in enumerate(order)}
    below: dict[str, int] = {}
    for name in order:
        mask = 0
        for dep in deps.get(name, ()):
            mask |= bit[dep] | below.get(dep, 0)
        below[name] = mask
    return below


def _one_chain(agents: tuple[str, ...], rank: dict[str, int], below: dict[str, int]) -> bool:
    """True when every pair of `agents` depends on each other one way or the other. Sorted in launch
    order that holds exactly when each depends on the one before it (dependency is transitive), so
    an overlap of k agents costs k checks, not k*k searches of the graph."""
    ordered = sorted(agents, key=rank.__getitem__)
    return all(below[b] >> rank[a] & 1 for a, b in itertools.pairwise(ordered))
