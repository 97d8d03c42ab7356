"""The supervisor: one background process per fleet that keeps it while nobody watches.

It runs the monitor continuously and owns what must happen with no dashboard open: status, drift
and overlap changes go to the event log, `restart_on` with its backoff, starting `depends_on` agents
once their dependencies are merged, and attention notifications. It publishes every changed
`FleetSnapshot` to `.fleet/snapshot.json` (replaced atomically) and a heartbeat to
`.fleet/supervisor.json`, so the dashboard, `fleet-tui status` and `fleet-tui watch` all read the
same picture without running a monitor of their own.

It lives in its own session (`setsid`), so it outlives the terminal that started it, like the
fleet's tmux server. Exactly one runs per fleet: it holds an flock on `.fleet/supervisor.lock` for
its lifetime, which is also how others tell whether it runs (no pid file to go stale). Killing it
loses nothing: everything it knows is in state.json and the event log, and `up` or the dashboard
start it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import logging.handlers
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fleet_tui.adapters import processes
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.launcher import AGENT_MARKER
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.pipeline import Pipeline
from fleet_tui.engine.state import EventLog, Layout, log_event, write_atomic
from fleet_tui.errors import EnvironmentProblem, FleetError
from fleet_tui.models import AgentSnapshot, FleetSnapshot, Status

HEARTBEAT_EVERY = 1.0  # seconds between heartbeats (each tick writes one at most this often)
STALE_AFTER = 5.0  # a heartbeat older than this: the picture is stale (the UI says so)
START_WAIT = 10.0  # seconds `up` waits for a started supervisor to publish its first snapshot
LOG_BYTES = 512 * 1024  # supervisor.log is rotated at this size, keeping LOG_KEEP old ones
LOG_KEEP = 2
RESTART_MONITOR_AFTER = 2.0
FLEET_FILE_CHECK = 2.0  # seconds between looks at the fleet file (an agent added or removed)


# -- is it running? -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupervisorStatus:
    running: bool
    pid: int | None = None
    started_at: float | None = None
    heartbeat: float | None = None

    def fresh(self, now: float | None = None) -> bool:
        """Running and heard from within STALE_AFTER seconds."""
        now = time.time() if now is None else now
        return self.running and self.heartbeat is not None and now - self.heartbeat <= STALE_AFTER

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if not self.running:
            return "not running (start it with `fleet-tui up`)"
        since = time.strftime("%H:%M:%S", time.localtime(self.started_at)) if self.started_at else "?"
        words = f"running (pid {self.pid}, since {since})"
        if not self.fresh(now):
            age = f"{now - self.heartbeat:.0f} s ago" if self.heartbeat else "never"
            words += f", but its last reading was {age}"
        return words


def _lock_held(path: Path) -> bool:
    """True when some process holds the flock on `path` (the supervisor, for its lifetime)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock we may have taken
    return False


def status(layout: Layout) -> SupervisorStatus:
    """Whether the fleet's supervisor runs, and what it last said about itself."""
    running = _lock_held(layout.supervisor_lock)
    try:
        info = json.loads(layout.supervisor_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict):
        info = {}

    def number(key: str) -> float | None:
        value = info.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    pid = number("pid")
    return SupervisorStatus(
        running=running,
        pid=int(pid) if pid is not None and running else None,
        started_at=number("started_at") if running else None,
        heartbeat=number("heartbeat") if running else None,
    )


class SnapshotReader:
    """Reads `.fleet/snapshot.json` again only when it was replaced (one stat per look)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._key: tuple[int, int, int] | None = None
        self.snapshot: FleetSnapshot | None = None

    def read(self) -> tuple[FleetSnapshot | None, bool]:
        """(the latest published snapshot, whether it is new since the last read)."""
        try:
            st = self.layout.snapshot_file.stat()
        except OSError:
            return self.snapshot, False
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        if key == self._key:
            return self.snapshot, False
        try:
            snapshot = FleetSnapshot.model_validate_json(self.layout.snapshot_file.read_bytes())
        except (OSError, ValidationError):
            return self.snapshot, False  # a damaged file: the next publish replaces it
        self._key, self.snapshot = key, snapshot
        return snapshot, True


def published(layout: Layout) -> FleetSnapshot | None:
    """The supervisor's latest snapshot, when it runs and is fresh; None otherwise."""
    state = status(layout)
    if not state.fresh():
        return None
    snapshot, _ = SnapshotReader(layout).read()
    if snapshot is None:
        return None
    return snapshot.model_copy(update={"taken_at": max(snapshot.taken_at, state.heartbeat or 0.0)})


# -- starting and stopping --------------------------------------------------------------------------


