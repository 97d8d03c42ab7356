"""Bringing a fleet up: create what is missing (worktrees, branches, session, panes), bring lost
panes back as their agents were, restart agents whose process was lost with a handoff.

Here rather than on `Fleet`, because resuming an agent is a restart, and the steering actions
build on `Fleet`, not the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fleet_tui.adapters import git
from fleet_tui.adapters.tmux import PaneStart, require_tmux
from fleet_tui.engine.actions.lifecycle import restart
from fleet_tui.engine.fleet import Fleet, begin_run, off_branch_words
from fleet_tui.engine.launcher import write_launcher, write_placeholder, write_queued
from fleet_tui.engine.state import (
    STATE_DIR,
    FleetState,
    Phase,
    load_state,
    log_event,
    read_exit,
    save_state,
    state_lock,
    up_lock,
)
from fleet_tui.errors import EnvironmentProblem
from fleet_tui.spec import Agent


@dataclass
class UpReport:
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # nothing was refused, but worth knowing

    def add(self, message: str) -> None:
        self.changes.append(message)


def up(fleet: Fleet) -> UpReport:
    """Create what is missing (worktrees, branches, session, panes); touch nothing else.

    A pane that is missing (the session was lost, or the pane closed) comes back as its agent
    was: killed and merged agents stay so, an agent that had ended shows its exit code again,
    and an agent whose process was lost with it restarts with a handoff of its work.
    """
    require_tmux()
    fleet.check_programs()
    fleet.require_own_session()
    fleet.require_writable()
    fleet.layout.state_dir.mkdir(parents=True, exist_ok=True)
    # One `up` at a time: a second one waits, then finds everything made and starts nothing twice.
    with up_lock(fleet.layout):
        return _up(fleet)


def _up(fleet: Fleet) -> UpReport:
    _check_worktree_paths(fleet)
    report = UpReport(warnings=fleet.restart_warnings())
    if git.exclude_path(fleet.root, f"/{STATE_DIR}/"):
        report.add(f"excluded {STATE_DIR}/ through .git/info/exclude")
    interrupted: list[str] = []
    with state_lock(fleet.layout):
        state = load_state(fleet.layout)
        if state.base != fleet.base:
            state.base = fleet.base
        registered = git.worktrees(fleet.root)  # once: one `git worktree list` per agent was O(N²)
        made: list[Path] = []
        recreated = _ensure_worktrees(fleet, state, report, registered, made)
        save_state(fleet.layout, state)
        # Before any agent starts (its own git would race ours for the index lock).
        git.refresh_indexes(made)

        alive = fleet.tmux.session_exists(fleet.session)
        panes = {p.agent: p for p in fleet.tmux.list_panes(fleet.session)} if alive else {}
        for name in sorted(set(panes) - set(fleet.spec.names)):
            report.add(f"the pane of {name!r} is left as it is: {name} is no longer in the fleet file")
        missing = [a for a in fleet.spec.launch_order() if a not in panes]
        if missing:
            for name in missing:  # leftovers of a lost session must not work beside the new pane
                fleet.stop_agent(name, None)
            starts = [_pane_start(fleet, fleet.agent(name), state, report, interrupted) for name in missing]
            per_window = fleet.spec.settings.panes_per_window
            if alive:
                fleet.tmux.add_panes(fleet.session, starts, per_window)
            else:
                owner = (str(fleet.root), str(fleet.spec.path))
                fleet.tmux.create_session(fleet.session, starts, per_window, owner)
                report.add(f"started tmux session {fleet.session!r} on socket {fleet.tmux.socket!r}")
            save_state(fleet.layout, state)
    for name in recreated:  # an agent still running in its deleted folder works on nothing
        pane = panes.get(name)
        if pane is not None and not pane.dead and state.agent(name).phase == Phase.RUNNING:
            interrupted.append(name)
    for name in interrupted:
        if state.agent(name).phase == Phase.STOPPED:  # stopped by `down`: not a restart
            outcome = restart(
                fleet, name, reason="`fleet-tui down` stopped it; `fleet-tui up` resumes it", force=True,
                counts=False,
            )  # fmt: skip
            report.add(f"resumed {name} with a handoff (stopped by down; not counted as a restart)")
            log_event(fleet.layout, name, "resumed", how="handoff", message=outcome.message)
            continue
        report.add(_resume(fleet, name, "its worktree was re-created" if name in recreated else None))
    report.changes.extend(fleet.start_ready())
    if report.changes:
        log_event(fleet.layout, None, "up", changes=report.changes, base=fleet.base)
    return report


def _resume(fleet: Fleet, name: str, why: str | None) -> str:
    """Restart an agent whose process was lost, with a handoff of what it had done. Not counted
    against `max_restarts`: the agent did not fail, its pane or folder was taken from it (a tmux
    server killed from outside must not use up the restarts a crash loop needs)."""
    reason = why or "its pane was gone (the tmux session or the pane was closed)"
    outcome = restart(
        fleet, name, reason=f"{reason}; `fleet-tui up` brought it back", force=True, counts=False
    )
    log_event(fleet.layout, name, "resumed", how="handoff", lost=True)
    return f"restarted {name} with a handoff: {reason} ({outcome.message}; not counted as a restart)"


def _removed_after_merge(fleet: Fleet, name: str, state: FleetState) -> bool:
    """A merged agent whose worktree is gone was tidied up on purpose: do not bring it back."""
    return state.agent(name).phase == Phase.MERGED and not fleet.layout.worktree(name).exists()


def _check_worktree_paths(fleet: Fleet) -> None:
    """Refuse before making anything when a folder is in the way of any agent's worktree."""
    registered = git.worktrees(fleet.root)
    for agent in fleet.agents:
        path = fleet.layout.worktree(agent.name)
        if path not in registered and path.exists():
            raise EnvironmentProblem(
                f"{path} exists and is not the worktree of {agent.branch}",
                "move or remove that folder (fleet-tui never deletes it), or set another "
                "worktree_root under [fleet]; nothing was created",
            )


