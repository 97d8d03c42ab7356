"""Merging one agent: the preflight (one small function per check, each a `Check`), then the merge.

A failed merge leaves base exactly as it was: every check runs before anything changes, and the
merge itself is `git merge --no-ff` of the very commit that was checked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fleet_tui.adapters import git
from fleet_tui.engine.actions.common import DEFAULT_GRACE, update_record
from fleet_tui.engine.actions.results import Check, MergeRefused, MergeResult, Preflight
from fleet_tui.engine.fleet import Fleet, off_branch_words
from fleet_tui.engine.merge_result import run_command, verify_merge_result
from fleet_tui.engine.pipeline_state import accept_drift, load_record
from fleet_tui.engine.state import Phase, load_state, log_event
from fleet_tui.engine.text import files, listed, plural
from fleet_tui.errors import ExternalCommandFailed
from fleet_tui.scope import drift, mark_scope
from fleet_tui.spec import Agent

VERIFY_TIMEOUT = 600.0
OUTPUT_LIMIT = 20_000  # characters of verify output kept (the end: where failures are)
DRIFT_SHOWN = 6
DIRTY_SHOWN = 8
IGNORED_SHOWN = 8


# -- the checks -------------------------------------------------------------------------------------


def check_uncommitted(agent: Agent, path: Path, uncommitted: tuple[str, ...], message: str | None) -> Check:
    if not uncommitted:
        return Check("uncommitted", True, "no uncommitted work")
    count = files(len(uncommitted))
    if message:
        return Check("uncommitted", True, f"{count} will be committed to {agent.branch} first")
    return Check(
        "uncommitted",
        False,
        f"{count} uncommitted in {path}: give a commit message to commit them to {agent.branch}, or cancel",
    )


def check_commits(fleet: Fleet, agent: Agent, candidate: str, base_head: str, commits: int) -> Check:
    if git.is_ancestor(fleet.root, candidate, base_head):
        return Check(
            "commits", False, f"nothing to merge: {fleet.base} already has everything of {agent.branch}"
        )
    return Check("commits", True, f"{plural(commits, 'commit')} not in {fleet.base}")


def drift_of(fleet: Fleet, name: str, path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every file outside the agent's scope, those the person has not accepted)."""
    changes = mark_scope(git.read_worktree(path, fleet.base).files, fleet.scopes[name])
    outside = drift(changes)
    accepted = set(load_record(fleet, name).drift_accepted)
    return outside, tuple(p for p in outside if p not in accepted)


def check_scope(outside: tuple[str, ...], unaccepted: tuple[str, ...], allow_drift: bool) -> Check:
    """Drift is never merged without a word: it blocks until the person accepts it."""
    if not outside:
        return Check("scope", True, "every change is inside its scope")
    if unaccepted and not allow_drift:
        return Check(
            "scope",
            False,
            f"DRIFT: {files(len(unaccepted))} outside its scope would come along: "
            f"{listed(list(unaccepted), DRIFT_SHOWN)}; accept it (--allow-drift, or `a` here) "
            "or send it back",
        )
    return Check(
        "scope",
        True,
        f"drift accepted: {files(len(outside))} outside its scope come along: "
        f"{listed(list(outside), DRIFT_SHOWN)}",
        warning=True,
    )


def check_ignored(path: Path) -> Check | None:
    """Gitignored files (.env, build/) are in no commit and no snapshot: said before a merge that
    may remove the worktree (which then keeps the worktree instead of deleting them)."""
    ignored = git.ignored_files(path)
    if not ignored:
        return None
    return Check(
        "ignored",
        True,
        f"note: gitignored files in the worktree ({listed(ignored, IGNORED_SHOWN)}) are not merged; "
        "removing the worktree after the merge is skipped while they are there",
    )


def check_conflicts(fleet: Fleet, conflicts: tuple[str, ...], clean: bool) -> Check:
    if clean:
        return Check("conflicts", True, f"merges cleanly into {fleet.base}")
    return Check(
        "conflicts", False, f"conflicts with {fleet.base} in {', '.join(conflicts) or '(unnamed files)'}"
    )


