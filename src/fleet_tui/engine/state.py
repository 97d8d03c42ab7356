"""Where the fleet keeps its files (`.fleet/`), its state (`state.json`) and its event log.

One writer at a time: every read-modify-write of `state.json` runs under `state_lock` (an
`fcntl.flock` on `.fleet/state.lock`, re-entrant within a process), whoever does it: the CLI, the
dashboard's workers or the supervisor. Each write also refreshes `state.json.bak`, so a state file
that was deleted or corrupted is recovered from the last good one (or rebuilt from the event log)
instead of being silently reset; when neither works, commands refuse with a message naming the file.

The event log is read and written here only: `log_event` appends one typed `Event` per line, and
`EventLog` reads the file incrementally, skipping (and counting) lines that are not valid events.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fleet_tui.errors import EnvironmentProblem

STATE_DIR = ".fleet"
LOCK_TIMEOUT = 60.0  # seconds a writer waits for another one before saying who holds the lock


@dataclass(frozen=True)
class Layout:
    """Every path fleet-tui reads or writes for one fleet."""

    root: Path
    worktree_root: Path

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def backup_file(self) -> Path:
        return self.state_dir / "state.json.bak"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "state.lock"

    @property
    def up_lock_file(self) -> Path:
        return self.state_dir / "up.lock"

    @property
    def events_file(self) -> Path:
        return self.state_dir / "events.jsonl"

    @property
    def snapshot_file(self) -> Path:
        return self.state_dir / "snapshot.json"

    @property
    def supervisor_lock(self) -> Path:
        return self.state_dir / "supervisor.lock"

    @property
    def supervisor_file(self) -> Path:
        return self.state_dir / "supervisor.json"

    @property
    def supervisor_log(self) -> Path:
        return self.state_dir / "supervisor.log"

    def worktree(self, agent: str) -> Path:
        return self.worktree_root / agent

    def agent_dir(self, agent: str) -> Path:
        return self.state_dir / "agents" / agent

    def prompt_file(self, agent: str) -> Path:
        return self.agent_dir(agent) / "prompt.md"

    def handoff_file(self, agent: str) -> Path:
        return self.agent_dir(agent) / "handoff.md"

    def launcher(self, agent: str) -> Path:
        return self.agent_dir(agent) / "launch.sh"

    def queued_script(self, agent: str) -> Path:
        return self.agent_dir(agent) / "queued.sh"

    def exit_file(self, agent: str) -> Path:
        return self.agent_dir(agent) / "exit"


class Phase(StrEnum):
    """Where an agent is in its life, as fleet-tui left it (its status is read live)."""

    NEW = "new"  # declared, never started
    QUEUED = "queued"  # waiting for its dependencies to be merged
    RUNNING = "running"  # started by fleet-tui (it may since have ended by itself)
    STOPPED = "stopped"  # stopped by `fleet-tui down`: the next `up` starts it again
    KILLED = "killed"
    MERGED = "merged"


class AgentState(BaseModel):
    """What fleet-tui remembers about an agent between runs."""

    # validate_assignment: `record.phase = "killed"` stores Phase.KILLED, and a typo fails at once.
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    phase: Phase = Phase.NEW
    run: int = 0  # increases at every start; the launcher stamps its exit code with it
    restarts: int = 0
    started_at: float | None = None
    branch_start: str | None = None  # the commit the branch was created at
    needs_human: bool = False


class FleetState(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    schema_version: int = Field(1, alias="schema")
    base: str | None = None  # pinned at the first `up`: checking out another branch moves nothing
    agents: dict[str, AgentState] = Field(default_factory=dict)

    def agent(self, name: str) -> AgentState:
        return self.agents.setdefault(name, AgentState())


class StateUnreadable(EnvironmentProblem):
    """state.json (and its backup) cannot be read, and the event log cannot rebuild it."""


# -- writing files --------------------------------------------------------------------------------


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Write a file so readers see the old or the new content, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- locks ----------------------------------------------------------------------------------------


class _ProcessLock:
    """An flock held by this process, re-entrant for the thread that holds it.

    flock locks belong to an open file: a second open in the same process would wait for the first
    forever, so nested `with state_lock(...)` calls share one descriptor and count their depth; other
    threads of the process wait on the RLock first.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rlock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


_LOCKS: dict[Path, _ProcessLock] = {}
_LOCKS_GUARD = threading.Lock()


def _flock(path: Path, timeout: float, what: str) -> int:
    """Open `path` and take an exclusive flock on it, waiting at most `timeout` seconds."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot open the lock file {path}: {exc.strerror}",
            f"fleet-tui needs to write in {path.parent}: check its permissions and free space",
        ) from None
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise EnvironmentProblem(
                    f"{what} is held by another fleet-tui process (lock file {path}) for over {timeout:g} s",
                    "wait for it to finish, or find it with `fuser " + str(path) + "`",
                ) from None
            time.sleep(0.01)


@contextlib.contextmanager
def state_lock(layout: Layout, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the fleet's state lock: one read-modify-write of state.json at a time, fleet-wide."""
    path = layout.lock_file.resolve()
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(path, _ProcessLock(path))
    if not lock.rlock.acquire(timeout=timeout):
        raise EnvironmentProblem(f"the state lock {path} is busy in this process for over {timeout:g} s")
    try:
        if lock.depth == 0:
            lock.fd = _flock(path, timeout, "the fleet's state")
        lock.depth += 1
        try:
            yield
        finally:
            lock.depth -= 1
            if lock.depth == 0 and lock.fd is not None:
                os.close(lock.fd)  # closing the descriptor releases the flock
                lock.fd = None
    finally:
        lock.rlock.release()


