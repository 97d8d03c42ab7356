"""Steering actions: snapshot, kill, restart with a handoff, merge with preflight, merge queue, restore.

The promise: no action loses an uncommitted change, a commit or a branch, and a failed merge leaves
base exactly as it was. Anything destructive first saves the agent's uncommitted work under
`refs/fleet/snapshots/<agent>/<timestamp>`; every action is written to `.fleet/events.jsonl`.
No UI here: the CLI, the dashboard's workers and the tests call these functions.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet_tui.adapters import git
from fleet_tui.adapters.git import WorkSnapshot
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.launcher import agent_path, write_launcher
from fleet_tui.engine.monitor import take_snapshot
from fleet_tui.engine.state import (
    AgentState,
    Event,
    EventLog,
    FleetState,
    Phase,
    load_state,
    log_event,
    update_state,
    write_atomic,
)
from fleet_tui.errors import ActionRefused, ExternalCommandFailed
from fleet_tui.handoff import HandoffData, build_handoff
from fleet_tui.models import AgentSnapshot, FleetSnapshot, PaneReading, Status

DEFAULT_GRACE = 3.0  # seconds between the polite exit, SIGTERM and SIGKILL
VERIFY_TIMEOUT = 600.0
OUTPUT_LIMIT = 20_000  # characters of verify output kept (the end: where failures are)
PANE_TAIL = 30
BACKOFF_FIRST = 10.0  # automatic restarts wait 10 s, 20 s, 40 s ... after the status was seen
BACKOFF_MAX = 600.0


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What an action did, in words, for a notification or a CLI line."""

    agent: str
    action: str
    message: str
    changed: bool = True  # False when there was nothing to do (a harmless repeat)
    snapshot: WorkSnapshot | None = None
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stakes:
    """What is at stake for an agent: shown before kill and restart."""

    agent: str
    uncommitted: tuple[str, ...]
    commits: tuple[tuple[str, str], ...]  # not in base, newest first
    phase: str
    restarts: int
    max_restarts: int
    pane_alive: bool

    @property
    def over_cap(self) -> bool:
        return self.restarts >= self.max_restarts


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Preflight:
    """Every check of a merge, taken before anything changes."""

    agent: str
    base: str
    base_head: str
    tip: str
    checks: tuple[Check, ...]
    uncommitted: tuple[str, ...] = ()
    commits: tuple[tuple[str, str], ...] = ()
    verify_command: str | None = None
    verify_code: int | None = None
    verify_output: str = ""
    conflicts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


class MergeRefused(ActionRefused):
    """A merge stopped before (or while) changing base; base is as it was."""

    def __init__(self, message: str, hint: str | None, preflight: Preflight | None) -> None:
        super().__init__(message, hint)
        self.preflight = preflight


@dataclass(frozen=True)
class MergeResult:
    agent: str
    commit: str
    preflight: Preflight
    committed: str | None  # the commit made from uncommitted work, if any
    started: tuple[str, ...]  # dependants started after the merge
    removed_worktree: bool
    message: str


@dataclass(frozen=True)
class QueueItem:
    agent: str
    tip: str
    commits: int
    uncommitted: int
    overlaps_with: tuple[str, ...]
    clean: bool
    conflicts: tuple[str, ...] = ()
    blocked: bool = False  # an earlier item fails: the queue stops before this one


@dataclass(frozen=True)
class QueuePlan:
    base: str
    base_head: str
    items: tuple[QueueItem, ...]
    skipped: tuple[tuple[str, str], ...]  # (agent, why it is not in the queue)
    commit_message: str | None = None

    @property
    def ok(self) -> bool:
        return all(i.clean for i in self.items)


@dataclass
class QueueResult:
    merged: list[MergeResult] = field(default_factory=list)
    failed: tuple[str, str] | None = None  # (agent, why)
    not_run: list[str] = field(default_factory=list)


# -- small helpers --------------------------------------------------------------------------------


def _update(fleet: Fleet, name: str, change: Callable[[AgentState], None]) -> AgentState:
    """Re-read the state, change one agent, write it back: other writers' changes survive."""
    with update_state(fleet.layout) as state:
        record = state.agent(name)
        change(record)
    return record


def _pane(fleet: Fleet, name: str) -> PaneReading | None:
    return fleet.pane(name)  # refuses a session of another repository


