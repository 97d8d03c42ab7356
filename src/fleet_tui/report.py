"""The retrospective: was the fan-out worth it? Figures from the event log, and a plain verdict.

Pure: the event log (in whatever shape the state module hands it out), each agent's changed files
and the predicted collisions go in; a `FleetReport` comes out, rendered as markdown here, as JSON by
pydantic and as a timeline picture by `timeline`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from fleet_tui.models import FileChange, OverlapEntry, Status
from fleet_tui.scope import overlaps as actual_overlaps_of

REPORT_SCHEMA = 1
# Time in these states is the agent's own work, its wait for the person, its idling, its crash.
COUNTED = {
    Status.WORKING.value: "working",
    Status.WAITING.value: "waiting",
    Status.IDLE.value: "idle",
    Status.CRASHED.value: "crashed",
}
ENDED = {Status.MERGED.value, Status.KILLED.value}
SEGMENT_MARKS = {Status.WAITING.value: "wait", Status.CRASHED.value: "crash"}


@dataclass(frozen=True)
class Event:
    time: float
    agent: str | None
    event: str
    details: dict[str, Any] = field(default_factory=dict)


def as_events(raw: Iterable[Any]) -> list[Event]:
    """Events from the log as plain records, sorted by time: dicts as read from events.jsonl, or
    models with the same fields (the state module may hand out typed events)."""
    found = []
    for item in raw:
        data = item if isinstance(item, Mapping) else _fields(item)
        try:
            when = float(data["time"])
        except (KeyError, TypeError, ValueError):
            continue
        kind = data.get("event", data.get("kind", ""))
        details = data.get("details") or {}
        found.append(
            Event(
                time=when,
                agent=data.get("agent"),
                event=str(getattr(kind, "value", kind)),
                details=dict(details) if isinstance(details, Mapping) else {},
            )
        )
    found.sort(key=lambda e: e.time)
    return found


def _fields(item: Any) -> Mapping[str, Any]:
    dump = getattr(item, "model_dump", None)
    if callable(dump):
        result = dump(mode="json")
        if isinstance(result, Mapping):
            return result
    return vars(item) if hasattr(item, "__dict__") else {}


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Segment(Model):
    status: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


class Mark(Model):
    time: float
    kind: str  # start | restart | crash | wait | merge | kill | needs-human
    note: str = ""


class Wait(Model):
    start: float
    seconds: float
    answered: bool  # False: still waiting when the report was made


class Restart(Model):
    time: float
    attempt: int | None = None
    reason: str = ""


class AgentReport(Model):
    name: str
    working: float = 0.0
    waiting: float = 0.0
    idle: float = 0.0
    crashed: float = 0.0
    waits: tuple[Wait, ...] = ()
    restarts: tuple[Restart, ...] = ()
    drift: tuple[str, ...] = ()
    merged_at: float | None = None
    tokens: int | None = None
    cost: float | None = None
    segments: tuple[Segment, ...] = ()
    marks: tuple[Mark, ...] = ()


class Collision(Model):
    agents: tuple[str, ...]
    files: tuple[str, ...]
    kind: str  # overlap | coupling | merge-conflict


class FleetReport(Model):
    schema_version: int = REPORT_SCHEMA
    fleet: str
    base: str
    start: float | None
    end: float | None
    running: bool
    wall: float
    working: float  # the sum of the agents' working time
    waiting: float  # the sum of the agents' time waiting for the person
    speedup: float | None  # working / wall: how much agent work each second of wall time held
    merge_order: tuple[str, ...]
    predicted: tuple[Collision, ...]
    actual: tuple[Collision, ...]
    verdict: tuple[str, ...]
    agents: tuple[AgentReport, ...]


# -- from events to timelines ---------------------------------------------------------------------


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


# -- the fleet ------------------------------------------------------------------------------------


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


def verdict(report: FleetReport) -> tuple[str, ...]:
    """A few plain sentences built from the figures."""
    said: list[str] = []
    if not report.agents or report.start is None:
        return ("Nothing has run yet: there is no history to judge.",)
    if report.waiting > report.working:
        said.append(
            f"Agents waited longer for the person ({duration_words(report.waiting)}) than they worked "
            f"({duration_words(report.working)}): the person's attention was the bottleneck."
        )
    elif report.waiting > 0:
        said.append(
            f"Agents spent {duration_words(report.waiting)} waiting for the person, against "
            f"{duration_words(report.working)} of work."
        )
    if report.speedup is not None and len(report.agents) > 1:
        ran = "ran" if not report.running else "has run"
        if report.speedup >= 1.2:
            said.append(
                f"Parallel paid off: {duration_words(report.working)} of agent work {ran} in "
                f"{duration_words(report.wall)} of wall time ({report.speedup:.1f}x)."
            )
        else:
            said.append(
                f"Parallel did not pay: {duration_words(report.working)} of agent work took "
                f"{duration_words(report.wall)} of wall time ({report.speedup:.1f}x); one agent after "
                "another would have been about as fast."
            )
    waits = [(w.seconds, r.name) for r in report.agents for w in r.waits]
    if waits:
        longest, who = max(waits)
        said.append(f"The longest wait for an answer was {duration_words(longest)} ({who}).")
    crashes = sum(1 for r in report.agents for m in r.marks if m.kind == "crash")
    restarts = sum(len(r.restarts) for r in report.agents)
    if crashes or restarts:
        lost = sum(r.crashed for r in report.agents)
        said.append(
            f"{crashes} crash(es) and {restarts} restart(s); agents sat crashed for {duration_words(lost)}."
        )
    conflicts = [c for c in report.actual if c.kind == "merge-conflict"]
    overlaps = [c for c in report.actual if c.kind == "overlap"]
    said.append(
        f"{len(report.predicted)} collision(s) predicted, {len(overlaps)} real overlap(s) and "
        f"{len(conflicts)} refused merge(s) happened."
    )
    return tuple(said)


def duration_words(seconds: float) -> str:
    if seconds < 10:
        return f"{max(seconds, 0.0):.1f}s"  # a test fleet's, or a quick answer: tenths still say something
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


# -- markdown -------------------------------------------------------------------------------------


def report_markdown(report: FleetReport) -> str:
    lines = [f"# fleet report: {report.fleet}", ""]
    state = "still running" if report.running else "finished" if report.merge_order else "stopped"
    lines += [f"base `{report.base}`, {state}.", "", "## Verdict", ""]
    lines += [f"- {s}" for s in report.verdict]
    speed = f"{report.speedup:.2f}x" if report.speedup is not None else "-"
    lines += [
        "",
        "## Fleet",
        "",
        "| wall time | agents' working time | parallel speed-up | waiting for the person | merge order |",
        "|---|---|---|---|---|",
        f"| {duration_words(report.wall)} | {duration_words(report.working)} | {speed} | "
        f"{duration_words(report.waiting)} | {' -> '.join(report.merge_order) or '-'} |",
        "",
        "## Agents",
        "",
        "| agent | working | waiting | idle | crashed | waits | longest wait | restarts | drift | merged "
        "| tokens | cost |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for a in report.agents:
        longest = max((w.seconds for w in a.waits), default=None)
        merged = f"#{report.merge_order.index(a.name) + 1}" if a.name in report.merge_order else "-"
        lines.append(
            f"| {a.name} | {duration_words(a.working)} | {duration_words(a.waiting)} | "
            f"{duration_words(a.idle)} | {duration_words(a.crashed)} | {len(a.waits)} | "
            f"{duration_words(longest) if longest is not None else '-'} | {len(a.restarts)} | "
            f"{len(a.drift)} | {merged} | {a.tokens if a.tokens is not None else '-'} | "
            f"{f'${a.cost:.2f}' if a.cost is not None else '-'} |"
        )
    waits = sorted(((w, a.name) for a in report.agents for w in a.waits), key=lambda x: x[0].start)
    lines += ["", "## Attention cost (each wait for the person)", ""]
    lines += [
        f"- {name}: {duration_words(w.seconds)}" + ("" if w.answered else " (still waiting)")
        for w, name in waits
    ] or ["- no agent waited for the person"]
    lines += ["", "## Restarts", ""]
    lines += [
        f"- {a.name}: attempt {r.attempt or '?'}: {r.reason or 'no reason given'}"
        for a in report.agents
        for r in a.restarts
    ] or ["- none"]
    lines += ["", "## Drift", ""]
    lines += [f"- {a.name}: {', '.join(a.drift)}" for a in report.agents if a.drift] or ["- none"]
    lines += ["", "## Collisions: predicted and actual", ""]
    for c in report.predicted:
        lines.append(f"- predicted {c.kind}: {', '.join(c.agents)}: {', '.join(c.files)}")
    for c in report.actual:
        lines.append(f"- actual {c.kind}: {', '.join(c.agents)}: {', '.join(c.files)}")
    if not report.predicted and not report.actual:
        lines.append("- none predicted, none happened")
    return "\n".join(lines) + "\n"
