"""Sync: bringing base's new commits into an agent's branch (a merge, or a handoff when it conflicts)."""

from __future__ import annotations

from dataclasses import replace

from fleet_tui.adapters import git
from fleet_tui.engine.actions import lifecycle
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.pipeline_state import retry_for, update_record
from fleet_tui.engine.state import Phase, load_state, log_event
from fleet_tui.errors import ActionRefused
from fleet_tui.pipeline_rules import PipelineRecord


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
    fleet.require_writable()
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