def check_base(fleet: Fleet, merged_tree: str | None) -> Check:
    """The main checkout is on base, clean, and has no untracked file the merge would overwrite."""
    root, base = fleet.root, fleet.base
    on = git.current_branch(root)
    if on != base:
        where = f"on {on}" if on else "on a detached HEAD"
        return Check("base", False, f"the main checkout {root} is {where}, not on {base}: check out {base}")
    dirty = [p for p in git.uncommitted_files(root) if not p.startswith(".fleet/")]
    untracked = set(git.untracked_files(root))
    changed = [p for p in dirty if p not in untracked]
    if changed:
        return Check(
            "base",
            False,
            f"the main checkout {root} has uncommitted changes ({listed(changed, DIRTY_SHOWN)}): "
            "commit or stash them",
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


def run_verify_command(
    command: str,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    cancel: Callable[[], bool] | None = None,
) -> tuple[int | None, str]:
    """Run the verify command in `cwd`: (exit code or None on timeout, its output). Its whole
    process group ends with it (timeout, `cancel()`, Ctrl-C): nothing is left running."""
    return run_command(command, cwd, env, timeout, cancel)


def check_git_busy(fleet: Fleet, agent: Agent, path: Path) -> list[Check]:
    """No merge while git is mid-operation in the main checkout, or while a lock a merge needs is
    held: the merge would fail half way (and a merge started on top of another leaves a mess)."""
    checks = []
    busy = git.operation_in_progress(fleet.root)
    if busy:
        checks.append(
            Check(
                "base",
                False,
                f"{busy} is in progress in the main checkout {fleet.root}: finish or abort it first "
                "(`git status` says how)",
            )
        )
    locks = git.held_locks(fleet.root, (fleet.base, agent.branch)) + git.held_locks(path)
    if locks:
        checks.append(
            Check(
                "locks",
                False,
                f"git lock held: {', '.join(str(p) for p in dict.fromkeys(locks))} (a git command is "
                "running, or one crashed): wait for it, or delete the file if no git is running",
            )
        )
    return checks


def check_verify(agent: Agent, code: int | None) -> Check:
    if agent.verify is None:
        return Check("verify", True, "no verify command set")
    if code == 0:
        return Check("verify", True, f"`{agent.verify}` passed on the merge result")
    how = "timed out" if code is None else f"failed (exit {code})"
    return Check("verify", False, f"`{agent.verify}` {how} on the merge result")


def check_agent(fleet: Fleet, agent: Agent) -> list[Check]:
    """Refusals that concern the agent itself: already merged, or a reviewer."""
    checks: list[Check] = []
    if load_state(fleet.layout).agent(agent.name).phase == Phase.MERGED:
        checks.append(Check("agent", False, f"{agent.name} is already merged into {fleet.base}"))
    if agent.is_reviewer:
        checks.append(
            Check(
                "agent", False, f"{agent.name} reviews {agent.reviews}: a reviewer's changes are never merged"
            )
        )
    return checks


def check_branch(agent: Agent, path: Path) -> list[Check]:
    on = git.current_branch(path)
    if on == agent.branch:
        return []
    return [Check("branch", False, off_branch_words(agent.name, path, on, agent.branch))]


def check_worktree(fleet: Fleet, name: str, path: Path) -> Check | None:
    """A worktree that is missing or no longer this repository's: nothing else can be checked."""
    if not path.exists():
        return Check("worktree", False, f"the worktree {path} does not exist: run `fleet-tui up`")
    problem = fleet.worktree_problem(name)
    return Check("worktree", False, problem) if problem else None


def _verify(
    fleet: Fleet,
    name: str,
    base_head: str,
    candidate: str,
    result: git.MergeCheck,
    timeout: float,
    cancel: Callable[[], bool] | None,
) -> tuple[int | None, str]:
    """Verify on the merge result; not run (no code) when the merge conflicts."""
    if not result.clean:
        return None, f"[fleet-tui] verify not run: the merge with {fleet.base} conflicts"
    return verify_merge_result(
        fleet, name, base_head, candidate, result.tree, timeout, cancel, purpose="preflight"
    )


# -- preflight and merge ------------------------------------------------------------------------------


def preflight(
    fleet: Fleet,
    name: str,
    *,
    commit_message: str | None = None,
    run_verify: bool = True,
    verify_timeout: float = VERIFY_TIMEOUT,
    cancel: Callable[[], bool] | None = None,
    allow_drift: bool = False,
) -> Preflight:
    """Every merge check, changing nothing: uncommitted work, drift, conflicts, base's checkout, and
    verify on the merge result (base's tip merged with the agent's work, in a throwaway worktree)."""
    agent = fleet.agent(name)
    root, base = fleet.root, fleet.base
    base_head = git.rev_parse(root, base)
    checks = check_agent(fleet, agent)
    path = fleet.layout.worktree(name)
    unusable = check_worktree(fleet, name, path)
    if unusable is not None:
        return Preflight(name, base, base_head, "", (*checks, unusable))
    # Only the agent's branch is merged, whatever its worktree has checked out: an agent that
    # switched branches must not have that other branch merged (and be marked merged) instead.
    tip = git.rev_parse(root, agent.branch)
    checks += check_branch(agent, path)
    checks += check_git_busy(fleet, agent, path)
    uncommitted = tuple(git.uncommitted_files(path))
    commits = tuple(git.commits_since(path, base))
    candidate = tip
    if uncommitted and commit_message:  # what the merge would be: the work committed, objects only
        made = git.work_commit(path, commit_message)
        candidate = made[0] if made else tip
    result = git.merge_check(root, base_head, candidate)
    outside, unaccepted = drift_of(fleet, name, path)
    checks += [
        check_uncommitted(agent, path, uncommitted, commit_message),
        check_commits(fleet, agent, candidate, base_head, len(commits)),
        check_scope(outside, unaccepted, allow_drift),
        check_conflicts(fleet, result.conflicts, result.clean),
        check_base(fleet, result.tree if result.clean else None),
    ]
    checks += [c for c in (check_ignored(path),) if c is not None]
    code, output = (None, "")
    if agent.verify is not None and run_verify:
        code, output = _verify(fleet, name, base_head, candidate, result, verify_timeout, cancel)
    if agent.verify is None or run_verify:
        checks.append(check_verify(agent, code))
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
        drift=unaccepted,
    )


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
    allow_drift: bool = False,
) -> MergeResult:
    """Preflight, then `git merge --no-ff` of the agent's branch into base in the main checkout.

    Drift outside the agent's scope is refused unless the person accepted it, or `allow_drift`
    (which accepts it, logged). Any failure raises MergeRefused with base as it was.
    """
    agent = fleet.agent(name)
    fleet.require_writable()  # a merge made and then not recorded would be half done
    root = fleet.root
    quick = preflight(fleet, name, commit_message=commit_message, run_verify=False, allow_drift=allow_drift)
    if not quick.ok:
        raise _refuse(fleet, quick)
    if quick.drift:
        accept_drift(fleet, name, quick.drift)
    committed: str | None = None
    path = fleet.layout.worktree(name)
    if quick.uncommitted and commit_message:
        fleet.snapshot_work(name, "before committing for merge")
        committed = git.commit_all(path, commit_message)
        log_event(
            fleet.layout, name, "commit", commit=committed, message=commit_message,
            files=len(quick.uncommitted),
        )  # fmt: skip
    pre = preflight(fleet, name, run_verify=True, verify_timeout=verify_timeout)
    if not pre.ok:
        raise _refuse(fleet, pre)
    first_line = (agent.task.strip().splitlines() or [""])[0][:72]
    # Merge the very commit that was checked, even if the agent commits again meanwhile.
    merged, why = git.merge_no_ff(root, pre.tip, f"Merge {agent.branch}: {first_line}")
    if not merged:
        log_event(fleet.layout, name, "merge-failed", error=why, base_head=pre.base_head)
        raise MergeRefused(
            f"git merge of {name} failed and was undone, {fleet.base} unchanged: {why}", None, pre
        )
    commit = git.rev_parse(root, "HEAD")
    update_record(fleet, name, lambda r: setattr(r, "phase", Phase.MERGED))
    log_event(fleet.layout, name, "merged", commit=commit, tip=pre.tip, base=fleet.base)
    started = tuple(fleet.start_ready())
    removed, kept = _remove_worktree(fleet, agent, grace) if remove_worktree else (False, "")
    words = f"merged {agent.branch} into {fleet.base} ({commit[:10]}){kept}"
    if started:
        words += "; " + "; ".join(started)
    if removed:
        words += f"; removed its worktree (branch {agent.branch} kept)"
    return MergeResult(name, commit, pre, committed, started, removed, words)


