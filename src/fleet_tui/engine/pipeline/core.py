"""The pipeline's scheduler: one leader per fleet, a small pool of jobs (one per agent at a time),
and one `step` per monitor snapshot that decides which jobs a snapshot calls for."""

from __future__ import annotations

import fcntl
import operator
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.merge_result import VERIFY_TIMEOUT
from fleet_tui.engine.pipeline.decide import decide
from fleet_tui.engine.pipeline.gates import facts_of, run_gates
from fleet_tui.engine.pipeline.review import read_verdict
from fleet_tui.engine.pipeline_state import load_record, record_file
from fleet_tui.engine.readcache import BranchTips, StateFile
from fleet_tui.engine.state import Phase
from fleet_tui.errors import ExternalCommandFailed, FleetError
from fleet_tui.models import FleetSnapshot, Status
from fleet_tui.pipeline_rules import GATES, AgentFacts, PipelineRecord, fresh, is_ready, overlay

GATE_WORKERS = 2  # gates (verify above all) at most this many at a time: the machine is shared
SETTLED = (Status.IDLE, Status.EXITED)  # a doer in one of these with new commits gets its gates run

Notify = Callable[[str], None]


class Pipeline:
    """Gates, reviews and retries for one fleet, driven by monitor snapshots."""

    def __init__(
        self,
        fleet: Fleet,
        *,
        workers: int = GATE_WORKERS,
        verify_timeout: float = VERIFY_TIMEOUT,
        notify: Notify | None = None,
        grace: float = 3.0,
    ) -> None:
        self.fleet = fleet
        self.verify_timeout = verify_timeout
        self.grace = grace
        self.notify = notify
        self.messages: list[str] = []  # everything it did or noticed, in words (tests read it)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fleet-gates")
        self._busy: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._records: dict[str, tuple[tuple[int, int] | None, PipelineRecord]] = {}
        self._record_files: dict[str, Path] = {}
        # Set at close: a running verify ends with its process group, so quitting never waits
        # for it (the executor's threads are joined when the interpreter exits).
        self._closed = threading.Event()
        self._leader_fd: int | None = None
        self._tips = BranchTips(fleet.root)
        self._state = StateFile(fleet.layout)
        self._overlaid: tuple[tuple[object, ...], FleetSnapshot] | None = None  # (inputs, result)

    def close(self) -> None:
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._leader_fd is not None:
            os.close(self._leader_fd)  # releases the pipeline lock
            self._leader_fd = None

    def leading(self) -> bool:
        """One pipeline acts per fleet (a dashboard, `fleet-tui pipeline`, a supervisor): whoever
        holds `.fleet/pipeline.lock`. The others only show what it found, and take over when it ends."""
        if self._leader_fd is not None:
            return True
        path = self.fleet.layout.state_dir / "pipeline.lock"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._leader_fd = fd
        return True

    def _say(self, message: str) -> None:
        self.messages.append(message)
        if self.notify is not None:
            self.notify(message)

    def _record(self, name: str) -> PipelineRecord:
        """The record, parsed again only when its file changed; the same object while it did not
        (also for an agent with no record yet), so `step` can tell an unchanged fleet at a glance."""
        path = self._record_files.get(name)
        if path is None:
            path = self._record_files[name] = record_file(self.fleet, name)
        try:
            st = path.stat()
            stamp: tuple[int, int] | None = (st.st_ino, st.st_mtime_ns)
        except OSError:
            stamp = None
        cached = self._records.get(name)
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_record(self.fleet, name) if stamp is not None else PipelineRecord())
            self._records[name] = cached
        return cached[1]

    def _submit(self, name: str, job: Callable[[], None]) -> None:
        """Run `job` in the pool unless this agent already has one running."""
        with self._lock:
            running = self._busy.get(name)
            if running is not None and not running.done():
                return
            self._busy[name] = self._pool.submit(self._guard, name, job)

    def _guard(self, name: str, job: Callable[[], None]) -> None:
        try:
            job()
        except FleetError as exc:
            self._say(f"{name}: {exc.message}")
        except Exception as exc:  # a failing job must not end the pipeline
            self._say(f"{name}: pipeline step failed: {exc}")

    def busy(self) -> bool:
        with self._lock:
            return any(not f.done() for f in self._busy.values())

    # -- one step per snapshot ----------------------------------------------------------------------

    def step(self, snapshot: FleetSnapshot) -> FleetSnapshot:
        """Schedule what this snapshot calls for; return it with gates, ready statuses and the queue."""
        fleet = self.fleet
        try:
            tips = self._tips.get()
        except ExternalCommandFailed:
            return snapshot
        base_head = tips.get(fleet.base, "")
        records = {a.name: self._record(a.name) for a in fleet.agents}
        facts = facts_of(fleet, tips)
        if self.leading():
            self._schedule(snapshot, records, facts, base_head)
        # The same agents, records and tips as last time: the same overlaid agents (the very
        # objects), so an idle fleet's snapshots compare equal at a glance and build nothing.
        inputs = (*snapshot.agents, tips, *records.values())  # base_head comes from tips
        last = self._overlaid
        if last is not None and len(last[0]) == len(inputs) and all(map(operator.is_, last[0], inputs)):
            return snapshot.model_copy(update={"agents": last[1].agents, "queue": last[1].queue})
        result = overlay(snapshot, records, facts, base_head, fleet.spec.settings.max_agents)
        self._overlaid = (inputs, result)
        return result

    def _schedule(
        self,
        snapshot: FleetSnapshot,
        records: dict[str, PipelineRecord],
        facts: dict[str, AgentFacts],
        base_head: str,
    ) -> None:
        fleet = self.fleet
        state = self._state.get()  # read only: jobs read it again under the lock
        by_name = {a.name: a for a in fleet.agents}
        for reading in snapshot.agents:
            agent = by_name.get(reading.name)
            if agent is None or agent.is_reviewer:
                continue
            if reading.git_pending:
                continue  # the first picture, before git: decide on the next one
            record = records[agent.name]
            phase = state.agent(agent.name).phase
            tip = facts[agent.name].tip
            if phase != Phase.RUNNING or record.needs_person or not tip or reading.status not in SETTLED:
                continue
            if reading.started_at != state.agent(agent.name).started_at:
                continue  # read before its latest (re)start: "settled" describes the run before
            if tip == state.agent(agent.name).branch_start and not reading.commits_ahead:
                continue  # nothing of its own to check yet
            if not all(fresh(record.gates.get(g), tip, base_head) for g in GATES):
                self._submit(agent.name, partial(self._gates, agent.name))
                continue
            run = state.agent(agent.name).run
            if record.decided == f"{tip}:{base_head}:{run}":
                continue  # this result was acted on already
            reviewed = agent.review is not None
            if record.notified_tip == tip and is_ready(record, tip, base_head, reviewed=reviewed):
                continue  # ready, and said so: nothing to do until a commit or base moves
            self._submit(agent.name, partial(self._decide, agent.name, tip, base_head, run))
        for reviewer in (a for a in fleet.agents if a.is_reviewer):
            doer_record = records.get(reviewer.reviews or "")
            seen = snapshot.agent(reviewer.name)
            if doer_record is None or seen is None or not doer_record.review_tip:
                continue
            if doer_record.review_verdict is not None or state.agent(reviewer.name).phase != Phase.RUNNING:
                continue
            if seen.started_at != state.agent(reviewer.name).started_at:
                continue  # a reading taken before this round began: its "ended" is the last round's
            if seen.status in (Status.EXITED, Status.CRASHED, Status.IDLE):
                self._submit(reviewer.name, partial(self._read_verdict, reviewer.name, seen.status))
        queued = [a for a in fleet.spec.doers if state.agent(a.name).phase == Phase.QUEUED]
        if queued and fleet.spec.settings.max_agents is not None:  # a slot may have come free
            self._submit("(queue)", self._start_ready)

    # -- jobs (in the pool) -------------------------------------------------------------------------

    def _gates(self, name: str) -> None:
        record = run_gates(self.fleet, name, verify_timeout=self.verify_timeout, cancel=self._closed.is_set)
        failed = [g for g in record.gates.values() if g.ok is False]
        if failed:
            self._say(f"{name}: " + "; ".join(g.detail for g in failed))

    def _start_ready(self) -> None:
        for line in self.fleet.start_ready():
            self._say(line)

    def _decide(self, name: str, tip: str, base_head: str, run: int) -> None:
        decide(self.fleet, name, tip, base_head, run, grace=self.grace, say=self._say)

    def _read_verdict(self, reviewer_name: str, status: Status) -> None:
        read_verdict(self.fleet, reviewer_name, status, say=self._say)


def run_for(
    fleet: Fleet,
    seconds: float | None,
    interval: float = 1.0,
    notify: Notify | None = None,
    stop: threading.Event | None = None,
) -> FleetSnapshot:
    """Run the monitor and the pipeline without a dashboard, for `seconds` (None: until `stop` is
    set); returns the last snapshot, with gates and the queue. A supervisor hosts `Pipeline` the
    same way: one `step` per monitor snapshot."""
    from fleet_tui.engine.monitor import Monitor

    monitor, pipe = Monitor(fleet, log_changes=True), Pipeline(fleet, notify=notify)
    deadline = time.monotonic() + seconds if seconds is not None else float("inf")
    stop = stop or threading.Event()
    snapshot: FleetSnapshot | None = None
    try:
        while snapshot is None or (time.monotonic() < deadline and not stop.is_set()):
            snapshot = pipe.step(monitor.tick())
            stop.wait(max(0.0, min(interval, deadline - time.monotonic())))
    finally:
        pipe.close()
        monitor.close()
    return snapshot