def _worktree(fleet: Fleet, name: str) -> Path:
    path = fleet.layout.worktree(name)
    if not path.exists():
        raise ActionRefused(f"the worktree of {name} ({path}) does not exist", "run `fleet-tui up` first")
    return path


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


# -- snapshots of work ----------------------------------------------------------------------------


def _snapshot_words(snap: WorkSnapshot | None) -> str:
    if snap is None:
        return "nothing uncommitted to snapshot"
    return f"uncommitted work ({_files(len(snap.files))}) saved as snapshot {snap.name}"


def snapshots(fleet: Fleet, name: str) -> list[WorkSnapshot]:
    """The agent's snapshots, newest first."""
    fleet.agent(name)
    return git.list_snapshots(fleet.root, name)


def restore(fleet: Fleet, name: str, snapshot: str, *, force: bool = False) -> Outcome:
    """Bring a snapshot's files back into the worktree.

    Refuses, changing nothing, when that would overwrite uncommitted changes that differ from the
    snapshot's version; with `force` the current state is snapshotted first and then overwritten.
    """
    path = _worktree(fleet, name)
    snap = git.find_snapshot(fleet.root, name, snapshot)
    if snap is None:
        raise ActionRefused(
            f"{name} has no snapshot {snapshot!r}",
            f"list them with `fleet-tui restore {name}`",
        )
    conflicts = git.restore_conflicts(path, snap)
    saved: WorkSnapshot | None = None
    if conflicts:
        if not force:
            log_event(fleet.layout, name, "restore-refused", snapshot=snap.name, files=conflicts)
            raise ActionRefused(
                f"restoring {snap.name} would overwrite uncommitted changes newer than the snapshot "
                f"in {', '.join(conflicts[:10])}{' ...' if len(conflicts) > 10 else ''}; nothing was changed",
                "commit or move those changes, or pass --force (it snapshots the current state first)",
            )
        saved = fleet.snapshot_work(name, f"before restoring {snap.name}")
    changed = git.restore_files(path, snap)
    log_event(
        fleet.layout, name, "restore", snapshot=snap.name, files=changed, saved_first=saved and saved.ref
    )
    if not changed:
        return Outcome(name, "restore", f"{name}: the worktree already matches {snap.name}", changed=False)
    extra = f" (the state before was saved as {saved.name})" if saved else ""
    return Outcome(
        name,
        "restore",
        f"{name}: restored {_files(len(changed))} from {snap.name}{extra}",
        snapshot=saved,
        details=tuple(changed),
    )


# -- stopping ---------------------------------------------------------------------------------------


def stakes(fleet: Fleet, name: str) -> Stakes:
    """Uncommitted files and commits not in base: what a person should know before steering."""
    agent = fleet.agent(name)
    record = load_state(fleet.layout).agent(name)
    path = fleet.layout.worktree(name)
    uncommitted: tuple[str, ...] = ()
    commits: tuple[tuple[str, str], ...] = ()
    if path.exists():
        uncommitted = tuple(git.uncommitted_files(path))
        commits = tuple(git.commits_since(path, fleet.base))
    pane = _pane(fleet, name)
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
    fleet.agent(name)
    pane = _pane(fleet, name)
    phase = load_state(fleet.layout).agent(name).phase
    snap = fleet.snapshot_work(name, "before kill")
    alive = pane is not None and not pane.dead
    terminated, forced = fleet.stop_agent(name, pane, grace)
    if phase != "merged":
        _update(fleet, name, lambda r: setattr(r, "phase", "killed"))
    log_event(
        fleet.layout, name, "kill", was=phase, pane_alive=alive, terminated=terminated,
        sigkill=forced, snapshot=snap and snap.ref,
    )  # fmt: skip
    words = _snapshot_words(snap)
    if not alive:
        why = "already killed" if phase == "killed" else "not running (no live process)"
        extra = f"; ended {terminated + forced} leftover processes" if terminated + forced else ""
        return Outcome(name, "kill", f"{name} was {why}: nothing to stop{extra}; {words}", False, snap)
    forced_words = f", {forced} needed SIGKILL" if forced else ""
    return Outcome(
        name,
        "kill",
        f"killed {name} (worktree, branch and files kept{forced_words}); {words}",
        snapshot=snap,
    )


