"""The merge queue: agents ready to merge, in a deliberate order, checked against base as it will be."""

from __future__ import annotations

from collections.abc import Callable

from fleet_tui.adapters import git
from fleet_tui.engine.actions.merge import VERIFY_TIMEOUT, drift_of, merge
from fleet_tui.engine.actions.results import QueueItem, QueuePlan, QueueResult, Skipped, Stop
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import take_snapshot
from fleet_tui.engine.state import FleetState, Phase, load_state, log_event
from fleet_tui.engine.text import files, listed, plural
from fleet_tui.errors import ActionRefused
from fleet_tui.models import AgentSnapshot, FleetSnapshot, Status

# Not in a queue: still busy, ended abnormally (look first, then merge it alone), not started, done.
QUEUE_EXCLUDED = {
    Status.WORKING: "still working",
    Status.WAITING: "waiting for an answer",
    Status.STARTING: "just starting",
    Status.CRASHED: "crashed: look at it first, then merge it on its own",
    Status.QUEUED: "queued: its dependencies are not merged",
    Status.MERGED: "already merged",
}


def _candidate(
    fleet: Fleet,
    reading: AgentSnapshot,
    state: FleetState,
    base_head: str,
    commit_message: str | None,
    allow_drift: bool = False,
) -> tuple[str, int, int] | str:
    """(tip to merge, commits, uncommitted files) for an agent that may join the queue, else why not."""
    name, root = reading.name, fleet.root
    path = fleet.layout.worktree(name)
    if state.agent(name).phase == Phase.MERGED or reading.status in QUEUE_EXCLUDED:
        return QUEUE_EXCLUDED.get(reading.status, "already merged")
    if not path.exists():
        return "no worktree"
    problem = fleet.worktree_problem(name)
    if problem:
        return problem
    branch = fleet.agent(name).branch
    on = git.current_branch(path)
    if on != branch:  # only fleet/NAME is ever merged
        return (
            f"its worktree is {'on ' + on if on else 'detached'}, not on {branch}: merge it alone once back"
        )
    tip = git.rev_parse(root, branch)
    uncommitted = git.uncommitted_files(path)
    if uncommitted and not commit_message:
        return f"{files(len(uncommitted))} uncommitted: give a commit message, or merge it alone"
    if uncommitted:
        made = git.work_commit(path, commit_message or "")
        tip = made[0] if made else tip
    if git.is_ancestor(root, tip, base_head):
        return "nothing to merge"
    conflict = git.merge_check(root, base_head, tip)
    if not conflict.clean:  # it cannot merge whatever the order: do not let it stop the others
        found = ", ".join(conflict.conflicts) or "conflicts"
        return f"conflicts with {fleet.base} as it is now ({found}): merge it alone once resolved"
    _outside, unaccepted = drift_of(fleet, name, path)
    if unaccepted and not allow_drift:
        return (
            f"drifted: {files(len(unaccepted))} outside its scope ({listed(list(unaccepted), 4)}): "
            "accept it in its preflight, or run the queue with --allow-drift"
        )
    return tip, len(git.commits_since(path, fleet.base)), len(uncommitted)


def plan_queue(
    fleet: Fleet,
    snapshot: FleetSnapshot | None = None,
    *,
    commit_message: str | None = None,
    allow_drift: bool = False,
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
    skipped: list[Skipped] = []
    ready: dict[str, tuple[str, int, int]] = {}  # name -> (tip to merge, commits, uncommitted)
    for reading in snapshot.agents:
        if fleet.agent(reading.name).is_reviewer:  # its work is a verdict, never a merge
            continue
        found = _candidate(fleet, reading, state, base_head, commit_message, allow_drift)
        if isinstance(found, str):
            skipped.append(Skipped(reading.name, found))
        else:
            ready[reading.name] = found
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
    return QueuePlan(base, base_head, tuple(items), tuple(skipped), commit_message, allow_drift)


def _queue_order(
    fleet: Fleet, names: list[str], overlapping: dict[str, tuple[str, ...]], skipped: list[Skipped]
) -> list[str]:
    position = {a.name: i for i, a in enumerate(fleet.agents)}
    state = load_state(fleet.layout)
    deps: dict[str, set[str]] = {}
    for name in list(names):
        unmet = [d for d in fleet.agent(name).depends_on if d not in names and not fleet.is_merged(d, state)]
        if unmet:
            names.remove(name)
            skipped.append(
                Skipped(name, f"depends on {', '.join(unmet)}, which is neither merged nor in this queue")
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
    on_step: Callable[[str], object] | None = None,
) -> QueueResult:
    """Merge the plan's agents one by one; stop at the first failure (earlier merges stay)."""
    fleet.require_writable()
    result = QueueResult()
    names = [i.agent for i in plan.items]
    if git.rev_parse(fleet.root, fleet.base) != plan.base_head:
        result.failed = Stop(
            names[0] if names else "-", f"{fleet.base} moved since the plan was made: plan again"
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
                allow_drift=plan.allow_drift,
            )
        except ActionRefused as exc:
            result.failed = Stop(name, exc.message)
            result.not_run = names[index + 1 :]
            log_event(fleet.layout, None, "merge-queue-stopped", at=name, not_run=result.not_run)
            return result
        result.merged.append(done)
    return result


def describe_queue(plan: QueuePlan) -> list[str]:
    """The plan in lines of text, for the CLI and the confirmation modal."""
    lines = [f"merge queue into {plan.base} ({plan.base_head[:10]}):"]
    if not plan.items:
        lines.append("  nothing is ready to merge")
    for number, item in enumerate(plan.items, 1):
        what = plural(item.commits, "commit") + (
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
