"""What a settled doer's fresh gates lead to: its review started, ready announced, or a capped
retry (restart with what failed in the handoff); past max_rounds, a person decides."""

from __future__ import annotations

import time
from collections.abc import Callable

from fleet_tui.engine.actions import lifecycle
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.pipeline.review import start_review
from fleet_tui.engine.pipeline_state import load_record, retry_for, update_record
from fleet_tui.engine.state import load_state, log_event, save_state, state_lock
from fleet_tui.engine.text import plural
from fleet_tui.errors import ActionRefused
from fleet_tui.pipeline_rules import PipelineRecord, automatic_pass, fresh

Say = Callable[[str], None]


def decide(fleet: Fleet, name: str, tip: str, base_head: str, run: int, *, grace: float, say: Say) -> None:
    """Fresh automatic gates of a settled doer: start its review, mark it ready, or retry."""
    agent = fleet.agent(name)
    record = load_record(fleet, name)
    key = f"{tip}:{base_head}:{run}"
    if record.needs_person or record.decided == key:
        return
    verify = record.gates.get("verify")
    if automatic_pass(record, tip, base_head):
        if agent.review is not None and not (record.review_tip == tip and record.review_verdict):
            if record.review_tip != tip:
                start_review(fleet, name, tip, grace=grace, say=say)
            return
        verdict = record.review_verdict if agent.review is not None else None
        if verdict is not None and not verdict.passed:
            _mark(fleet, name, key)
            why = f"the reviewer failed it ({plural(len(verdict.comments), 'comment')})"
            retry(fleet, name, why, grace=grace, say=say)
            return
        if record.notified_tip != tip:
            _ready(fleet, name, tip, say)
        return
    if verify is not None and verify.ok is False and fresh(verify, tip, base_head):
        if record.conflicts:
            return  # verify could not run; the person syncs (conflicts are shown live)
        _mark(fleet, name, key)
        retry(fleet, name, verify.detail, grace=grace, say=say)


def _mark(fleet: Fleet, name: str, key: str) -> None:
    update_record(fleet, name, lambda r: setattr(r, "decided", key))


def _ready(fleet: Fleet, name: str, tip: str, say: Say) -> None:
    def mark(record: PipelineRecord) -> None:
        record.notified_tip = tip
        record.ready_since = time.time()

    update_record(fleet, name, mark)
    log_event(fleet.layout, name, "ready", tip=tip)
    say(f"{name} is ready to merge: every gate passed")


def retry(fleet: Fleet, name: str, why: str, *, grace: float, say: Say) -> None:
    """Restart the doer with what failed in its handoff, within max_rounds; past it, a person."""
    agent = fleet.agent(name)
    record = load_record(fleet, name)
    if record.rounds >= agent.max_rounds:
        reason = (
            f"{why}; the {plural(agent.max_rounds, 'automatic round')} (max_rounds) are used up: "
            "a person decides"
        )
        update_record(fleet, name, lambda r: setattr(r, "needs_person", reason))
        with state_lock(fleet.layout):  # frees its slot for the next task
            state = load_state(fleet.layout)
            state.agent(name).needs_human = True
            save_state(fleet.layout, state)
        log_event(fleet.layout, name, "needs-person", reason=reason, rounds=record.rounds)
        say(f"{name} needs a person: {reason}")
        return
    round_ = record.rounds + 1
    context = retry_for(fleet, name, round=round_)
    update_record(fleet, name, lambda r: setattr(r, "rounds", round_))
    try:
        outcome = lifecycle.restart(
            fleet, name, reason=f"automatic round {round_}: {why}", force=True, grace=grace, retry=context
        )
    except ActionRefused as exc:
        say(f"{name}: automatic retry refused: {exc.message}")
        return
    log_event(fleet.layout, name, "retry", round=round_, max_rounds=agent.max_rounds, why=why)
    say(f"{name}: round {round_} of {agent.max_rounds}: {why}; {outcome.message}")
