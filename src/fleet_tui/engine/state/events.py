"""The event log, read and written here only: `log_event` appends one typed `Event` per line, and
`EventLog` reads the file incrementally, skipping (and counting) lines that are not valid events."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fleet_tui.engine.state.layout import Layout


class Event(BaseModel):
    """One line of `.fleet/events.jsonl`: an action or a status change."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    time: float = Field(strict=True, allow_inf_nan=False)  # strict: a string time is a bad line
    agent: str | None
    event: str = Field(min_length=1)
    details: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class BadLine:
    line: int
    why: str


def log_event(layout: Layout, agent: str | None, event: str, **details: Any) -> Event:
    """Append one event to `.fleet/events.jsonl` (one write, so concurrent writers never interleave)."""
    record = Event(time=time.time(), agent=agent, event=event, details=details)
    fields = {"time": record.time, "agent": agent, "event": event, "details": details}
    line = json.dumps(fields, default=str, ensure_ascii=False) + "\n"
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(layout.events_file, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = "\n" + line  # a writer died mid-line: keep that line apart from this one
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
    return record


def has_events(layout: Layout) -> bool:
    try:
        return layout.events_file.stat().st_size > 0
    except OSError:
        return False


class EventLog:
    """Reads `.fleet/events.jsonl` incrementally: each `read()` parses only what was appended since.

    A line that is not a valid event (not JSON, not an object, missing fields, a string time,
    invalid UTF-8) is skipped and remembered in `skipped`; it is never fatal.
    """

    def __init__(self, layout: Layout) -> None:
        self.path = layout.events_file
        self.events: list[Event] = []
        self.skipped: list[BadLine] = []
        self._offset = 0
        self._lines = 0
        self._inode: int | None = None

    def read(self) -> list[Event]:
        """Every event so far, oldest first."""
        try:
            with self.path.open("rb") as fh:
                st = os.fstat(fh.fileno())
                if st.st_ino != self._inode or st.st_size < self._offset:  # replaced or truncated
                    self.events, self.skipped, self._offset, self._lines = [], [], 0, 0
                    self._inode = st.st_ino
                fh.seek(self._offset)
                chunk = fh.read()
        except OSError:
            return self.events
        end = chunk.rfind(b"\n") + 1  # a last line without its newline is still being written
        for raw in chunk[:end].splitlines():
            self._lines += 1
            self._parse(raw)
        self._offset += end
        return self.events

    def _parse(self, raw: bytes) -> None:
        if not raw.strip():
            return
        try:
            value = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            self.skipped.append(BadLine(self._lines, "not valid UTF-8"))
            return
        except ValueError:
            self.skipped.append(BadLine(self._lines, "not JSON"))
            return
        if not isinstance(value, dict):
            self.skipped.append(BadLine(self._lines, f"a JSON {type(value).__name__}, not an object"))
            return
        try:
            self.events.append(Event.model_validate(value))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the object"
            self.skipped.append(BadLine(self._lines, f"{where}: {first['msg']}"))

    def warning(self) -> str | None:
        """One sentence about the skipped lines, naming the file and the lines; None when none."""
        if not self.skipped:
            return None
        shown = "; ".join(f"line {b.line}: {b.why}" for b in self.skipped[:5])
        more = f" (and {len(self.skipped) - 5} more)" if len(self.skipped) > 5 else ""
        count = len(self.skipped)
        return f"skipped {count} bad line{'s' if count != 1 else ''} in {self.path}: {shown}{more}"


def read_events(layout: Layout) -> list[Event]:
    """Every valid event of the log, oldest first (bad lines skipped)."""
    return EventLog(layout).read()