def _ensure_worktrees(
    fleet: Fleet,
    state: FleetState,
    report: UpReport,
    registered: dict[Path, str | None],
    made: list[Path],
) -> list[str]:
    """Create every agent's missing branch (one by one, from one reading of the branch tips) and
    worktree (a few checkouts at once); the made worktrees go to `made`. Returns the agents whose
    worktree was re-created. A checkout that fails is said for its agent once every other one
    was tried (the state keeps the branches made), so the next `up` makes only what is missing."""
    tips = _branches(fleet.root)
    adds: list[tuple[Agent, Path, bool]] = []
    for agent in fleet.agents:
        if _removed_after_merge(fleet, agent.name, state):
            continue
        missing_ok = _ensure_branch(fleet, agent, state, report, registered, tips)
        if missing_ok is not None:
            path = fleet.layout.worktree(agent.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            adds.append((agent, path, missing_ok))
    # A registered worktree whose folder was deleted by hand is re-added with --force, which
    # overrides only the "registered but missing" guard (_ensure_branch checked it is ours).
    failures = git.add_worktrees(fleet.root, [(path, a.branch, again) for a, path, again in adds])
    recreated: list[str] = []
    for (agent, path, again), failure in zip(adds, failures, strict=True):
        if failure is None:
            made.append(path)
            report.add(f"created worktree {path} on {agent.branch}")
            if again:
                recreated.append(agent.name)
    failed = [(a.name, f) for (a, _, _), f in zip(adds, failures, strict=True) if f is not None]
    if failed:
        save_state(fleet.layout, state)  # the branches made so far are recorded as this agent's start
        git.refresh_indexes(made)  # as after a whole `up`: the next one does not touch these again
        name, first = failed[0]
        others = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise EnvironmentProblem(
            f"could not create the worktree of {name}{others}: {first.message}",
            "fix that, then run `fleet-tui up` again: it makes only what is still missing "
            "(no agent was started)",
        )
    return recreated


def _branches(root: Path) -> dict[str, str]:
    """Every local branch (its full name under refs/heads/) and its commit, in one git call."""
    tips: dict[str, str] = {}
    for line in git.branch_tips(root).splitlines():
        commit, _, ref = line.partition(" ")
        if ref.startswith("refs/heads/"):
            tips[ref.removeprefix("refs/heads/")] = commit
    return tips


def _ensure_branch(
    fleet: Fleet,
    agent: Agent,
    state: FleetState,
    report: UpReport,
    registered: dict[Path, str | None],
    tips: dict[str, str],
) -> bool | None:
    """Create the agent's branch if missing; whether its worktree must be added (None: it is
    there, False: add it, True: re-add a registered one whose folder is gone)."""
    record = state.agent(agent.name)
    path = fleet.layout.worktree(agent.name)
    if agent.branch not in tips:
        start = tips.get(fleet.base) or git.rev_parse(fleet.root, fleet.base)
        git.create_branch(fleet.root, agent.branch, start)  # at the commit, as recorded below
        record.branch_start = start
        report.add(f"created branch {agent.branch} from {fleet.base}")
    elif record.branch_start is None:
        record.branch_start = tips[agent.branch]
        report.add(f"using the existing branch {agent.branch}")
    if path in registered:
        if registered[path] != agent.branch and path.exists() and record.run > 0:
            # The agent's own worktree, switched to another branch (or detached) by the agent:
            # said for this agent, while the rest of the fleet comes up.
            report.warnings.append(off_branch_words(agent.name, path, registered[path], agent.branch))
            return None
        if registered[path] != agent.branch:
            raise EnvironmentProblem(
                f"{path} is a worktree of {registered[path] or 'a detached HEAD'}, not of {agent.branch}",
                "move that worktree away (`git worktree move`), or set another worktree_root under [fleet]",
            )
        if path.exists():
            return None
    return path in registered


def _pane_start(
    fleet: Fleet, agent: Agent, state: FleetState, report: UpReport, interrupted: list[str]
) -> PaneStart:
    record = state.agent(agent.name)
    cwd = fleet.worktree_or_root(agent.name)  # a merged agent's removed worktree: the repository
    if record.phase in (Phase.KILLED, Phase.MERGED):
        verb = "killed" if record.phase == Phase.KILLED else f"merged into {fleet.base}"
        script = write_placeholder(agent, fleet.layout, f"{agent.name} was {verb}.")
        report.add(f"{agent.name} was {verb}: not started again")
        return PaneStart(agent.name, cwd, ("sh", str(script)))
    if record.phase == Phase.STOPPED:
        if agent.preset.resume_command:  # the CLI picks up its own last session
            begin_run(record)
            launcher = write_launcher(agent, fleet.layout, record.run, resume=True)
            report.add(f"resumed {agent.name} with its resume command (stopped by down)")
            log_event(fleet.layout, agent.name, "resumed", how="resume_command", run=record.run)
            return PaneStart(agent.name, cwd, ("sh", str(launcher)))
        interrupted.append(agent.name)  # a handoff once the pane exists (not counted as a restart)
        message = f"{agent.name} was stopped by `fleet-tui down`: resuming it with a handoff..."
        return PaneStart(agent.name, cwd, ("sh", str(write_placeholder(agent, fleet.layout, message))))
    if record.phase == Phase.RUNNING and record.run > 0:
        code = read_exit(fleet.layout, agent.name, record.run)
        if code is not None:  # it had ended: show that again, do not run its task twice
            message = f"{agent.name} had ended with exit code {code} before this pane was rebuilt."
            script = write_placeholder(agent, fleet.layout, message, exit_code=code)
            report.add(f"{agent.name} had ended (exit code {code}): not started again")
            return PaneStart(agent.name, cwd, ("sh", str(script)))
        if agent.preset.resume_command:  # lost with its pane (a killed tmux server): resumed
            begin_run(record)
            launcher = write_launcher(agent, fleet.layout, record.run, resume=True)
            report.add(f"resumed {agent.name} with its resume command (its process was lost with its pane)")
            log_event(fleet.layout, agent.name, "resumed", how="resume_command", run=record.run, lost=True)
            return PaneStart(agent.name, cwd, ("sh", str(launcher)))
        interrupted.append(agent.name)
        message = f"{agent.name}'s process was lost: restarting it with a handoff..."
        return PaneStart(agent.name, cwd, ("sh", str(write_placeholder(agent, fleet.layout, message))))
    waiting = fleet.unmet_dependencies(agent, state)
    why_queued = fleet.queued_reason(agent, state)
    if waiting or why_queued:
        record.phase = Phase.QUEUED
        script = write_queued(agent, fleet.layout, waiting, fleet.base, why_queued)
        report.add(f"queued {agent.name}: {why_queued or 'waiting for ' + ', '.join(waiting)}")
        return PaneStart(agent.name, cwd, ("sh", str(script)))
    begin_run(record)
    launcher = write_launcher(agent, fleet.layout, record.run)
    report.add(f"started {agent.name} in {cwd}")
    log_event(fleet.layout, agent.name, "started", run=record.run)
    return PaneStart(agent.name, cwd, ("sh", str(launcher)))