@contextlib.contextmanager
def up_lock(layout: Layout, timeout: float = 300.0) -> Iterator[None]:
    """Fleet-wide: one `up` (or `down`) at a time; a second one waits for the first to finish."""
    fd = _flock(layout.up_lock_file, timeout, "`fleet-tui up` (or `down`)")
    try:
        yield
    finally:
        os.close(fd)


# -- state ----------------------------------------------------------------------------------------


def _parse_state(path: Path) -> tuple[FleetState | None, str]:
    """(state, "") when the file is a valid state; (None, why) when missing or invalid."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"unreadable ({exc.strerror})"
    try:
        return FleetState.model_validate_json(raw), ""
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        return None, f"not a valid state file ({where}: {first['msg']})"


def _state_text(state: FleetState) -> str:
    return state.model_dump_json(by_alias=True, indent=2) + "\n"


def load_state(layout: Layout) -> FleetState:
    """The fleet's state; a missing or corrupt state.json is recovered, never silently reset.

    Recovery order: the backup written with the last good state, else a rebuild from the event log.
    A fleet that was never brought up (no state, no backup, no events) starts from an empty state.
    Raises StateUnreadable when the state is damaged and nothing can stand in for it.
    """
    state, why = _parse_state(layout.state_file)
    if state is not None:
        return state
    backup, why_backup = _parse_state(layout.backup_file)
    if backup is None and why == why_backup == "missing" and not _has_events(layout):
        return FleetState()  # never brought up: nothing to recover
    source = f"its backup {layout.backup_file.name}"
    if backup is None:
        backup = rebuild_from_events(layout)
        source = f"the event log {layout.events_file.name}"
    if backup is None:
        raise StateUnreadable(
            f"{layout.state_file} is {why}, its backup {layout.backup_file.name} is {why_backup}, "
            f"and the event log cannot tell the fleet's base branch; nothing was changed",
            f"repair the JSON in {layout.state_file}, or replace it with "
            '{"schema": 1, "base": "<the base branch>"} to carry on from there',
        )
    _recover(layout, backup, f"{layout.state_file.name} was {why}: recovered from {source}")
    return backup


def _recover(layout: Layout, state: FleetState, message: str) -> None:
    """Put the recovered state back in place (once: the next load reads it) and say so in the log."""
    with contextlib.suppress(OSError, EnvironmentProblem), state_lock(layout, timeout=5.0):
        current, _ = _parse_state(layout.state_file)
        if current is not None:
            return  # another process repaired it meanwhile
        write_atomic(layout.state_file, _state_text(state))
        log_event(layout, None, "state-recovered", message=message, base=state.base)


def rebuild_from_events(layout: Layout) -> FleetState | None:
    """The state as far as the event log tells it; None when it does not say which base was pinned."""
    state = FleetState()
    for event in EventLog(layout).read():
        details = event.details
        if isinstance(details.get("base"), str) and event.event in ("up", "merged", "state-recovered"):
            state.base = details["base"]
        if event.agent is None:
            continue
        if event.event == "removed":  # out of the fleet file: a later agent of that name starts afresh
            state.agents.pop(event.agent, None)
            continue
        record = state.agent(event.agent)
        run = details.get("run")
        if event.event == "started":
            record.phase, record.started_at = Phase.RUNNING, event.time
            record.run = run if isinstance(run, int) else record.run + 1
        elif event.event == "restart":
            record.phase, record.started_at, record.needs_human = Phase.RUNNING, event.time, False
            record.run = run if isinstance(run, int) else record.run + 1
            attempt = details.get("attempt")
            record.restarts = attempt if isinstance(attempt, int) else record.restarts + 1
        elif event.event == "stopped":
            record.phase = Phase.STOPPED
        elif event.event == "kill" and record.phase != Phase.MERGED:
            record.phase = Phase.KILLED
        elif event.event == "merged":
            record.phase = Phase.MERGED
        elif event.event == "needs-human":
            record.needs_human = True
    return state if state.base else None


def pinned_base(root: Path) -> str | None:
    """The base branch the fleet was brought up on, if it has been (StateUnreadable if unknowable)."""
    return load_state(Layout(root=root, worktree_root=root)).base


def save_state(layout: Layout, state: FleetState) -> None:
    """Write state.json and its backup (the last good state), each atomically."""
    text = _state_text(state)
    write_atomic(layout.state_file, text)
    write_atomic(layout.backup_file, text)


@contextlib.contextmanager
def update_state(layout: Layout) -> Iterator[FleetState]:
    """Read the state under the lock, let the caller change it, write it back (not on an error)."""
    with state_lock(layout):
        state = load_state(layout)
        yield state
        save_state(layout, state)


# -- the event log --------------------------------------------------------------------------------


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


def _has_events(layout: Layout) -> bool:
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


def read_exit(layout: Layout, agent: str, run: int) -> int | None:
    """The exit code the launcher recorded for this run, if it has ended."""
    try:
        run_s, code_s = layout.exit_file(agent).read_text(encoding="utf-8").split()
        return int(code_s) if int(run_s) == run else None
    except (OSError, ValueError):
        return None