def supervisor_argv(fleet: Fleet) -> list[str]:
    return [sys.executable, "-m", "fleet_tui", "supervise", "-C", str(fleet.root), "-f", str(fleet.spec.path)]


def start(fleet: Fleet, wait: float = START_WAIT) -> SupervisorStatus:
    """Start the fleet's supervisor unless it runs; wait until it published a snapshot."""
    layout = fleet.layout
    current = status(layout)
    if current.running:
        return current
    env = {k: v for k, v in os.environ.items() if k not in (AGENT_MARKER, "TMUX", "TMUX_PANE")}
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    processes.spawn_detached(supervisor_argv(fleet), fleet.root, env, layout.state_dir / "supervisor.out")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        current = status(layout)
        if current.running and current.heartbeat is not None:
            return current
        time.sleep(0.05)
    raise EnvironmentProblem(
        f"the supervisor of fleet {fleet.name!r} did not start within {wait:g} s",
        f"see {layout.supervisor_log} and {layout.state_dir / 'supervisor.out'}",
    )


def stop(layout: Layout, timeout: float = 10.0) -> bool:
    """Stop the supervisor (SIGTERM, then SIGKILL); True when one was running."""
    current = status(layout)
    if not current.running or current.pid is None:
        return False
    processes.signal_pid(current.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _lock_held(layout.supervisor_lock):
        if time.monotonic() > deadline:
            processes.signal_pid(current.pid, signal.SIGKILL)
            time.sleep(0.2)
            break
        time.sleep(0.05)
    return True


# -- attention --------------------------------------------------------------------------------------


def attention(before: AgentSnapshot | None, after: AgentSnapshot) -> str | None:
    """Why an agent needs a person since `before`: waiting, crashed, drifted, or ready to merge."""
    was = before.status if before is not None else None
    if after.status == Status.WAITING and was != Status.WAITING:
        return "is waiting for an answer"
    if after.status == Status.CRASHED and was != Status.CRASHED:
        return f"crashed (exit {after.exit_code})" if after.exit_code is not None else "crashed"
    new_drift = sorted(set(after.drift) - set(before.drift if before is not None else ()))
    if new_drift:
        return "drifted: " + ", ".join(new_drift[:5]) + (" ..." if len(new_drift) > 5 else "")
    if after.status == Status.READY and was != Status.READY:  # every gate passed (the pipeline)
        return "is ready to merge"
    return None


# -- the supervisor ---------------------------------------------------------------------------------


def _logger(layout: Layout) -> logging.Logger:
    logger = logging.getLogger(f"fleet_tui.supervisor.{layout.root}")
    logger.propagate = False
    if not logger.handlers:
        layout.state_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            layout.supervisor_log, maxBytes=LOG_BYTES, backupCount=LOG_KEEP, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return logger


Notifier = Callable[[dict[str, Any]], None]


class Supervisor:
    """The loop behind `fleet-tui supervise`. `run(stop)` blocks until `stop` is set."""

    def __init__(
        self,
        fleet: Fleet,
        *,
        interval: float = 1.0,
        reopen: Callable[[], Fleet] | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.fleet = fleet
        self.interval = interval
        self.reopen = reopen  # opens the fleet file again when it changed
        self.log = _logger(fleet.layout)
        self.notifier = notifier or self._notify
        self.started_at = time.time()
        self._last: FleetSnapshot | None = None
        self._known: dict[str, AgentSnapshot] = {}
        self._heartbeat = 0.0
        self._policy_queue: queue.Queue[FleetSnapshot | None] = queue.Queue(maxsize=1)
        self._hooks: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._fleet_key: tuple[int, int] | None = self._file_key()
        self._fleet_checked = 0.0
        self.published = 0  # snapshots written (tests and the benchmark read it)
        self._current = threading.Event()  # ends the running monitor (stop, or a fleet file change)
        self._logged_status: dict[str, str] = {}
        self._logged_drift: dict[str, tuple[str, ...]] = {}

    # -- lifetime ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        layout = self.fleet.layout
        layout.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(layout.supervisor_lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise EnvironmentProblem(
                f"the supervisor of fleet {self.fleet.name!r} is already running", "see `fleet-tui status`"
            ) from None
        try:
            self.fleet.require_own_session()
        except FleetError:
            os.close(fd)
            raise
        self.log.info("supervisor started (pid %d) for %s", os.getpid(), self.fleet.root)
        log_event(layout, None, "supervisor-started", pid=os.getpid())
        self._beat(time.time(), force=True)
        workers = [
            threading.Thread(target=self._policies, args=(stop,), daemon=True, name="fleet-policies"),
            threading.Thread(target=self._run_hooks, daemon=True, name="fleet-notify"),
        ]
        for worker in workers:
            worker.start()
        try:
            self._baseline()
            while not stop.is_set():
                current = threading.Event()
                self._current = current
                monitor = Monitor(self.fleet, log_changes=True)
                # Gates, reviews and retries: the pipeline steps on every snapshot before it is published.
                pipe = Pipeline(self.fleet, notify=lambda message: self.log.info("pipeline: %s", message))
                watcher = threading.Thread(target=self._relay, args=(stop, current), daemon=True)
                watcher.start()
                try:
                    monitor.run(self._through(pipe), current, self.interval, self._reading_failed)
                except Exception:  # one bad reading must not end the supervisor
                    self.log.exception("the monitor failed; starting it again")
                    stop.wait(RESTART_MONITOR_AFTER)
                finally:
                    current.set()
                    monitor.close()
                    pipe.close()
                self._maybe_reopen()
        finally:
            self._hooks.put(None)
            self.log.info("supervisor stopped (pid %d)", os.getpid())
            with contextlib.suppress(OSError):
                log_event(layout, None, "supervisor-stopped", pid=os.getpid())
                layout.supervisor_file.unlink(missing_ok=True)
            os.close(fd)

    def _through(self, pipe: Pipeline) -> Callable[[FleetSnapshot], None]:
        def publish(snapshot: FleetSnapshot) -> None:
            self._publish(pipe.step(snapshot))

        return publish

    @staticmethod
    def _relay(stop: threading.Event, current: threading.Event) -> None:
        """Ends the current monitor when the supervisor stops."""
        while not current.is_set():
            if stop.wait(0.5):
                current.set()

    def _file_key(self) -> tuple[int, int] | None:
        try:
            st = self.fleet.spec.path.stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns

    def _fleet_file_changed(self, now: float) -> bool:
        if self.reopen is None or now - self._fleet_checked < FLEET_FILE_CHECK:
            return False
        self._fleet_checked = now
        return self._file_key() != self._fleet_key

    def _maybe_reopen(self) -> None:
        if self.reopen is None or self._file_key() == self._fleet_key:
            return
        self._fleet_key = self._file_key()
        try:
            self.fleet = self.reopen()
            self.log.info("the fleet file changed: now watching %d agents", len(self.fleet.agents))
        except FleetError as exc:
            self.log.warning("the fleet file changed but cannot be read (%s); keeping the old one", exc)

    # -- each snapshot -----------------------------------------------------------------------

    def _reading_failed(self, message: str) -> None:
        self.log.warning("reading the fleet: %s", message)

    def _publish(self, snapshot: FleetSnapshot) -> None:
        now = snapshot.taken_at
        snapshot = snapshot.model_copy(update={"supervisor_pid": os.getpid(), "supervisor_alive": True})
        last = self._last
        if last is None or _changed(last, snapshot):
            write_atomic(self.fleet.layout.snapshot_file, snapshot.model_dump_json(by_alias=True))
            self.published += 1
            self._changes(snapshot)
            with contextlib.suppress(queue.Full):
                self._policy_queue.put_nowait(snapshot)
        self._last = snapshot
        self._beat(now)
        if self._fleet_file_changed(time.time()):
            self._current.set()  # the loop opens the fleet file again and starts a new monitor

    def _beat(self, now: float, *, force: bool = False) -> None:
        if not force and now - self._heartbeat < HEARTBEAT_EVERY:
            return
        self._heartbeat = now
        info = {"pid": os.getpid(), "started_at": self.started_at, "heartbeat": now}
        try:
            write_atomic(self.fleet.layout.supervisor_file, json.dumps(info) + "\n")
        except OSError as exc:
            self.log.warning("cannot write the heartbeat: %s", exc)

    def _baseline(self) -> None:
        """What the event log last said about each agent, so a restarted supervisor logs (and
        notifies) only what changed while it was away, not everything again."""
        last_status: dict[str, str] = {}
        drift: dict[str, tuple[str, ...]] = {}
        for event in EventLog(self.fleet.layout).read():
            if event.agent is None:
                continue
            if event.event == "status" and isinstance(event.details.get("status"), str):
                last_status[event.agent] = event.details["status"]
            elif event.event == "drift" and isinstance(event.details.get("files"), list):
                drift[event.agent] = tuple(str(f) for f in event.details["files"])
        self._logged_status = last_status
        self._logged_drift = drift

    def _changes(self, snapshot: FleetSnapshot) -> None:
        """Status (the gap while no supervisor ran), drift and overlap changes to the event log;
        attention notifications, one per change."""
        layout = self.fleet.layout
        for agent in snapshot.agents:
            before = self._known.get(agent.name) or self._remembered(agent)
            if tuple(agent.drift) != tuple(before.drift):
                log_event(layout, agent.name, "drift", files=list(agent.drift), count=len(agent.drift))
            partners = sorted({o for names in agent.overlap.values() for o in names})
            if partners != sorted({o for names in before.overlap.values() for o in names}):
                log_event(layout, agent.name, "overlap", with_agents=partners, files=sorted(agent.overlap))
            reason = attention(before, agent)
            if reason is not None:
                self._attention(snapshot, agent, reason)
            self._known[agent.name] = agent

    def _remembered(self, agent: AgentSnapshot) -> AgentSnapshot:
        """The agent as the event log last described it (first sight since this supervisor
        started): a status that changed while no supervisor ran is logged now."""
        logged = self._logged_status.get(agent.name)
        if logged != agent.status.value:  # also a first status: the log then knows it from now on
            log_event(
                self.fleet.layout, agent.name, "status", status=agent.status.value, previous=logged,
                reason=agent.status_reason, while_away=logged is not None,
            )  # fmt: skip
        status = (
            Status(logged) if logged is not None and logged in Status._value2member_map_ else agent.status
        )
        return agent.model_copy(update={"status": status, "drift": self._logged_drift.get(agent.name, ())})

    def _attention(self, snapshot: FleetSnapshot, agent: AgentSnapshot, reason: str) -> None:
        looked_at = agent.pane_id is not None and agent.pane_id in self._viewed()
        event = {
            "fleet": snapshot.fleet,
            "repo": snapshot.repo,
            "agent": agent.name,
            "status": agent.status.value,
            "reason": reason,
            "message": f"{agent.name} {reason}",
            "attach": f"fleet-tui -C {snapshot.repo} attach {agent.name}",
            "time": snapshot.taken_at,
        }
        log_event(self.fleet.layout, agent.name, "attention", reason=reason, notified=not looked_at)
        if looked_at:  # the person is looking at that pane right now
            return
        self._hooks.put(event)

    def _viewed(self) -> set[str]:
        try:
            return self.fleet.tmux.viewed_panes(self.fleet.session)
        except FleetError:
            return set()

    def _run_hooks(self) -> None:
        while True:
            event = self._hooks.get()
            if event is None:
                return
            try:
                self.notifier(event)
            except Exception:
                self.log.exception("a notification failed")

    def _notify(self, event: dict[str, Any]) -> None:
        settings = self.fleet.spec.settings
        title = f"fleet-tui: {event['fleet']}"
        body = f"{event['message']}\n{event['attach']}"
        if settings.notify:
            used = processes.desktop_notify(title, body)
            self.log.info("attention: %s (desktop: %s)", event["message"], used or "none available")
        if settings.on_attention:
            code, output = processes.run_hook(settings.on_attention, json.dumps(event), self.fleet.root)
            if code != 0:
                self.log.warning("on_attention ended with %s: %s", code, output.strip()[-500:])

    # -- policies ----------------------------------------------------------------------------

    def _policies(self, stop: threading.Event) -> None:
        """restart_on and depends_on starts, off the monitor's thread (a restart takes seconds)."""
        from fleet_tui.engine import actions  # the actions build on the monitor; needed only here

        while not stop.is_set():
            try:
                snapshot = self._policy_queue.get(timeout=self.interval * 5)
            except queue.Empty:
                snapshot = self._last  # backoffs run out with nothing new to see
            if snapshot is None or stop.is_set():
                continue
            try:
                if any(a.restart_on for a in self.fleet.agents):
                    for line in actions.auto_restart(self.fleet, snapshot):
                        self.log.info("restart_on: %s", line)
                if any(a.status == Status.QUEUED and not a.waiting_for for a in snapshot.agents):
                    for line in self.fleet.start_ready():
                        self.log.info("depends_on: %s", line)
            except FleetError as exc:
                self.log.warning("policy: %s", exc)
            except Exception:
                self.log.exception("a policy failed")


def _changed(before: FleetSnapshot, after: FleetSnapshot) -> bool:
    """Whether anything but the time differs (the monitor reuses unchanged agents' objects)."""
    if before.session_alive != after.session_alive or before.overlaps != after.overlaps:
        return True
    if len(before.agents) != len(after.agents):
        return True
    return any(a is not b and a != b for a, b in zip(before.agents, after.agents, strict=True))


def serve(fleet: Fleet, reopen: Callable[[], Fleet] | None = None) -> None:
    """Run the supervisor in this process until SIGTERM or SIGINT (`fleet-tui supervise`)."""
    stop = threading.Event()

    def ask_stop(_sig: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, ask_stop)
    signal.signal(signal.SIGINT, ask_stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a closed terminal must not end it
    Supervisor(fleet, reopen=reopen).run(stop)
