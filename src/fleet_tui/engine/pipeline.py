"""The pipeline: gates in the background, the ready status, the reviewer, capped retries, sync.

`Pipeline.step(snapshot)` is called with every monitor snapshot by whoever runs the monitor (the
dashboard's reader thread, a supervisor): it returns the snapshot with gates, ready statuses and
the queue, and schedules work, never doing it itself. Gates, reviewer starts and retries run in a
small thread pool (a few at a time, one job per agent at a time), so a slow `verify` never holds
the monitor up. What the pipeline knows per agent lives in `.fleet/agents/<name>/pipeline.json`,
read-modify-written under the state lock.

Gates of a doer run when it has commits of its own and is idle or has exited: no uncommitted work;
`verify` on the *merge result* (base's current tip merged with the agent's branch, in a throwaway
worktree removed afterwards); no conflict with base (`git merge-tree`); no drift, or drift the person
accepted. Results are stamped with the agent's commit and base's commit, so when base moves (another
merge) every settled agent's conflict and verify gates run again by themselves.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import partial

from fleet_tui.adapters import git
from fleet_tui.engine.actions import lifecycle
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.launcher import write_launcher
from fleet_tui.engine.merge_result import VERIFY_TIMEOUT, verify_merge_result
from fleet_tui.engine.pipeline_state import (
    accept_drift,
    load_record,
    record_file,
    retry_for,
    update_record,
    verdict_file,
)
from fleet_tui.engine.state import Phase, load_state, log_event, save_state, state_lock
from fleet_tui.errors import ActionRefused, ExternalCommandFailed, FleetError
from fleet_tui.models import FleetSnapshot, GateResult, Status
from fleet_tui.pipeline import (
    GATES,
    REVIEW,
    AgentFacts,
    PipelineRecord,
    VerdictError,
    automatic_pass,
    fresh,
    is_ready,
    overlay,
    parse_verdict,
    review_prompt,
)
from fleet_tui.scope import drift, mark_scope

GATE_WORKERS = 2  # gates (verify above all) at most this many at a time: the machine is shared
SETTLED = (Status.IDLE, Status.EXITED)  # a doer in one of these with new commits gets its gates run

Notify = Callable[[str], None]


# -- gates ---------------------------------------------------------------------------------------------


def _files(paths: tuple[str, ...] | list[str], limit: int = 6) -> str:
    shown = ", ".join(paths[:limit]) + (" ..." if len(paths) > limit else "")
    return f"{len(paths)} file{'s' if len(paths) != 1 else ''}: {shown}"


def run_gates(
    fleet: Fleet,
    name: str,
    *,
    verify_timeout: float = VERIFY_TIMEOUT,
    cancel: Callable[[], bool] | None = None,
) -> PipelineRecord:
    """Check every automatic gate of one agent now; the results are stored and returned."""
    agent = fleet.agent(name)
    path = fleet.layout.worktree(name)
    root, base = fleet.root, fleet.base
    base_head = git.rev_parse(root, base)
    tip = git.rev_parse(path, "HEAD")
    now = time.time()

    def gate(gate_name: str, ok: bool, detail: str) -> GateResult:
        return GateResult(name=gate_name, ok=ok, detail=detail, checked_at=now, tip=tip, base_head=base_head)

    uncommitted = git.uncommitted_files(path)
    reading = git.read_worktree(path, base)
    outside = drift(mark_scope(reading.files, fleet.scopes[name]))
    accepted = set(load_record(fleet, name).drift_accepted)
    unaccepted = tuple(p for p in outside if p not in accepted)
    check = git.merge_check(root, base_head, tip)
    output = ""
    if agent.verify is None:
        verify = gate("verify", True, "no verify command set")
    elif not check.clean:
        verify = gate("verify", False, f"not run: the merge with {base} conflicts")
    else:
        code, output = verify_merge_result(fleet, name, base_head, tip, check.tree, verify_timeout, cancel)
        how = "passed" if code == 0 else "timed out" if code is None else f"failed (exit {code})"
        verify = gate("verify", code == 0, f"`{agent.verify}` {how} on the merge with {base}")
    results = {
        "uncommitted": gate(
            "uncommitted",
            not uncommitted,
            "none" if not uncommitted else f"uncommitted {_files(uncommitted)}",
        ),
        "verify": verify,
        "conflicts": gate(
            "conflicts",
            check.clean,
            f"merges cleanly into {base}"
            if check.clean
            else f"conflicts with {base} in {', '.join(check.conflicts)}",
        ),
        "drift": gate(
            "drift",
            not unaccepted,
            "none"
            if not outside
            else f"accepted: {_files(list(outside))}"
            if not unaccepted
            else f"outside its scope, not accepted: {_files(list(unaccepted))}",
        ),
    }

    def store(record: PipelineRecord) -> None:
        record.gates.update(results)
        record.verify_output = output
        record.conflicts = check.conflicts
        record.drift = outside

    record = update_record(fleet, name, store)
    log_event(
        fleet.layout, name, "gates", tip=tip, base_head=base_head,
        failed=[g.name for g in results.values() if not g.ok],
    )  # fmt: skip
    return record


def facts_of(fleet: Fleet, tips: dict[str, str]) -> dict[str, AgentFacts]:
    return {
        a.name: AgentFacts(
            role=a.kind, reviewed=a.review is not None, max_rounds=a.max_rounds, tip=tips.get(a.branch, "")
        )
        for a in fleet.agents
    }


def view(fleet: Fleet, snapshot: FleetSnapshot) -> FleetSnapshot:
    """A snapshot with gates, ready statuses and the queue, scheduling nothing (`status`)."""
    try:
        tips = git.branch_commits(fleet.root)
    except ExternalCommandFailed:
        return snapshot
    records = {a.name: load_record(fleet, a.name) for a in fleet.agents}
    return overlay(
        snapshot, records, facts_of(fleet, tips), tips.get(fleet.base, ""), fleet.spec.settings.max_agents
    )


# -- the pipeline ------------------------------------------------------------------------------------


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
        self._records: dict[str, tuple[int, PipelineRecord]] = {}
        # Set at close: a running verify ends with its process group, so quitting never waits
        # for it (the executor's threads are joined when the interpreter exits).
        self._closed = threading.Event()
        self._leader_fd: int | None = None

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
        """The record, parsed again only when its file changed."""
        path = record_file(self.fleet, name)
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return PipelineRecord()
        cached = self._records.get(name)
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_record(self.fleet, name))
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
            tips = git.branch_commits(fleet.root)
        except ExternalCommandFailed:
            return snapshot
        base_head = tips.get(fleet.base, "")
        records = {a.name: self._record(a.name) for a in fleet.agents}
        facts = facts_of(fleet, tips)
        if self.leading():
            self._schedule(snapshot, records, facts, base_head)
        return overlay(snapshot, records, facts, base_head, fleet.spec.settings.max_agents)

    def _schedule(
        self,
        snapshot: FleetSnapshot,
        records: dict[str, PipelineRecord],
        facts: dict[str, AgentFacts],
        base_head: str,
    ) -> None:
        fleet = self.fleet
        state = load_state(fleet.layout)
        by_name = {a.name: a for a in fleet.agents}
        for reading in snapshot.agents:
            agent = by_name.get(reading.name)
            if agent is None or agent.is_reviewer:
                continue
            record = records[agent.name]
            phase = state.agent(agent.name).phase
            tip = facts[agent.name].tip
            if phase != Phase.RUNNING or record.needs_person or not tip or reading.status not in SETTLED:
                continue
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
        """Fresh automatic gates of a settled doer: start its review, mark it ready, or retry."""
        fleet = self.fleet
        agent = fleet.agent(name)
        record = load_record(fleet, name)
        key = f"{tip}:{base_head}:{run}"
        if record.needs_person or record.decided == key:
            return
        verify = record.gates.get("verify")
        if automatic_pass(record, tip, base_head):
            if agent.review is not None and not (record.review_tip == tip and record.review_verdict):
                if record.review_tip != tip:
                    self._start_review(name, tip)
                return
            verdict = record.review_verdict if agent.review is not None else None
            if verdict is not None and not verdict.passed:
                self._mark(name, key)
                self._retry(name, f"the reviewer failed it ({len(verdict.comments)} comment(s))")
                return
            if record.notified_tip != tip:
                self._ready(name, tip)
            return
        if verify is not None and verify.ok is False and fresh(verify, tip, base_head):
            if record.conflicts:
                return  # verify could not run; the person syncs (conflicts are shown live)
            self._mark(name, key)
            self._retry(name, verify.detail)

    def _mark(self, name: str, key: str) -> None:
        update_record(self.fleet, name, lambda r: setattr(r, "decided", key))

    def _ready(self, name: str, tip: str) -> None:
        def mark(record: PipelineRecord) -> None:
            record.notified_tip = tip
            record.ready_since = time.time()

        update_record(self.fleet, name, mark)
        log_event(self.fleet.layout, name, "ready", tip=tip)
        self._say(f"{name} is ready to merge: every gate passed")

    def _retry(self, name: str, why: str) -> None:
        """Restart the doer with what failed in its handoff, within max_rounds; past it, a person."""
        fleet = self.fleet
        agent = fleet.agent(name)
        record = load_record(fleet, name)
        if record.rounds >= agent.max_rounds:
            reason = (
                f"{why}; the {agent.max_rounds} automatic round(s) (max_rounds) are used up: a person decides"
            )
            update_record(fleet, name, lambda r: setattr(r, "needs_person", reason))
            with state_lock(fleet.layout):  # frees its slot for the next task
                state = load_state(fleet.layout)
                state.agent(name).needs_human = True
                save_state(fleet.layout, state)
            log_event(fleet.layout, name, "needs-person", reason=reason, rounds=record.rounds)
            self._say(f"{name} needs a person: {reason}")
            return
        round_ = record.rounds + 1
        context = retry_for(fleet, name, round=round_)
        update_record(fleet, name, lambda r: setattr(r, "rounds", round_))
        try:
            outcome = lifecycle.restart(
                fleet,
                name,
                reason=f"automatic round {round_}: {why}",
                force=True,
                grace=self.grace,
                retry=context,
            )
        except ActionRefused as exc:
            self._say(f"{name}: automatic retry refused: {exc.message}")
            return
        log_event(fleet.layout, name, "retry", round=round_, max_rounds=agent.max_rounds, why=why)
        self._say(f"{name}: round {round_} of {agent.max_rounds}: {why}; {outcome.message}")

    def _start_review(self, name: str, tip: str) -> None:
        """Start the doer's reviewer on the doer's commit, with a prompt of task, criteria and diff."""
        fleet = self.fleet
        doer = fleet.agent(name)
        reviewer = fleet.agent(doer.review or "")
        path = fleet.layout.worktree(reviewer.name)
        pane = next((p for p in fleet.tmux.list_panes(fleet.session) if p.agent == reviewer.name), None)
        if pane is None or not path.exists():
            self._say(f"{reviewer.name} has no pane or worktree: run `fleet-tui up`")
            return
        fleet.stop_agent(reviewer.name, pane, self.grace)
        fleet.snapshot_work(reviewer.name, "before a new review round")
        git.reset_worktree(path, tip)
        verdict = verdict_file(fleet, reviewer.name)
        verdict.unlink(missing_ok=True)
        prompt = review_prompt(
            doer=name,
            task=doer.task,
            scope=doer.scope,
            done_when=doer.done_when,
            base=fleet.base,
            branch=doer.branch,
            diff=git.diff_since_merge_base(fleet.root, fleet.base, tip),
            verdict_path=str(verdict),
            instructions=reviewer.review_prompt,
        )

        def start(record: PipelineRecord) -> None:
            record.review_tip = tip
            record.review_verdict = None

        update_record(fleet, name, start)
        with state_lock(fleet.layout):
            state = load_state(fleet.layout)
            entry = state.agent(reviewer.name)
            entry.run += 1
            entry.phase = Phase.RUNNING
            entry.started_at = time.time()
            run = entry.run
            save_state(fleet.layout, state)
        launcher = write_launcher(
            reviewer.model_copy(
                update={"task": prompt, "env": {**reviewer.env, "FLEET_VERDICT_FILE": str(verdict)}}
            ),
            fleet.layout,
            run,
        )
        fleet.tmux.clear_history(pane.pane_id)
        fleet.tmux.respawn(pane.pane_id, path, ("sh", str(launcher)))
        log_event(fleet.layout, reviewer.name, "review-started", doer=name, tip=tip, run=run)
        self._say(f"started {reviewer.name}: {name}'s gates passed")

    def _read_verdict(self, reviewer_name: str, status: Status) -> None:
        fleet = self.fleet
        doer = fleet.agent(reviewer_name).reviews or ""
        path = verdict_file(fleet, reviewer_name)
        if not path.exists():
            if status == Status.IDLE:
                return  # it may still write it; a person can look at its pane
            why = f"{reviewer_name} ended ({status.value}) without writing its verdict to {path}"
            update_record(fleet, doer, lambda r: setattr(r, "needs_person", why))
            log_event(fleet.layout, doer, "needs-person", reason=why)
            self._say(f"{doer} needs a person: {why}")
            return
        try:
            verdict = parse_verdict(path.read_text(encoding="utf-8", errors="replace"))
        except VerdictError as exc:
            why = f"{reviewer_name}'s verdict file {path} is not in the expected form: {exc}"
            update_record(fleet, doer, lambda r: setattr(r, "needs_person", why))
            log_event(fleet.layout, doer, "needs-person", reason=why)
            self._say(f"{doer} needs a person: {why}")
            return
        update_record(fleet, doer, lambda r: setattr(r, "review_verdict", verdict))
        log_event(
            fleet.layout, reviewer_name, "verdict", doer=doer, passed=verdict.passed,
            comments=[c.render() for c in verdict.comments],
        )  # fmt: skip
        word = "passed" if verdict.passed else f"failed ({len(verdict.comments)} comment(s))"
        self._say(f"{reviewer_name}: the review of {doer} {word}")


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


# -- sync: updating an agent from base ---------------------------------------------------------------


def sync(fleet: Fleet, name: str, *, grace: float = 3.0, note: str = "") -> str:
    """Bring base's new commits into the agent's branch.

    When the merge is clean (and the worktree has nothing uncommitted), base is merged into the
    branch in the agent's worktree (`git merge --no-ff`). When it conflicts, the worktree is left
    exactly as it is and the agent is restarted with a handoff naming the conflicting files and
    asking it to merge base itself. Never a rebase. Returns what it did, in words.
    """
    agent = fleet.agent(name)
    if agent.is_reviewer:
        raise ActionRefused(f"{name} is a reviewer: it is set to its doer's commit at every review")
    state = load_state(fleet.layout).agent(name)
    if state.phase == Phase.MERGED:
        raise ActionRefused(f"{name} is already merged into {fleet.base}", "there is nothing to sync")
    path = fleet.layout.worktree(name)
    if not path.exists():
        raise ActionRefused(f"the worktree of {name} ({path}) does not exist", "run `fleet-tui up` first")
    base_head = git.rev_parse(fleet.root, fleet.base)
    tip = git.rev_parse(path, "HEAD")
    if git.is_ancestor(fleet.root, base_head, tip):
        return f"{name} already has everything of {fleet.base}: nothing to sync"
    check = git.merge_check(fleet.root, tip, base_head)
    uncommitted = git.uncommitted_files(path)
    if check.clean and not uncommitted:
        merged, why = git.merge_in_worktree(path, base_head, f"Merge {fleet.base} into {agent.branch}")
        if merged:
            log_event(fleet.layout, name, "sync", base_head=base_head, merged=True)
            return f"merged {fleet.base} ({base_head[:10]}) into {agent.branch} in its worktree"
        log_event(fleet.layout, name, "sync-failed", base_head=base_head, error=why)
        raise ActionRefused(f"merging {fleet.base} into {agent.branch} failed and was undone: {why}")
    if check.clean:  # clean, but the agent's own uncommitted work is in the way: it merges itself
        why = f"{fleet.base} has moved; you have uncommitted work, so merge it yourself"
        conflicts: tuple[str, ...] = ()
    else:
        conflicts = check.conflicts
        why = f"{fleet.base} has moved and conflicts with your branch in {', '.join(conflicts)}"

    def store(record: PipelineRecord) -> None:
        record.conflicts = conflicts

    update_record(fleet, name, store)
    context = retry_for(fleet, name, note=note)
    if not conflicts:
        context = replace(context, conflicts=())
    outcome = lifecycle.restart(
        fleet, name, reason=f"sync: {why}", force=True, grace=grace, retry=replace(context, note=note.strip())
    )
    log_event(fleet.layout, name, "sync", base_head=base_head, merged=False, conflicts=list(conflicts))
    return f"{name} conflicts with {fleet.base}: handed to it to merge ({outcome.message})"


__all__ = [
    "REVIEW",
    "Pipeline",
    "accept_drift",
    "load_record",
    "retry_for",
    "run_gates",
    "sync",
    "update_record",
]
