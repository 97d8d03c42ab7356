"""The reviewer's round: started on the doer's commit with a prompt of task, criteria and diff,
and its verdict file read once it has settled."""

from __future__ import annotations

import time
from collections.abc import Callable

from fleet_tui.adapters import git
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.launcher import write_launcher
from fleet_tui.engine.pipeline_state import update_record, verdict_file
from fleet_tui.engine.state import Phase, load_state, log_event, save_state, state_lock
from fleet_tui.engine.text import plural
from fleet_tui.models import Status
from fleet_tui.pipeline_rules import PipelineRecord
from fleet_tui.review_text import VerdictError, parse_verdict, review_prompt

Say = Callable[[str], None]


def start_review(fleet: Fleet, name: str, tip: str, *, grace: float, say: Say) -> None:
    """Start the doer's reviewer on the doer's commit, with a prompt of task, criteria and diff."""
    doer = fleet.agent(name)
    reviewer = fleet.agent(doer.review or "")
    path = fleet.layout.worktree(reviewer.name)
    pane = next((p for p in fleet.tmux.list_panes(fleet.session) if p.agent == reviewer.name), None)
    if pane is None or not path.exists():
        say(f"{reviewer.name} has no pane or worktree: run `fleet-tui up`")
        return
    fleet.stop_agent(reviewer.name, pane, grace)
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
    env = {**reviewer.env, "FLEET_VERDICT_FILE": str(verdict)}
    launcher = write_launcher(reviewer.model_copy(update={"task": prompt, "env": env}), fleet.layout, run)
    fleet.tmux.clear_history(pane.pane_id)
    fleet.tmux.respawn(pane.pane_id, path, ("sh", str(launcher)))
    log_event(fleet.layout, reviewer.name, "review-started", doer=name, tip=tip, run=run)
    say(f"started {reviewer.name}: {name}'s gates passed")


def read_verdict(fleet: Fleet, reviewer_name: str, status: Status, *, say: Say) -> None:
    """The settled reviewer's verdict into its doer's record; a missing or malformed one needs a person."""
    doer = fleet.agent(reviewer_name).reviews or ""
    path = verdict_file(fleet, reviewer_name)
    if not path.exists():
        if status == Status.IDLE:
            return  # it may still write it; a person can look at its pane
        why = f"{reviewer_name} ended ({status.value}) without writing its verdict to {path}"
        _needs_person(fleet, doer, why, say)
        return
    try:
        verdict = parse_verdict(path.read_text(encoding="utf-8", errors="replace"))
    except VerdictError as exc:
        why = f"{reviewer_name}'s verdict file {path} is not in the expected form: {exc}"
        _needs_person(fleet, doer, why, say)
        return
    update_record(fleet, doer, lambda r: setattr(r, "review_verdict", verdict))
    log_event(
        fleet.layout, reviewer_name, "verdict", doer=doer, passed=verdict.passed,
        comments=[c.render() for c in verdict.comments],
    )  # fmt: skip
    word = "passed" if verdict.passed else f"failed ({plural(len(verdict.comments), 'comment')})"
    say(f"{reviewer_name}: the review of {doer} {word}")


def _needs_person(fleet: Fleet, doer: str, why: str, say: Say) -> None:
    update_record(fleet, doer, lambda r: setattr(r, "needs_person", why))
    log_event(fleet.layout, doer, "needs-person", reason=why)
    say(f"{doer} needs a person: {why}")
