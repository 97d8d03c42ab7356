"""The supervisor's loop: the monitor run continuously, each changed snapshot published, the event
log and notifications fed, and the policies (`restart_on`, `depends_on` starts) run off its thread.

It lives in its own session (`setsid`), so it outlives the terminal that started it, like the
fleet's tmux server. Killing it loses nothing: everything it knows is in state.json and the event
log, and `up` or the dashboard start it again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import queue
import signal
import threading
import time
from collections.abc import Callable

from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.pipeline import Pipeline
from fleet_tui.engine.state import EventLog, Layout, log_event, take_exclusive, write_atomic
from fleet_tui.engine.supervisor.attention import Notices, Notifier, attention
from fleet_tui.engine.supervisor.control import HEARTBEAT_EVERY
from fleet_tui.engine.wakeup import wake_viewers
from fleet_tui.errors import EnvironmentProblem, FleetError
from fleet_tui.models import AgentSnapshot, FleetSnapshot, Status

SUPERVISOR_NICE = 10  # added to the niceness it was started with

LOG_BYTES = 512 * 1024  # supervisor.log is rotated at this size, keeping LOG_KEEP old ones
LOG_KEEP = 2
RESTART_MONITOR_AFTER = 2.0
FLEET_FILE_CHECK = 2.0  # seconds between looks at the fleet file (an agent added or removed)


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
        self.notices = Notices(fleet, self.log, notifier)
        self.started_at = time.time()
        self._last: FleetSnapshot | None = None
        self._known: dict[str, AgentSnapshot] = {}
        self._heartbeat = 0.0
        self._policy_queue: queue.Queue[FleetSnapshot | None] = queue.Queue(maxsize=1)
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
        if not take_exclusive(fd):
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
        threading.Thread(target=self._policies, args=(stop,), daemon=True, name="fleet-policies").start()
        self.notices.start()
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
            self.notices.close()
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
            self.notices.fleet = self.fleet
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
            wake_viewers(self.fleet.layout)  # the dashboards look now, not at their next poll
            self.published += 1
            self._note_down(last, snapshot)
            self._changes(snapshot)
            with contextlib.suppress(queue.Full):
                self._policy_queue.put_nowait(snapshot)
        self._last = snapshot
        self._beat(now)
        if self._fleet_file_changed(time.time()):
            self._current.set()  # the loop opens the fleet file again and starts a new monitor

    def _note_down(self, before: FleetSnapshot | None, after: FleetSnapshot) -> None:
        """The session going down (or coming back), once per change, with the reason."""
        was = before.down_reason if before is not None else None
        if after.down_reason == was:
            return
        if after.down_reason is not None:
            self.log.warning("the fleet is down: %s", after.down_reason)
            log_event(self.fleet.layout, None, "session-down", reason=after.down_reason)
        elif before is not None:
            self.log.info("the fleet's tmux session is up again")
            log_event(self.fleet.layout, None, "session-up")

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
            if agent.git_pending:  # the first picture, before git: its drift is not known yet
                continue
            before = self._known.get(agent.name) or self._remembered(agent)
            if tuple(agent.drift) != tuple(before.drift):
                log_event(layout, agent.name, "drift", files=list(agent.drift), count=len(agent.drift))
            partners = sorted({o for names in agent.overlap.values() for o in names})
            if partners != sorted({o for names in before.overlap.values() for o in names}):
                log_event(layout, agent.name, "overlap", with_agents=partners, files=sorted(agent.overlap))
            reason = attention(before, agent)
            if reason is not None:
                self.notices.agent_needs(snapshot, agent, reason)
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
    if before.down_reason != after.down_reason:
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
    with contextlib.suppress(OSError):
        # Background work (readings, gates, notices) yields to a person's dashboard and to the
        # agents on a busy machine: a fleet-wide re-read once stalled the dashboard's keys. Agents
        # are started by the tmux server, never by this process, so they keep their priority.
        os.nice(SUPERVISOR_NICE)
    Supervisor(fleet, reopen=reopen).run(stop)
