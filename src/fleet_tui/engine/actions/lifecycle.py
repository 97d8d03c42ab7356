"""An agent's life: what is at stake, kill, restart with a handoff, and the automatic restart policy."""

from __future__ import annotations

import time
from dataclasses import replace

from fleet_tui.adapters import git
from fleet_tui.adapters.git import Commit, WorkSnapshot
from fleet_tui.budget import handoff_warning
from fleet_tui.engine import pipeline_state
from fleet_tui.engine.actions.common import DEFAULT_GRACE, require_worktree, update_record
from fleet_tui.engine.actions.results import Outcome, Stakes
from fleet_tui.engine.actions.work import snapshot_words
from fleet_tui.engine.fleet import Fleet, begin_run
from fleet_tui.engine.state import (
    AgentState,
    FleetState,
    Phase,
    load_state,
    log_event,
    read_exit,
    write_atomic,
)
from fleet_tui.errors import ActionRefused, ExternalCommandFailed
from fleet_tui.handoff import HandoffData, build_handoff
from fleet_tui.models import FileChange, FleetSnapshot, PaneReading
from fleet_tui.pipeline_rules import RetryContext
from fleet_tui.scope import drift, mark_scope, overlap_for, overlaps
from fleet_tui.spec import Agent
from fleet_tui.status import classify, screen_tail

PANE_TAIL = 20  # the old pane's last lines of output, in the handoff
BACKOFF_FIRST = 10.0  # automatic restarts wait 10 s, 20 s, 40 s ... after the status was seen
BACKOFF_MAX = 600.0


def stakes(fleet: Fleet, name: str) -> Stakes:
    """Uncommitted files and commits not in base: what a person should know before steering."""
    agent = fleet.agent(name)
    record = load_state(fleet.layout).agent(name)
    path = fleet.layout.worktree(name)
    uncommitted: tuple[str, ...] = ()
    commits: tuple[Commit, ...] = ()
    if path.exists():
        uncommitted = tuple(git.uncommitted_files(path))
        commits = tuple(git.commits_since(path, fleet.base))
    pane = fleet.pane(name)
    return Stakes(
        agent=name,
        uncommitted=uncommitted,
        commits=commits,
        phase=record.phase,
        restarts=record.restarts,
        max_restarts=agent.max_restarts,
        pane_alive=pane is not None and not pane.dead,
    )


def kill(fleet: Fleet, name: str, *, grace: float = DEFAULT_GRACE) -> Outcome:
    """Snapshot, ask the agent to exit, end its process tree; the pane stays readable, files stay."""
    fleet.require_writable()  # the kill is recorded in .fleet/: refused before anything is stopped
    pane = fleet.pane(name)
    phase = load_state(fleet.layout).agent(name).phase
    try:
        snap = fleet.snapshot_work(name, "before kill")
        unsaved = ""
    except ExternalCommandFailed as exc:  # the process must still stop; say the work was not saved
        snap, unsaved = None, exc.message
    alive = pane is not None and not pane.dead
    terminated, forced = fleet.stop_agent(name, pane, grace)
    if phase != Phase.MERGED:
        update_record(fleet, name, lambda r: setattr(r, "phase", Phase.KILLED))
    log_event(
        fleet.layout, name, "kill", was=phase, pane_alive=alive, terminated=terminated,
        sigkill=forced, snapshot=snap and snap.ref,
    )  # fmt: skip
    words = snapshot_words(snap) if not unsaved else f"NOT snapshotted: {unsaved}"
    path = fleet.layout.worktree(name)
    kept = "worktree, branch and files kept" if path.exists() else f"its worktree {path} is gone; branch kept"
    if not alive:
        why = "already killed" if phase == Phase.KILLED else "not running (no live process)"
        extra = f"; ended {terminated + forced} leftover processes" if terminated + forced else ""
        return Outcome(name, "kill", f"{name} was {why}: nothing to stop{extra}; {words}", False, snap)
    forced_words = f", {forced} needed SIGKILL" if forced else ""
    return Outcome(
        name,
        "kill",
        f"killed {name} ({kept}{forced_words}); {words}",
        snapshot=snap,
    )


# -- restart with a handoff -------------------------------------------------------------------------


