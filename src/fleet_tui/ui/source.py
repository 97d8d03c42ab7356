"""Where the dashboard's readings come from, and where its tmux/git requests go.

`LiveSource` wraps a real `Fleet` (the monitor loop, the git and tmux adapters); `StaticSource` serves
snapshots built in memory, for tests and screenshots without tmux. Every method except `refresh`
blocks (git, tmux, sleeping): the app calls them from worker threads only, never from its UI thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fleet_tui.adapters import git
from fleet_tui.adapters.tmux import client_env
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.pipeline import Pipeline
from fleet_tui.errors import FleetError
from fleet_tui.models import AgentSnapshot, FileChange, FleetSnapshot

Publish = Callable[[FleetSnapshot], None]
OnError = Callable[[str], None]
RETRY_AFTER = 2.0  # seconds before the monitor is started again after it failed


class FleetSource(Protocol):
    fleet: Fleet | None
    bell: bool
    notify: bool

    def run(self, publish: Publish, stop: threading.Event, on_error: OnError) -> None: ...
    def refresh(self, names: Iterable[str] | None = None) -> None: ...
    def reload(self, fleet: Fleet) -> None: ...
    def file_states(self, agent: AgentSnapshot) -> dict[str, tuple[str, ...]]: ...
    def diff(self, agent: AgentSnapshot, change: FileChange) -> str: ...
    def send(self, agent: AgentSnapshot, text: str) -> None: ...
    def attach_command(self, agent: AgentSnapshot) -> tuple[list[str], dict[str, str]]: ...


class LiveSource:
    """A real fleet: the monitor publishes snapshots; diffs, sends and attaches go to the adapters."""

    def __init__(self, fleet: Fleet, clock: Callable[[], float] = time.time, interval: float = 1.0) -> None:
        self.fleet: Fleet | None = fleet
        self._fleet = fleet
        self.clock = clock
        self.interval = interval
        self.bell = fleet.spec.settings.bell
        self.notify = fleet.spec.settings.notify
        self._monitor: Monitor | None = None
        self._stop: threading.Event | None = None
        self._current = threading.Event()  # ends the current monitor (app stop, or a reload)

    def run(self, publish: Publish, stop: threading.Event, on_error: OnError) -> None:
        self._stop = stop
        while not stop.is_set():
            self._current = threading.Event()
            if stop.is_set():
                break
            self._monitor = Monitor(self._fleet, self.clock, log_changes=True)
            # Gates, reviews and retries run beside the monitor until a supervisor hosts them.
            pipe = Pipeline(self._fleet)

            def publish_with_pipeline(snapshot: FleetSnapshot, pipe: Pipeline = pipe) -> None:
                publish(pipe.step(snapshot))

            try:
                self._monitor.run(publish_with_pipeline, self._current, self.interval, on_error)
            except Exception as exc:  # a broken reading must never end the dashboard
                on_error(f"reading the fleet failed: {exc}")
                stop.wait(RETRY_AFTER)
            finally:
                self._monitor.close()
                pipe.close()

    def refresh(self, names: Iterable[str] | None = None) -> None:
        """Ask for fresh git readings (all agents when None) and wake the monitor; never blocks."""
        if self._monitor is not None:
            self._monitor.mark_dirty(names)

    def wake(self) -> None:
        if self._stop is not None and self._stop.is_set():
            self._current.set()  # the app is closing: end the monitor's loop
        if self._monitor is not None:
            self._monitor.mark_dirty([])

    def reload(self, fleet: Fleet) -> None:
        """Watch `fleet` from now on (its file changed): the running monitor ends and a new one
        starts on it, in the same worker thread."""
        self.fleet = self._fleet = fleet
        self._current.set()
        if self._monitor is not None:
            self._monitor.mark_dirty([])

    def file_states(self, agent: AgentSnapshot) -> dict[str, tuple[str, ...]]:
        return git.file_states(Path(agent.worktree), self._fleet.base)

    def diff(self, agent: AgentSnapshot, change: FileChange) -> str:
        return git.diff_text(Path(agent.worktree), self._fleet.base, change.path, untracked=change.untracked)

    def _pane(self, agent: AgentSnapshot) -> str:
        return self._fleet.live_pane(agent.name).pane_id

    def send(self, agent: AgentSnapshot, text: str) -> None:
        self._fleet.send(agent.name, text)

    def attach_command(self, agent: AgentSnapshot) -> tuple[list[str], dict[str, str]]:
        return self._fleet.tmux.attach_argv(self._fleet.session, self._pane(agent)), client_env()


@dataclass
class StaticSource:
    """Snapshots built in memory. `push()` publishes another one; `read_delay` makes every reading
    (and every diff) slow on purpose; `repeat` re-reads the last snapshot forever, like the monitor."""

    snapshots: list[FleetSnapshot] = field(default_factory=list)
    diffs: dict[tuple[str, str], str] = field(default_factory=dict)
    states: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    read_delay: float = 0.0
    repeat: bool = False
    interval: float = 1.0  # with `repeat`: pause between readings, like the monitor's tick
    bell: bool = True
    notify: bool = True
    fail: set[str] = field(default_factory=set)  # method names that raise, to test failures
    sent: list[tuple[str, str]] = field(default_factory=list)
    refreshed: list[tuple[str, ...] | None] = field(default_factory=list)
    fleet: Fleet | None = None

    def __post_init__(self) -> None:
        self._queue: queue.Queue[FleetSnapshot] = queue.Queue()
        for snapshot in self.snapshots:
            self._queue.put(snapshot)

    def push(self, snapshot: FleetSnapshot) -> None:
        self._queue.put(snapshot)

    def _check(self, what: str) -> None:
        if what in self.fail:
            raise FleetError(f"{what} failed on purpose")

    def run(self, publish: Publish, stop: threading.Event, on_error: OnError) -> None:
        last: FleetSnapshot | None = None
        while not stop.is_set():
            try:
                last = self._queue.get(timeout=self.interval if self.repeat else 0.05)
            except queue.Empty:
                if not (self.repeat and last is not None):
                    continue
            if self.read_delay:
                time.sleep(self.read_delay)  # the slow reading happens here, in the worker thread
            try:
                self._check("run")
            except FleetError as exc:
                on_error(str(exc))
                continue
            if last is not None:
                publish(last)

    def refresh(self, names: Iterable[str] | None = None) -> None:
        self.refreshed.append(tuple(names) if names is not None else None)

    def wake(self) -> None:
        pass

    def reload(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def file_states(self, agent: AgentSnapshot) -> dict[str, tuple[str, ...]]:
        self._check("file_states")
        return self.states.get(agent.name, {})

    def diff(self, agent: AgentSnapshot, change: FileChange) -> str:
        if self.read_delay:
            time.sleep(self.read_delay)
        self._check("diff")
        return self.diffs.get((agent.name, change.path), "")

    def send(self, agent: AgentSnapshot, text: str) -> None:
        self._check("send")
        self.sent.append((agent.name, text))

    def attach_command(self, agent: AgentSnapshot) -> tuple[list[str], dict[str, str]]:
        self._check("attach")
        return ["true", agent.name], client_env()
