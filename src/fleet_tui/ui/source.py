"""The one seam between the dashboard and the engine: everything the UI asks of the fleet.

`FleetSource` is the interface: readings, diffs, sends, attach, what is at stake, kill, restart,
preflight, merge, the merge queue, the event log, whether an action applies, wake. `LiveSource`
implements it on a real `Fleet` (the monitor loop, the engine's actions, the adapters); the tests'
in-memory one is `tests/doubles.py`. Every method except `refresh`, `wake` and `permit` blocks
(git, tmux, processes): the app calls them from worker threads only, never from its UI thread.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from fleet_tui.adapters import git
from fleet_tui.adapters.tmux import client_env
from fleet_tui.engine import actions, pipeline, pipeline_state, supervisor, wakeup
from fleet_tui.engine.actions import MergeResult, Outcome, Preflight, QueuePlan, QueueResult, Stakes
from fleet_tui.engine.actions.permits import Permit, permit
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.pipeline import Pipeline
from fleet_tui.engine.presence import ViewReport
from fleet_tui.engine.state import Event, EventLog, write_atomic
from fleet_tui.errors import FleetError
from fleet_tui.models import AgentSnapshot, FileChange, FleetSnapshot

Publish = Callable[[FleetSnapshot], object]  # what it returns is ignored
OnError = Callable[[str], object]
ACKS_FILE = "attention-seen.json"  # per agent: the attention the person already acknowledged
RETRY_AFTER = 2.0  # seconds before the monitor is started again after it failed
SUPERVISOR_POLL = 0.25  # seconds between looks at the supervisor's snapshot (a stat each)
HEARTBEAT_LOOK = 2.0  # ...when the supervisor wakes us at each publish: only its heartbeat to see
SUPERVISOR_RESTART_EVERY = 10.0  # seconds between attempts to start a supervisor that is not running


class FleetSource(Protocol):
    fleet: Fleet | None  # the fleet file's model, for the roster's edits; None without a real fleet
    bell: bool
    notify: bool

    @property
    def base(self) -> str | None:
        """The branch agents merge into; None when no fleet is open (steering keys then dim)."""
        ...

    @property
    def agent_names(self) -> tuple[str, ...]: ...
    @property
    def auto_restarts(self) -> bool:
        """Whether any agent has a `restart_on` policy (the app then runs it per snapshot)."""
        ...

    # -- readings ---------------------------------------------------------------------------
    def run(self, publish: Publish, stop: threading.Event, on_error: OnError) -> None: ...
    def refresh(self, names: Iterable[str] | None = None) -> None: ...
    def wake(self) -> None: ...
    def show(self, agent: str | None) -> None:
        """Tell the fleet which agent the dashboard shows (no notification about it); never blocks."""
        ...

    def reload(self, fleet: Fleet) -> None: ...
    def file_states(self, agent: AgentSnapshot) -> dict[str, tuple[str, ...]]: ...
    def diff(self, agent: AgentSnapshot, change: FileChange) -> str: ...
    def events(self) -> list[Event]: ...

    # -- panes ------------------------------------------------------------------------------
    def send(self, agent: AgentSnapshot, text: str) -> None: ...
    def pane_history(self, agent: AgentSnapshot, lines: int) -> str: ...
    def acknowledged(self) -> dict[str, str]: ...
    def acknowledge(self, agent: str, key: str) -> None: ...
    def attach_command(self, agent: AgentSnapshot) -> tuple[list[str], dict[str, str]]: ...

    # -- steering ---------------------------------------------------------------------------
    def permit(self, action: str, agent: AgentSnapshot | None) -> Permit: ...
    def stakes(self, name: str) -> Stakes: ...
    def kill(self, name: str) -> Outcome: ...
    def restart(
        self, name: str, reason: str, force: bool, last: FleetSnapshot | None, note: str = ""
    ) -> Outcome: ...
    def preflight(self, name: str, cancel: Callable[[], bool] | None = None) -> Preflight: ...
    def accept_drift(self, name: str, paths: tuple[str, ...]) -> None: ...
    def sync(self, name: str) -> str: ...
    def merge(self, name: str, commit_message: str | None, remove_worktree: bool) -> MergeResult: ...
    def plan_queue(self, snapshot: FleetSnapshot | None) -> QueuePlan: ...
    def run_queue(self, plan: QueuePlan, on_step: Callable[[str], object]) -> QueueResult: ...
    def auto_restart(self, snapshot: FleetSnapshot) -> list[str]: ...


class LiveSource:
    """A real fleet: the monitor publishes snapshots; diffs, sends and attaches go to the adapters."""

    def __init__(
        self,
        fleet: Fleet,
        clock: Callable[[], float] = time.time,
        interval: float = 1.0,
        *,
        supervised: bool = False,
    ) -> None:
        self.fleet: Fleet | None = fleet
        self._fleet = fleet
        self.clock = clock
        self.interval = interval
        self.bell = fleet.spec.settings.bell
        self.notify = fleet.spec.settings.notify
        self._monitor: Monitor | None = None
        # Read from the fleet's supervisor (started if needed) rather than a monitor of our own.
        self.supervised = supervised
        self._stop: threading.Event | None = None
        self._current = threading.Event()  # ends the current monitor (app stop, or a reload)
        self._listener: wakeup.Listener | None = None  # woken by the supervisor at each publish
        self._events = EventLog(fleet.layout)  # read incrementally: only what was appended since
        self._shown: str | None = None  # the agent the dashboard shows; the worker reports it
        self._view = ViewReport(fleet.layout.state_dir)

    @property
    def base(self) -> str | None:
        return self._fleet.base

    @property
    def agent_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self._fleet.agents)

    @property
    def auto_restarts(self) -> bool:
        return any(a.restart_on for a in self._fleet.agents)

    def run(self, publish: Publish, stop: threading.Event, on_error: OnError) -> None:
        self._stop = stop
        try:
            self._run(publish, stop, on_error)
        finally:
            self._view.close()

    def _run(self, publish: Publish, stop: threading.Event, on_error: OnError) -> None:
        while not stop.is_set():
            self._current = threading.Event()
            if stop.is_set():
                break
            if self.supervised:
                self._follow_supervisor(publish, stop, on_error)
                continue
            self._monitor = Monitor(self._fleet, self.clock, log_changes=True)
            # Gates, reviews and retries run beside the monitor until a supervisor hosts them.
            pipe = Pipeline(self._fleet)

            def publish_with_pipeline(snapshot: FleetSnapshot, pipe: Pipeline = pipe) -> None:
                self._view.report(self._shown)
                publish(pipe.step(snapshot))

            try:
                self._monitor.run(publish_with_pipeline, self._current, self.interval, on_error)
            except Exception as exc:  # a broken reading must never end the dashboard
                on_error(f"reading the fleet failed: {exc}")
                stop.wait(RETRY_AFTER)
            finally:
                self._monitor.close()
                pipe.close()

    def _follow_supervisor(self, publish: Publish, stop: threading.Event, on_error: OnError) -> None:
        """Show what the fleet's supervisor publishes, starting it when it is not running. A picture
        from a supervisor that stopped is still shown, marked (`supervisor_alive` False)."""
        layout = self._fleet.layout
        reader = supervisor.SnapshotReader(layout)
        current = self._current
        self._listener = listener = wakeup.listen(layout)
        try:
            self._follow(publish, stop, on_error, reader, current)
        finally:
            self._listener = None
            if listener is not None:
                listener.close()

    def _follow(
        self,
        publish: Publish,
        stop: threading.Event,
        on_error: OnError,
        reader: supervisor.SnapshotReader,
        current: threading.Event,
    ) -> None:
        layout = self._fleet.layout
        tried = -SUPERVISOR_RESTART_EVERY
        shown: tuple[float, bool] | None = None
        listener = self._listener
        while not stop.is_set() and not current.is_set():
            self._view.report(self._shown)
            state = supervisor.status(layout)
            snapshot, new = reader.read()
            if snapshot is not None:  # first the picture as it is, marked when nobody keeps it
                taken = max(snapshot.taken_at, state.heartbeat or 0.0)
                alive = state.fresh()
                if new or shown != (taken, alive):
                    shown = (taken, alive)
                    publish(snapshot.model_copy(update={"taken_at": taken, "supervisor_alive": alive}))
            if not state.running and time.monotonic() - tried >= SUPERVISOR_RESTART_EVERY:
                tried = time.monotonic()
                try:
                    supervisor.start(self._fleet)
                except FleetError as exc:
                    on_error(f"the supervisor is not running and could not be started: {exc.message}")
                    self.supervised = False  # read the fleet here instead, as without a supervisor
                    return
                continue
            if listener is not None:
                listener.wait(HEARTBEAT_LOOK)
            else:
                stop.wait(SUPERVISOR_POLL)

    def refresh(self, names: Iterable[str] | None = None) -> None:
        """Ask for fresh git readings (all agents when None) and wake the monitor; never blocks."""
        if self._monitor is not None:
            self._monitor.mark_dirty(names)

    def wake(self) -> None:
        if self._stop is not None and self._stop.is_set():
            self._current.set()  # the app is closing: end the monitor's loop
        if self._monitor is not None:
            self._monitor.mark_dirty([])
        self._poke()

    def _poke(self) -> None:
        listener = self._listener
        if listener is not None:
            listener.poke()

    def show(self, agent: str | None) -> None:
        self._shown = agent  # written by the worker's loop (woken now, or within a tick)
        self._poke()

    def reload(self, fleet: Fleet) -> None:
        """Watch `fleet` from now on (its file changed): the running monitor ends and a new one
        starts on it, in the same worker thread."""
        self.fleet = self._fleet = fleet
        self._events = EventLog(fleet.layout)
        self._current.set()
        if self._monitor is not None:
            self._monitor.mark_dirty([])
        self._poke()

    def file_states(self, agent: AgentSnapshot) -> dict[str, tuple[str, ...]]:
        return git.file_states(Path(agent.worktree), self._fleet.base)

    def diff(self, agent: AgentSnapshot, change: FileChange) -> str:
        return git.diff_text(Path(agent.worktree), self._fleet.base, change.path, untracked=change.untracked)

    def events(self) -> list[Event]:
        return actions.events(self._fleet, log=self._events)

    def send(self, agent: AgentSnapshot, text: str) -> None:
        self._fleet.send(agent.name, text)

    def pane_history(self, agent: AgentSnapshot, lines: int) -> str:
        return self._fleet.tmux.capture_history(self._fleet.live_pane(agent.name).pane_id, lines)

    def acknowledged(self) -> dict[str, str]:
        """What the person already looked at, per agent (kept in .fleet/, across reopens)."""
        try:
            data = json.loads((self._fleet.layout.state_dir / ACKS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def acknowledge(self, agent: str, key: str) -> None:
        acks = self.acknowledged()
        if acks.get(agent) == key:
            return
        acks[agent] = key
        target = self._fleet.layout.state_dir / ACKS_FILE
        if target.parent.is_dir():
            write_atomic(target, json.dumps(acks, indent=2) + "\n")

    def attach_command(self, agent: AgentSnapshot) -> tuple[list[str], dict[str, str]]:
        pane = self._fleet.live_pane(agent.name)
        return self._fleet.tmux.attach_argv(self._fleet.session, pane.pane_id), client_env()

    def permit(self, action: str, agent: AgentSnapshot | None) -> Permit:
        return permit(action, agent)

    def stakes(self, name: str) -> Stakes:
        return actions.stakes(self._fleet, name)

    def kill(self, name: str) -> Outcome:
        return actions.kill(self._fleet, name)

    def restart(
        self, name: str, reason: str, force: bool, last: FleetSnapshot | None, note: str = ""
    ) -> Outcome:
        return actions.restart(self._fleet, name, reason=reason, force=force, last=last, note=note)

    def preflight(self, name: str, cancel: Callable[[], bool] | None = None) -> Preflight:
        return actions.preflight(self._fleet, name, cancel=cancel)

    def accept_drift(self, name: str, paths: tuple[str, ...]) -> None:
        pipeline_state.accept_drift(self._fleet, name, paths)

    def sync(self, name: str) -> str:
        return pipeline.sync(self._fleet, name)

    def merge(self, name: str, commit_message: str | None, remove_worktree: bool) -> MergeResult:
        return actions.merge(
            self._fleet, name, commit_message=commit_message, remove_worktree=remove_worktree
        )

    def plan_queue(self, snapshot: FleetSnapshot | None) -> QueuePlan:
        return actions.plan_queue(self._fleet, snapshot)

    def run_queue(self, plan: QueuePlan, on_step: Callable[[str], object]) -> QueueResult:
        return actions.run_queue(self._fleet, plan, on_step=on_step)

    def auto_restart(self, snapshot: FleetSnapshot) -> list[str]:
        return actions.auto_restart(self._fleet, snapshot)