def handoff_data(
    fleet: Fleet,
    name: str,
    *,
    reason: str,
    attempt: int,
    snapshot: WorkSnapshot | None,
    last: FleetSnapshot | None = None,
    retry: RetryContext | None = None,
) -> HandoffData:
    """What the handoff says: task, scope, commits, files, warnings, the pane's last lines.

    Only this agent is read (its worktree, its pane); the other agents' files, for the overlap, and
    the status come from `last`, the caller's latest fleet snapshot, when it has one.
    """
    agent = fleet.agent(name)
    path = fleet.layout.worktree(name)
    changes: tuple[FileChange, ...] = ()
    commits: list[Commit] = []
    uncommitted: list[str] = []
    if path.exists():
        changes = mark_scope(git.read_worktree(path, fleet.base).files, fleet.scopes[name])
        commits = git.commits_since(path, fleet.base)
        uncommitted = git.uncommitted_files(path)
    pane = next((p for p in fleet.tmux.read(fleet.session) if p.agent == name), None)
    known = last.agent(name) if last is not None else None
    overlap: dict[str, tuple[str, ...]] = {}
    if last is not None:
        others = {a.name: a.files for a in last.agents if a.name != name}
        overlap = overlap_for(name, overlaps({**others, name: changes}))
    if known is not None:
        status = f"{known.status.value}: {known.status_reason}"
    else:
        status = _status_words(fleet, name, pane)
    return HandoffData(
        agent=name,
        task=agent.task,
        scope=agent.scope,
        base=fleet.base,
        branch=agent.branch,
        worktree=str(path),
        attempt=attempt,
        max_restarts=agent.max_restarts,
        reason=reason,
        commits=commits,
        files=changes,
        uncommitted=uncommitted,
        drift=drift(changes),
        overlap=overlap,
        pane_tail=screen_tail(pane.screen, PANE_TAIL) if pane else (),
        snapshot_ref=snapshot.ref if snapshot else None,
        status=status,
        retry=retry or pipeline_state.retry_for(fleet, name),
    )


def _status_words(fleet: Fleet, name: str, pane: PaneReading | None) -> str:
    """The status from one look at the pane, for a handoff without a fleet snapshot at hand."""
    if pane is None:
        return ""
    agent = fleet.agent(name)
    record = load_state(fleet.layout).agent(name)
    verdict = classify(
        preset=agent.preset,
        screen=pane.screen,
        exit_code=read_exit(fleet.layout, name, record.run) if pane.dead else None,
        dead=pane.dead,
        now=time.time(),
        started_at=record.started_at,
        last_change=None,
        idle_after=agent.idle_after,
    )
    return f"{verdict.status.value}: {verdict.reason}"


def restart(
    fleet: Fleet,
    name: str,
    *,
    reason: str = "asked by the person",
    force: bool = False,
    grace: float = DEFAULT_GRACE,
    last: FleetSnapshot | None = None,
    note: str = "",
    retry: RetryContext | None = None,
    counts: bool = True,
) -> Outcome:
    """Snapshot, write the handoff, stop the old process tree, start a fresh one on the handoff.

    The handoff carries what the pipeline found (the failing part of verify on the merge result,
    the reviewer's comments, drift, conflicts with base) and the person's `note`; `retry` is the
    pipeline's own context for an automatic round (a person's restart never counts as one).

    Past the agent's `max_restarts` the agent is marked as needing a human and the restart is
    refused unless `force` (a person's explicit confirmation). `last`, the caller's latest fleet
    snapshot if it has one, lets the handoff name overlaps with the other agents.
    """
    agent = fleet.agent(name)
    fleet.require_writable()  # the handoff and the new launcher go into .fleet/
    record = load_state(fleet.layout).agent(name)
    pane = _restartable(fleet, agent, record, force)
    attempt = record.restarts + 1
    snap = fleet.snapshot_work(name, f"before restart {attempt}")
    context = retry or pipeline_state.retry_for(fleet, name, note=note)
    if note and retry is not None:
        context = replace(context, note=note.strip())
    data = handoff_data(fleet, name, reason=reason, attempt=attempt, snapshot=snap, last=last, retry=context)
    if retry is None:  # a person's restart: the pipeline may act on this agent again
        pipeline_state.update_record(fleet, name, lambda r: setattr(r, "needs_person", ""))
    handoff = fleet.layout.handoff_file(name)
    write_atomic(handoff, build_handoff(data))
    terminated, forced = fleet.stop_agent(name, pane, grace)

    def bump(r: AgentState) -> None:
        if counts:  # False: `up` resuming an agent that `down` stopped is not a restart
            r.restarts += 1
        begin_run(r)
        r.needs_human = False

    updated = update_record(fleet, name, bump)
    fleet.launch(agent, pane.pane_id, updated.run, restart=True)
    log_event(
        fleet.layout, name, "restart", attempt=attempt, run=updated.run, reason=reason, forced=force,
        handoff=str(handoff), snapshot=snap and snap.ref, terminated=terminated, sigkill=forced,
        note=note or None, automatic_round=context.round or None,
    )  # fmt: skip
    over = f" (past max_restarts {agent.max_restarts}, confirmed)" if attempt > agent.max_restarts else ""
    return Outcome(
        name,
        "restart",
        f"restarted {name}: attempt {attempt}{over}, handoff in {handoff}; {snapshot_words(snap)}",
        snapshot=snap,
    )


