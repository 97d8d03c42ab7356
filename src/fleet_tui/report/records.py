"""The report's records: events as plain records, and the frozen models a report is made of."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from fleet_tui.models import Status

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
