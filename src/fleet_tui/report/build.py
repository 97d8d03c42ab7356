"""The retrospective of a whole fleet: every agent's figures, wall time, speed-up, merge order,
predicted and actual collisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fleet_tui.models import FileChange, OverlapEntry
from fleet_tui.report.figures import agent_report, merge_conflicts, merge_order
from fleet_tui.report.records import ENDED, AgentReport, Collision, FleetReport, as_events
from fleet_tui.report.verdict import verdict
from fleet_tui.scope import overlaps as actual_overlaps_of


def build_report(
    raw_events: Iterable[Any],
    agents: Sequence[str],
    *,
    fleet: str,
    base: str,
    now: float | None = None,
    changed: Mapping[str, Sequence[str]] | None = None,
    drift: Mapping[str, Sequence[str]] | None = None,
    predicted: Sequence[Collision] = (),
) -> FleetReport:
    """The retrospective of a fleet. `now` is given while the fleet runs (open statuses last until
    then); without it the report ends at the last event. `changed` holds each agent's changed files
    (for the overlaps that really happened), `drift` the ones outside its scope."""
    events = as_events(raw_events)
    names = set(agents)
    mine = [e for e in events if e.agent in names or e.agent is None]
    starts = [e.time for e in mine if e.event == "started"]
    start = min(starts) if starts else (mine[0].time if mine else None)
    last = mine[-1].time if mine else None
    until = now if now is not None else (last if last is not None else 0.0)
    reports = tuple(
        agent_report(mine, name, start or until, until, (drift or {}).get(name, ())) for name in agents
    )
    merges = merge_order(mine)
    done = all(r.merged_at is not None or _ended(r) for r in reports) and bool(merges)
    end = merges[-1][1] if done else (until if start is not None else None)
    wall = max(0.0, end - start) if start is not None and end is not None else 0.0
    working = sum(r.working for r in reports)
    waiting = sum(r.waiting for r in reports)
    speedup = working / wall if wall > 0 else None
    actual = [
        Collision(agents=e.agents, files=(e.path,), kind="overlap")
        for e in actual_overlaps_of(
            {n: _as_changes(files) for n, files in (changed or {}).items() if n in names}
        )
    ]
    actual += [
        Collision(agents=(name,), files=files, kind="merge-conflict")
        for name, files in sorted(merge_conflicts(mine).items())
    ]
    report = FleetReport(
        fleet=fleet,
        base=base,
        start=start,
        end=end,
        running=now is not None and not done,
        wall=wall,
        working=working,
        waiting=waiting,
        speedup=speedup,
        merge_order=tuple(n for n, _ in merges),
        predicted=tuple(predicted),
        actual=tuple(_grouped(actual)),
        verdict=(),
        agents=reports,
    )
    return report.model_copy(update={"verdict": verdict(report)})


def _ended(report: AgentReport) -> bool:
    return bool(report.segments) and report.segments[-1].status in ENDED


def _as_changes(files: Sequence[str]) -> list[FileChange]:
    return [FileChange(path=f, added=0, removed=0) for f in files]


def _grouped(collisions: Iterable[Collision]) -> list[Collision]:
    """Overlap entries per file become one collision per group of agents, with all their files."""
    groups: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for c in collisions:
        groups.setdefault((c.agents, c.kind), []).extend(c.files)
    return [Collision(agents=a, files=tuple(f), kind=k) for (a, k), f in groups.items()]


def predicted_collisions(overlaps: Iterable[OverlapEntry], coupled: Iterable[Any] = ()) -> list[Collision]:
    """The plan's predictions as collisions: shared files, and coupled pairs with their joint files."""
    found = _grouped(Collision(agents=e.agents, files=(e.path,), kind="overlap") for e in overlaps)
    for pair in coupled:
        files = tuple(dict.fromkeys(f for fp in pair.files for f in (fp.a, fp.b)))
        found.append(Collision(agents=tuple(pair.agents), files=files, kind="coupling"))
    return found