def _remove_worktree(fleet: Fleet, agent: Agent, grace: float) -> tuple[bool, str]:
    """After a merge: stop the agent, snapshot, remove its worktree. (removed, words if kept)."""
    path = fleet.layout.worktree(agent.name)
    ignored = git.ignored_files(path)
    if ignored:  # `git worktree remove` would delete them silently, and no snapshot holds them
        log_event(fleet.layout, agent.name, "worktree-kept", path=str(path), ignored=ignored[:50])
        return False, (
            f"; its worktree was kept (and its agent left running): it holds gitignored files that "
            f"removing it would delete ({listed(ignored, IGNORED_SHOWN)}); move or delete them, "
            f"then `git worktree remove {path}`"
        )
    fleet.stop_agent(agent.name, fleet.pane(agent.name), grace)
    fleet.snapshot_work(agent.name, "before removing the worktree")
    try:  # git refuses to remove a worktree with changes: then it stays, and so does the work
        git.remove_worktree(fleet.root, path)
    except ExternalCommandFailed as exc:
        log_event(fleet.layout, agent.name, "worktree-kept", path=str(path), error=exc.message)
        return False, f"; its worktree was kept: {exc.message}"
    log_event(fleet.layout, agent.name, "worktree-removed", path=str(path), branch_kept=agent.branch)
    return True, ""