def backoff(restarts: int) -> float:
    return float(min(BACKOFF_MAX, BACKOFF_FIRST * 2.0**restarts))


def auto_restart(fleet: Fleet, snapshot: FleetSnapshot, now: float | None = None) -> list[str]:
    """The optional `restart_on` policy, for the monitor loop's owner to call per snapshot.

    An agent whose status is in its `restart_on` list is restarted once the status has lasted
    `backoff(restarts)` seconds, within `max_restarts`; past it, it is marked as needing a human.
    Off unless an agent sets `restart_on`. Returns what it did, in words.
    """
    now = time.time() if now is None else now
    done: list[str] = []
    state: FleetState | None = None
    for reading in snapshot.agents:
        agent = fleet.agent(reading.name)
        full = (
            "context" in agent.restart_on
            and reading.context_used is not None
            and reading.context_used >= agent.context_limit
        )
        if not agent.restart_on or (reading.status.value not in agent.restart_on and not full):
            continue
        why = f"its context is {reading.context_used:.0f}% full" if full else f"it was {reading.status.value}"
        state = state or load_state(fleet.layout)
        record = state.agent(reading.name)
        if record.phase != Phase.RUNNING:
            continue
        if record.restarts >= agent.max_restarts:
            if not record.needs_human:
                update_record(fleet, reading.name, lambda r: setattr(r, "needs_human", True))
                log_event(fleet.layout, reading.name, "needs-human", status=reading.status.value)
                done.append(f"{reading.name}: {why}, and it reached max_restarts: needs a person")
            continue
        started = record.started_at or 0.0
        if not full and now - max(reading.status_since, started) < backoff(record.restarts):
            continue
        try:
            outcome = restart(fleet, reading.name, reason=f"automatic: {why} (restart_on)", last=snapshot)
        except ActionRefused as exc:
            done.append(f"{reading.name}: automatic restart refused: {exc.message}")
            continue
        done.append(outcome.message)
        if full:  # a handoff that fills the window defeats the fresh start
            handoff = fleet.layout.handoff_file(reading.name)
            text = handoff.read_text(encoding="utf-8") if handoff.exists() else ""
            if warning := handoff_warning(reading.name, text, agent.preset.context_window):
                done.append(warning)
        state = None
    return done


def _restartable(fleet: Fleet, agent: Agent, record: AgentState, force: bool) -> PaneReading:
    """The pane to restart the agent in, or why not: merged, queued, no worktree or pane, past the
    cap without `force` (then it is marked as needing a person)."""
    name = agent.name
    if record.phase == Phase.MERGED:
        raise ActionRefused(f"{name} is already merged into {fleet.base}", "there is nothing to restart")
    if record.phase == Phase.QUEUED:
        raise ActionRefused(
            f"{name} is queued: it has not started yet",
            "it starts by itself once its dependencies are merged",
        )
    require_worktree(fleet, name)
    pane = fleet.live_pane(name)
    if record.restarts >= agent.max_restarts and not force:
        if not record.needs_human:
            update_record(fleet, name, lambda r: setattr(r, "needs_human", True))
            log_event(fleet.layout, name, "needs-human", restarts=record.restarts, max=agent.max_restarts)
        raise ActionRefused(
            f"{name} has been restarted {record.restarts} times (max_restarts = {agent.max_restarts}): "
            "it needs a person to look at it",
            "restart it anyway with --force (a confirmation in the dashboard), or raise max_restarts",
        )
    return pane
