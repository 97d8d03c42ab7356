"""The automatic gates of one agent, checked now (uncommitted work, verify on the merge result,
conflicts with base, drift), and the pipeline's view of a snapshot without scheduling anything."""

from __future__ import annotations

import time
from collections.abc import Callable

from fleet_tui.adapters import git
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.merge_result import VERIFY_TIMEOUT, verify_merge_result
from fleet_tui.engine.pipeline_state import load_record, update_record
from fleet_tui.engine.state import log_event
from fleet_tui.errors import ExternalCommandFailed
from fleet_tui.models import FleetSnapshot, GateResult
from fleet_tui.pipeline_rules import AgentFacts, PipelineRecord, overlay
from fleet_tui.scope import drift, mark_scope


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
        code, output = verify_merge_result(
            fleet, name, base_head, tip, check.tree, verify_timeout, cancel, purpose="gate"
        )
        how = "passed" if code == 0 else "timed out" if code is None else f"failed (exit {code})"
        verify = gate("verify", code == 0, f"`{agent.verify}` {how} on the merge with {base}")
    results = {
        "uncommitted": gate(
            "uncommitted", not uncommitted, f"uncommitted {_files(uncommitted)}" if uncommitted else "none"
        ),
        "verify": verify,
        "conflicts": gate("conflicts", check.clean, _conflicts_detail(base, check)),
        "drift": gate("drift", not unaccepted, _drift_detail(outside, unaccepted)),
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


def _conflicts_detail(base: str, check: git.MergeCheck) -> str:
    if check.clean:
        return f"merges cleanly into {base}"
    return f"conflicts with {base} in {', '.join(check.conflicts)}"


def _drift_detail(outside: tuple[str, ...], unaccepted: tuple[str, ...]) -> str:
    if not outside:
        return "none"
    if not unaccepted:
        return f"accepted: {_files(list(outside))}"
    return f"outside its scope, not accepted: {_files(list(unaccepted))}"


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
