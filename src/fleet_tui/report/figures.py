"""From events to each agent's figures: its statuses over time, the moments that matter, waits,
restarts, merges and usage."""

from __future__ import annotations

from collections.abc import Sequence

from fleet_tui.models import Status
from fleet_tui.report.records import (
    COUNTED,
    ENDED,
    SEGMENT_MARKS,
    AgentReport,
    Event,
    Mark,
    Restart,
    Segment,
    Wait,
)


def merge_order(events: Sequence[Event]) -> list[tuple[str, float]]:
    """(agent, time) of every merge, in the order they happened."""
    return [(e.agent, e.time) for e in events if e.event == "merged" and e.agent]


def merge_conflicts(events: Sequence[Event]) -> dict[str, tuple[str, ...]]:
    """Files each agent's refused merges conflicted in (the preflight names them in words)."""
    found: dict[str, tuple[str, ...]] = {}
    for e in events:
        if e.event != "merge-refused" or not e.agent:
            continue
        detail = (e.details.get("checks") or {}).get("conflicts", "")
        if isinstance(detail, str) and " in " in detail:
            files = tuple(f.strip() for f in detail.split(" in ", 1)[1].split(",") if f.strip())
            found[e.agent] = files
    return found


def timeline(
    events: Sequence[Event], agent: str, start: float, until: float
) -> tuple[tuple[Segment, ...], tuple[Mark, ...]]:
    """One agent's statuses over time, and the moments that matter, from its events.

    The live monitor logs each status change with the status before it; when the log starts mid-way
    (the dashboard opened late), the earlier status is taken to have lasted since the last thing
    known (the agent's start, or the fleet's)."""
    segments: list[Segment] = []
    marks: list[Mark] = []
    current: tuple[str, float] | None = None
    # The status an action (start, restart, kill, merge) ended: the monitor's next change still names
    # it as "previous", which must not relabel the segment the action began.
    stale: str | None = None

    def switch(status: str | None, at: float) -> None:
        nonlocal current, stale
        stale = current[0] if current is not None else None
        if current is not None:
            segments.append(Segment(status=current[0], start=current[1], end=max(at, current[1])))
        current = (status, at) if status is not None else None

    for e in events:
        if e.agent != agent or e.time > until:
            continue
        kind = e.event
        if kind == "started":
            switch(Status.STARTING.value, e.time)
            marks.append(Mark(time=e.time, kind="start", note=str(e.details.get("reason", ""))))
        elif kind == "status":
            new = str(e.details.get("status", ""))
            previous = e.details.get("previous")
            if current is not None and (current[0] == new or current[0] in ENDED):
                continue  # the monitor seeing what an action already said
            if current is None and previous:
                current = (str(previous), start)
            elif current is not None and previous and previous not in (current[0], stale):
                current = (str(previous), current[1])
            switch(new, e.time)
            stale = None
        elif kind == "restart":
            switch(Status.STARTING.value, e.time)
            marks.append(Mark(time=e.time, kind="restart", note=str(e.details.get("reason", ""))))
        elif kind == "kill":
            switch(Status.KILLED.value, e.time)
            marks.append(Mark(time=e.time, kind="kill"))
        elif kind == "merged":
            switch(Status.MERGED.value, e.time)
            marks.append(Mark(time=e.time, kind="merge", note=str(e.details.get("commit", ""))[:10]))
        elif kind == "needs-human":
            marks.append(Mark(time=e.time, kind="needs-human"))
    if current is not None and current[0] == Status.MERGED.value:
        segments.append(Segment(status=current[0], start=current[1], end=current[1]))  # its row ends
    elif current is not None:
        switch(None, until)
    kept = tuple(s for s in segments if s.seconds > 0 or s.status in ENDED)
    # A wait or a crash is marked where it began, also when the log only named it as "previous".
    marks += [Mark(time=s.start, kind=SEGMENT_MARKS[s.status]) for s in kept if s.status in SEGMENT_MARKS]
    return kept, tuple(sorted(marks, key=lambda m: m.time))


def _usage(events: Sequence[Event], agent: str) -> tuple[int | None, float | None]:
    """The latest token count and cost an event reported for the agent, when any did."""
    tokens: int | None = None
    cost: float | None = None
    for e in events:
        if e.agent != agent:
            continue
        for key in ("tokens", "total_tokens"):
            if isinstance(e.details.get(key), int):
                tokens = e.details[key]
        for key in ("cost", "cost_usd"):
            if isinstance(e.details.get(key), (int, float)):
                cost = float(e.details[key])
    return tokens, cost


def agent_report(
    events: Sequence[Event], agent: str, start: float, until: float, drift: Sequence[str] = ()
) -> AgentReport:
    segments, marks = timeline(events, agent, start, until)
    totals = dict.fromkeys(COUNTED.values(), 0.0)
    waits = []
    for seg in segments:
        if seg.status in COUNTED:
            totals[COUNTED[seg.status]] += seg.seconds
        if seg.status == Status.WAITING.value:
            waits.append(Wait(start=seg.start, seconds=seg.seconds, answered=seg.end < until))
    restarts = tuple(
        Restart(
            time=e.time,
            attempt=e.details.get("attempt") if isinstance(e.details.get("attempt"), int) else None,
            reason=str(e.details.get("reason") or ""),
        )
        for e in events
        if e.agent == agent and e.event == "restart" and e.time <= until
    )
    merged = [e.time for e in events if e.agent == agent and e.event == "merged"]
    tokens, cost = _usage(events, agent)
    return AgentReport(
        name=agent,
        working=totals["working"],
        waiting=totals["waiting"],
        idle=totals["idle"],
        crashed=totals["crashed"],
        waits=tuple(waits),
        restarts=restarts,
        drift=tuple(drift),
        merged_at=merged[-1] if merged else None,
        tokens=tokens,
        cost=cost,
        segments=segments,
        marks=marks,
    )