# -- restart with a handoff -------------------------------------------------------------------------


def handoff_data(
    fleet: Fleet, name: str, *, reason: str, attempt: int, snapshot: WorkSnapshot | None
) -> HandoffData:
    """Gather what the handoff says: task, scope, commits, files, warnings, the pane's last lines."""
    agent = fleet.agent(name)
    path = fleet.layout.worktree(name)
    reading: AgentSnapshot | None = take_snapshot(fleet, sample=0).agent(name)
    commits = git.commits_since(path, fleet.base) if path.exists() else []
    uncommitted = git.uncommitted_files(path) if path.exists() else []
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
        files=reading.files if reading else (),
        uncommitted=uncommitted,
        drift=reading.drift if reading else (),
        overlap=dict(reading.overlap) if reading else {},
        pane_tail=reading.tail[-PANE_TAIL:] if reading else (),
        snapshot_ref=snapshot.ref if snapshot else None,
        status=f"{reading.status.value}: {reading.status_reason}" if reading else "",
    )


def restart(
    fleet: Fleet,
    name: str,
    *,
    reason: str = "asked by the person",
    force: bool = False,
    grace: float = DEFAULT_GRACE,
) -> Outcome:
    """Snapshot, write the handoff, stop the old process tree, start a fresh one on the handoff.

    Past the agent's `max_restarts` the agent is marked as needing a human and the restart is
    refused unless `force` (a person's explicit confirmation).
    """
    agent = fleet.agent(name)
    record = load_state(fleet.layout).agent(name)
    if record.phase == "merged":
        raise ActionRefused(f"{name} is already merged into {fleet.base}", "there is nothing to restart")
    if record.phase == "queued":
        raise ActionRefused(
            f"{name} is queued: it has not started yet",
            "it starts by itself once its dependencies are merged",
        )
    _worktree(fleet, name)
    pane = _pane(fleet, name)
    if pane is None:
        raise ActionRefused(f"{name} has no pane: the fleet is down", "run `fleet-tui up` first")
    if record.restarts >= agent.max_restarts and not force:
        if not record.needs_human:
            _update(fleet, name, lambda r: setattr(r, "needs_human", True))
            log_event(fleet.layout, name, "needs-human", restarts=record.restarts, max=agent.max_restarts)
        raise ActionRefused(
            f"{name} has been restarted {record.restarts} times (max_restarts = {agent.max_restarts}): "
            "it needs a person to look at it",
            "restart it anyway with --force (a confirmation in the dashboard), or raise max_restarts",
        )
    attempt = record.restarts + 1
    snap = fleet.snapshot_work(name, f"before restart {attempt}")
    data = handoff_data(fleet, name, reason=reason, attempt=attempt, snapshot=snap)
    handoff = fleet.layout.handoff_file(name)
    write_atomic(handoff, build_handoff(data))
    terminated, forced = fleet.stop_agent(name, pane, grace)

    def bump(r: AgentState) -> None:
        r.restarts += 1
        r.run += 1
        r.phase = Phase.RUNNING
        r.started_at = time.time()
        r.needs_human = False

    updated = _update(fleet, name, bump)
    launcher = write_launcher(agent, fleet.layout, updated.run, restart=True)
    fleet.tmux.clear_history(pane.pane_id)
    # The scrollback goes first; respawn-pane itself starts the new process on a blank screen.
    fleet.tmux.respawn(pane.pane_id, fleet.layout.worktree(name), ("sh", str(launcher)))
    log_event(
        fleet.layout, name, "restart", attempt=attempt, run=updated.run, reason=reason, forced=force,
        handoff=str(handoff), snapshot=snap and snap.ref, terminated=terminated, sigkill=forced,
    )  # fmt: skip
    over = f" (past max_restarts {agent.max_restarts}, confirmed)" if attempt > agent.max_restarts else ""
    return Outcome(
        name,
        "restart",
        f"restarted {name}: attempt {attempt}{over}, handoff in {handoff}; {_snapshot_words(snap)}",
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
        if not agent.restart_on or reading.status.value not in agent.restart_on:
            continue
        state = state or load_state(fleet.layout)
        record = state.agent(reading.name)
        if record.phase != "running":
            continue
        if record.restarts >= agent.max_restarts:
            if not record.needs_human:
                _update(fleet, reading.name, lambda r: setattr(r, "needs_human", True))
                log_event(fleet.layout, reading.name, "needs-human", status=reading.status.value)
                done.append(
                    f"{reading.name} is {reading.status.value} and reached max_restarts: needs a person"
                )
            continue
        started = record.started_at or 0.0
        if now - max(reading.status_since, started) < backoff(record.restarts):
            continue
        try:
            outcome = restart(
                fleet, reading.name, reason=f"automatic: it was {reading.status.value} (restart_on)"
            )
        except ActionRefused as exc:
            done.append(f"{reading.name}: automatic restart refused: {exc.message}")
            continue
        done.append(outcome.message)
        state = None
    return done


# -- merge ------------------------------------------------------------------------------------------


def _run_verify(command: str, cwd: Path, env: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """Run the verify command in the worktree: (exit code or None on timeout, its output)."""
    try:
        done = subprocess.run(
            command, shell=True, cwd=cwd, env={**os.environ, "PATH": agent_path(), **env},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=timeout, check=False, start_new_session=True,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raw = exc.stdout or b""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        return None, text[-OUTPUT_LIMIT:] + f"\n[fleet-tui] verify timed out after {timeout:g} s"
    return done.returncode, done.stdout.decode("utf-8", "replace")[-OUTPUT_LIMIT:]


def _base_check(fleet: Fleet, merged_tree: str | None) -> Check:
    root, base = fleet.root, fleet.base
    on = git.current_branch(root)
    if on != base:
        where = f"on {on}" if on else "on a detached HEAD"
        return Check("base", False, f"the main checkout {root} is {where}, not on {base}: check out {base}")
    dirty = [p for p in git.uncommitted_files(root) if not p.startswith(".fleet/")]
    untracked = set(git.untracked_files(root))
    changed = [p for p in dirty if p not in untracked]
    if changed:
        shown = ", ".join(changed[:8]) + (" ..." if len(changed) > 8 else "")
        return Check(
            "base", False, f"the main checkout {root} has uncommitted changes ({shown}): commit or stash them"
        )
    if merged_tree and untracked:
        # Untracked files are left alone by a merge unless it would write the same path.
        hit = sorted(git.changed_between(root, "HEAD", merged_tree, tuple(sorted(untracked))))
        if hit:
            return Check(
                "base",
                False,
                f"untracked files in {root} would be overwritten by the merge: {', '.join(hit)}",
            )
    return Check("base", True, f"{root} is on {base} and clean")


def preflight(
    fleet: Fleet,
    name: str,
    *,
    commit_message: str | None = None,
    run_verify: bool = True,
    verify_timeout: float = VERIFY_TIMEOUT,
) -> Preflight:
    """Every merge check, changing nothing: uncommitted work, verify, conflicts, base's checkout."""
    agent = fleet.agent(name)
    root, base = fleet.root, fleet.base
    base_head = git.rev_parse(root, base)
    record = load_state(fleet.layout).agent(name)
    checks: list[Check] = []
    if record.phase == "merged":
        checks.append(Check("agent", False, f"{name} is already merged into {base}"))
    if agent.is_reviewer:
        checks.append(
            Check("agent", False, f"{name} reviews {agent.reviews}: a reviewer's changes are never merged")
        )
    path = fleet.layout.worktree(name)
    if not path.exists():
        checks.append(Check("worktree", False, f"the worktree {path} does not exist: run `fleet-tui up`"))
        return Preflight(name, base, base_head, "", tuple(checks))
    tip = git.rev_parse(path, "HEAD")
    uncommitted = tuple(git.uncommitted_files(path))
    commits = tuple(git.commits_since(path, base))
    candidate = tip
    if uncommitted:
        if commit_message:
            checks.append(
                Check(
                    "uncommitted",
                    True,
                    f"{_files(len(uncommitted))} will be committed to {agent.branch} first",
                )
            )
            made = git.work_commit(path, commit_message)
            candidate = made[0] if made else tip
        else:
            checks.append(
                Check(
                    "uncommitted",
                    False,
                    f"{_files(len(uncommitted))} uncommitted in {path}: give a commit message to commit "
                    f"them to {agent.branch}, or cancel",
                )
            )
    else:
        checks.append(Check("uncommitted", True, "no uncommitted work"))
    if git.is_ancestor(root, candidate, base_head):
        checks.append(
            Check("commits", False, f"nothing to merge: {base} already has everything of {agent.branch}")
        )
    else:
        checks.append(
            Check("commits", True, f"{len(commits)} commit{'' if len(commits) == 1 else 's'} not in {base}")
        )
    checks.append(_scope_note(fleet, name, path))
    result = git.merge_check(root, base_head, candidate)
    if result.clean:
        checks.append(Check("conflicts", True, f"merges cleanly into {base}"))
    else:
        checks.append(
            Check(
                "conflicts",
                False,
                f"conflicts with {base} in {', '.join(result.conflicts) or '(unnamed files)'}",
            )
        )
    checks.append(_base_check(fleet, result.tree if result.clean else None))
    code: int | None = None
    output = ""
    if agent.verify is None:
        checks.append(Check("verify", True, "no verify command set"))
    elif run_verify:
        code, output = _run_verify(agent.verify, path, agent.env, verify_timeout)
        if code == 0:
            checks.append(Check("verify", True, f"`{agent.verify}` passed"))
        else:
            how = "timed out" if code is None else f"failed (exit {code})"
            checks.append(Check("verify", False, f"`{agent.verify}` {how}"))
    return Preflight(
        agent=name,
        base=base,
        base_head=base_head,
        tip=tip,
        checks=tuple(checks),
        uncommitted=uncommitted,
        commits=commits,
        verify_command=agent.verify,
        verify_code=code,
        verify_output=output,
        conflicts=result.conflicts,
    )


def _scope_note(fleet: Fleet, name: str, path: Path) -> Check:
    """Drift does not block a merge, but it is never merged without a word."""
    scope = fleet.scopes[name]
    outside = [f.path for f in git.read_worktree(path, fleet.base).files if f.path not in scope]
    if not outside:
        return Check("scope", True, "every change is inside its scope")
    shown = ", ".join(outside[:6]) + (" ..." if len(outside) > 6 else "")
    return Check("scope", True, f"note: {_files(len(outside))} outside its scope come along: {shown}")


def _refuse(fleet: Fleet, pre: Preflight) -> MergeRefused:
    failures = pre.failures
    log_event(
        fleet.layout, pre.agent, "merge-refused", base_head=pre.base_head,
        checks={c.name: c.detail for c in failures},
    )  # fmt: skip
    message = f"merge of {pre.agent} refused, {fleet.base} unchanged: " + "; ".join(
        c.detail for c in failures
    )
    return MergeRefused(message, None, pre)


def merge(
    fleet: Fleet,
    name: str,
    *,
    commit_message: str | None = None,
    remove_worktree: bool = False,
    verify_timeout: float = VERIFY_TIMEOUT,
    grace: float = DEFAULT_GRACE,
) -> MergeResult:
    """Preflight, then `git merge --no-ff` of the agent's branch into base in the main checkout.

    Any failure raises MergeRefused with base's commit and checkout as they were.
    """
    agent = fleet.agent(name)
    root = fleet.root
    quick = preflight(fleet, name, commit_message=commit_message, run_verify=False)
    if not quick.ok:
        raise _refuse(fleet, quick)
    committed: str | None = None
    path = fleet.layout.worktree(name)
    if quick.uncommitted and commit_message:
        fleet.snapshot_work(name, "before committing for merge")
        committed = git.commit_all(path, commit_message)
        log_event(
            fleet.layout,
            name,
            "commit",
            commit=committed,
            message=commit_message,
            files=len(quick.uncommitted),
        )
    pre = preflight(fleet, name, run_verify=True, verify_timeout=verify_timeout)
    if not pre.ok:
        raise _refuse(fleet, pre)
    first_line = (agent.task.strip().splitlines() or [""])[0][:72]
    message = f"Merge {agent.branch}: {first_line}"
    # Merge the very commit that was checked, even if the agent commits again meanwhile.
    merged, why = git.merge_no_ff(root, pre.tip, message)
    if not merged:
        log_event(fleet.layout, name, "merge-failed", error=why, base_head=pre.base_head)
        raise MergeRefused(
            f"git merge of {name} failed and was undone, {fleet.base} unchanged: {why}", None, pre
        )
    commit = git.rev_parse(root, "HEAD")
    _update(fleet, name, lambda r: setattr(r, "phase", "merged"))
    log_event(fleet.layout, name, "merged", commit=commit, tip=pre.tip, base=fleet.base)
    started = tuple(fleet.start_ready())
    removed = False
    kept = ""
    if remove_worktree:
        fleet.stop_agent(name, _pane(fleet, name), grace)
        fleet.snapshot_work(name, "before removing the worktree")
        try:  # git refuses to remove a worktree with changes: then it stays, and so does the work
            git.remove_worktree(root, path)
            removed = True
            log_event(fleet.layout, name, "worktree-removed", path=str(path), branch_kept=agent.branch)
        except ExternalCommandFailed as exc:
            kept = f"; its worktree was kept: {exc.message}"
            log_event(fleet.layout, name, "worktree-kept", path=str(path), error=exc.message)
    words = f"merged {agent.branch} into {fleet.base} ({commit[:10]}){kept}"
    if started:
        words += "; " + "; ".join(started)
    if removed:
        words += f"; removed its worktree (branch {agent.branch} kept)"
    return MergeResult(name, commit, pre, committed, started, removed, words)


# -- merge queue ------------------------------------------------------------------------------------

# Not in a queue: still busy, ended abnormally (look first, then merge it alone), not started, done.
QUEUE_EXCLUDED = {
    Status.WORKING: "still working",
    Status.WAITING: "waiting for an answer",
    Status.STARTING: "just starting",
    Status.CRASHED: "crashed: look at it first, then merge it on its own",
    Status.QUEUED: "queued: its dependencies are not merged",
    Status.MERGED: "already merged",
}


def plan_queue(
    fleet: Fleet, snapshot: FleetSnapshot | None = None, *, commit_message: str | None = None
) -> QueuePlan:
    """Agents ready to merge, in a deliberate order, each checked against base as it will be.

    Order: agents whose files overlap nobody's first, then the rest; an agent always after the
    agents it depends on; file order otherwise. Checks simulate the successive merges with
    `merge-tree` and `commit-tree`: objects only, no ref or file is touched.
    """
    snapshot = snapshot or take_snapshot(fleet, sample=0)
    root, base = fleet.root, fleet.base
    base_head = git.rev_parse(root, base)
    state = load_state(fleet.layout)
    skipped: list[tuple[str, str]] = []
    ready: dict[str, tuple[str, int, int]] = {}  # name -> (tip to merge, commits, uncommitted)
    for reading in snapshot.agents:
        name = reading.name
        path = fleet.layout.worktree(name)
        if fleet.agent(name).is_reviewer:  # its work is a verdict, never a merge
            continue
        if state.agent(name).phase == "merged" or reading.status in QUEUE_EXCLUDED:
            why = QUEUE_EXCLUDED.get(reading.status, "already merged")
            skipped.append((name, why))
            continue
        if not path.exists():
            skipped.append((name, "no worktree"))
            continue
        tip = git.rev_parse(path, "HEAD")
        uncommitted = git.uncommitted_files(path)
        if uncommitted and not commit_message:
            skipped.append(
                (name, f"{_files(len(uncommitted))} uncommitted: give a commit message, or merge it alone")
            )
            continue
        if uncommitted:
            made = git.work_commit(path, commit_message or "")
            tip = made[0] if made else tip
        if git.is_ancestor(root, tip, base_head):
            skipped.append((name, "nothing to merge"))
            continue
        conflict = git.merge_check(root, base_head, tip)
        if not conflict.clean:  # it cannot merge whatever the order: do not let it stop the others
            files = ", ".join(conflict.conflicts) or "conflicts"
            skipped.append(
                (name, f"conflicts with {base} as it is now ({files}): merge it alone once resolved")
            )
            continue
        ready[name] = (tip, len(git.commits_since(path, base)), len(uncommitted))
    by_name = {a.name: a for a in snapshot.agents}
    overlapping = {
        n: tuple(sorted({o for others in by_name[n].overlap.values() for o in others})) for n in ready
    }
    order = _queue_order(fleet, list(ready), overlapping, skipped)
    items: list[QueueItem] = []
    current = base_head
    failed = False
    for name in order:
        tip, commits, pending = ready[name]
        check = git.merge_check(root, current, tip)
        if check.clean:
            current = git.commit_tree(root, check.tree, (current, tip), f"fleet-tui queue simulation: {name}")
        items.append(
            QueueItem(name, tip, commits, pending, overlapping[name], check.clean, check.conflicts, failed)
        )
        failed = failed or not check.clean
    return QueuePlan(base, base_head, tuple(items), tuple(skipped), commit_message)


def _queue_order(
    fleet: Fleet, names: list[str], overlapping: dict[str, tuple[str, ...]], skipped: list[tuple[str, str]]
) -> list[str]:
    position = {a.name: i for i, a in enumerate(fleet.agents)}
    state = load_state(fleet.layout)
    deps: dict[str, set[str]] = {}
    for name in list(names):
        unmet = [d for d in fleet.agent(name).depends_on if d not in names and not fleet.is_merged(d, state)]
        if unmet:
            names.remove(name)
            skipped.append(
                (name, f"depends on {', '.join(unmet)}, which is neither merged nor in this queue")
            )
            continue
        deps[name] = {d for d in fleet.agent(name).depends_on if d in names}
    order: list[str] = []
    remaining = set(deps)
    while remaining:
        available = [n for n in remaining if deps[n] <= set(order)] or sorted(remaining)  # cycles: any
        pick = min(available, key=lambda n: (bool(overlapping.get(n)), position[n]))
        order.append(pick)
        remaining.remove(pick)
    return order


def run_queue(
    fleet: Fleet,
    plan: QueuePlan,
    *,
    verify_timeout: float = VERIFY_TIMEOUT,
    remove_worktrees: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> QueueResult:
    """Merge the plan's agents one by one; stop at the first failure (earlier merges stay)."""
    result = QueueResult()
    names = [i.agent for i in plan.items]
    if git.rev_parse(fleet.root, fleet.base) != plan.base_head:
        result.failed = (
            names[0] if names else "-",
            f"{fleet.base} moved since the plan was made: plan again",
        )
        result.not_run = names
        return result
    log_event(fleet.layout, None, "merge-queue", order=names)
    for index, name in enumerate(names):
        if on_step:
            on_step(f"merging {name} ({index + 1}/{len(names)})")
        try:
            done = merge(
                fleet,
                name,
                commit_message=plan.commit_message,
                remove_worktree=remove_worktrees,
                verify_timeout=verify_timeout,
            )
        except ActionRefused as exc:
            result.failed = (name, exc.message)
            result.not_run = names[index + 1 :]
            log_event(fleet.layout, None, "merge-queue-stopped", at=name, not_run=result.not_run)
            return result
        result.merged.append(done)
    return result


# -- the event log ----------------------------------------------------------------------------------


def events(fleet: Fleet, agent: str | None = None, log: EventLog | None = None) -> list[Event]:
    """The event log, newest first; only one agent's events when `agent` is given."""
    if agent is not None:
        fleet.agent(agent)
    found = (log or EventLog(fleet.layout)).read()
    if agent is not None:
        found = [e for e in found if e.agent == agent]
    return list(reversed(found))


def format_details(details: dict[str, Any]) -> str:
    parts = []
    for key, value in details.items():
        if value is None or value == [] or value == {}:
            continue
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        parts.append(f"{key}={value}")
    return "  ".join(parts)


def format_time(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def describe_queue(plan: QueuePlan) -> list[str]:
    """The plan in lines of text, for the CLI and the confirmation modal."""
    lines = [f"merge queue into {plan.base} ({plan.base_head[:10]}):"]
    if not plan.items:
        lines.append("  nothing is ready to merge")
    for number, item in enumerate(plan.items, 1):
        what = f"{item.commits} commit{'' if item.commits == 1 else 's'}" + (
            f" + {item.uncommitted} uncommitted (committed first)" if item.uncommitted else ""
        )
        overlap = f", overlaps {', '.join(item.overlaps_with)}" if item.overlaps_with else ", overlaps nobody"
        if item.clean:
            verdict = "merges cleanly" + (" (after an earlier failure: will not run)" if item.blocked else "")
        else:
            verdict = f"CONFLICT in {', '.join(item.conflicts)}"
        lines.append(f"  {number}. {item.agent}: {what}{overlap}: {verdict}")
    for name, why in plan.skipped:
        lines.append(f"  skipped {name}: {why}")
    return lines
