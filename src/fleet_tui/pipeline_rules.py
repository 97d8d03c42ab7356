"""The pipeline's pure core: gates, the ready rule, what a retry is told, the queue and the overlay.
The reviewer's prompt and verdict file are `review_text`'s.

No git, tmux or files here: the engine gathers readings and runs gates (engine/pipeline/); this
module decides what they mean. An agent is *ready* when every gate passed at its current commit
against base's current commit, and its reviewer (if it has one) passed that same commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from fleet_tui.models import AgentSnapshot, FleetSnapshot, GateResult, QueueView, Status
from fleet_tui.review_text import Comment, Verdict

GATES = ("uncommitted", "verify", "conflicts", "drift")  # the automatic ones, in the order they show
REVIEW = "review"
FAILURE_LINES = 60  # lines of a failing verify output a retry is given
# Lines that usually start the interesting part of a failing run (pytest, unittest, compilers, make).
FAILURE_MARKERS = re.compile(
    r"^(=+ (FAILURES|ERRORS) =+|FAILED\b|ERROR\b|Traceback \(most recent call last\)|"
    r".*\b(error|Error|ERROR)\b.*:|.*\bAssertionError\b|.*\bfailed\b|✗|E\s{3})"
)


# -- the per-agent record the pipeline keeps ----------------------------------------------------


class PipelineRecord(BaseModel):
    """What the pipeline remembers about one agent (.fleet/agents/<name>/pipeline.json)."""

    model_config = ConfigDict(extra="ignore")

    gates: dict[str, GateResult] = Field(default_factory=dict)
    verify_output: str = ""  # the last verify run's output (its end)
    conflicts: tuple[str, ...] = ()  # files that conflict with base at the last check
    drift: tuple[str, ...] = ()  # drift at the last check (accepted or not)
    drift_accepted: tuple[str, ...] = ()  # paths the person accepted outside the scope
    rounds: int = 0  # automatic retries used (verify or review failures)
    review_tip: str = ""  # the doer's commit the reviewer was started on
    review_verdict: Verdict | None = None  # the reviewer's verdict on review_tip
    needs_person: str = ""  # why the pipeline stopped: past max_rounds, or a bad verdict
    ready_since: float | None = None
    notified_tip: str = ""  # the commit a "ready to merge" notice was raised for
    decided: str = ""  # "<tip>:<base>:<run>" last acted on (a retry), so one result acts once


# -- gates and the ready rule -----------------------------------------------------------------------


def fresh(gate: GateResult | None, tip: str, base_head: str) -> bool:
    """A result counts only for the commit (and base) it was checked at."""
    return gate is not None and gate.tip == tip and gate.base_head == base_head


def review_gate(record: PipelineRecord, tip: str, base_head: str, reviewed: bool) -> GateResult | None:
    """The reviewer's verdict as a gate (None when the agent has no reviewer)."""
    if not reviewed:
        return None
    verdict = record.review_verdict if record.review_tip == tip else None
    if verdict is None:
        running = record.review_tip == tip
        return GateResult(
            name=REVIEW,
            ok=None,
            detail="reviewer running" if running else "not reviewed yet",
            tip=tip,
            base_head=base_head,
        )
    count = len(verdict.comments)
    words = "passed" if verdict.passed else f"failed: {count} comment{'' if count == 1 else 's'}"
    return GateResult(name=REVIEW, ok=verdict.passed, detail=words, tip=tip, base_head=base_head)


def automatic_pass(record: PipelineRecord, tip: str, base_head: str) -> bool:
    """Every automatic gate passed at this commit against this base."""
    return all(
        fresh(record.gates.get(name), tip, base_head) and record.gates[name].ok is True for name in GATES
    )


def is_ready(record: PipelineRecord, tip: str, base_head: str, *, reviewed: bool) -> bool:
    """The ready rule: every gate green at this commit and base, and the reviewer's pass if any."""
    if not tip or record.needs_person or not automatic_pass(record, tip, base_head):
        return False
    gate = review_gate(record, tip, base_head, reviewed)
    return gate is None or gate.ok is True


def gate_row(record: PipelineRecord, tip: str, base_head: str, reviewed: bool) -> tuple[GateResult, ...]:
    """The gates to show, in order; a result checked at another commit is shown as stale."""
    rows: list[GateResult] = []
    for name in GATES:
        gate = record.gates.get(name)
        if gate is None:
            continue
        if not fresh(gate, tip, base_head):
            gate = gate.model_copy(update={"ok": None, "detail": f"stale (was: {gate.detail})"})
        rows.append(gate)
    review = review_gate(record, tip, base_head, reviewed)
    if review is not None and rows:
        rows.append(review)
    return tuple(rows)


def gates_cell(gates: Sequence[GateResult]) -> str:
    """A short text for a table column: ✓ / ✗ / … per gate, first letters."""
    if not gates:
        return "-"
    marks = {True: "✓", False: "✗", None: "…"}
    return " ".join(f"{g.name[0]}{marks[g.ok]}" for g in gates)


# -- what a retry is told ------------------------------------------------------------------------------


def failing_part(output: str, limit: int = FAILURE_LINES) -> str:
    """The part of a failing run's output that says what failed, trimmed to `limit` lines.

    From the first line that looks like the start of a failure report (pytest's FAILURES, a
    traceback, an error line), else the end of the output; long runs keep their first and last lines.
    """
    lines = output.rstrip().splitlines()
    start = next((i for i, line in enumerate(lines) if FAILURE_MARKERS.match(line)), None)
    part = lines[start:] if start is not None else lines[-limit:]
    if len(part) > limit:
        head = limit // 3
        cut = len(part) - limit
        part = [*part[:head], f"[... {cut} lines cut ...]", *part[-(limit - head - 1) :]]
    return "\n".join(part)


@dataclass(frozen=True)
class RetryContext:
    """What the pipeline knows that the next attempt needs (goes into the handoff)."""

    verify_command: str | None = None
    verify_failure: str = ""  # the failing part of the last verify output
    review_comments: tuple[Comment, ...] = ()
    conflicts: tuple[str, ...] = ()  # files that conflict with base
    drift: tuple[str, ...] = ()  # outside the scope and not accepted
    round: int = 0  # which automatic retry this is (0: not an automatic retry)
    max_rounds: int = 2
    note: str = ""  # the person's note to the fresh agent


def retry_context(
    record: PipelineRecord,
    *,
    verify_command: str | None,
    max_rounds: int,
    note: str = "",
    round: int = 0,
) -> RetryContext:
    verify = record.gates.get("verify")
    failure = failing_part(record.verify_output) if verify is not None and verify.ok is False else ""
    verdict = record.review_verdict
    comments = verdict.comments if verdict is not None and not verdict.passed else ()
    accepted = set(record.drift_accepted)
    return RetryContext(
        verify_command=verify_command,
        verify_failure=failure,
        review_comments=comments,
        conflicts=record.conflicts,
        drift=tuple(p for p in record.drift if p not in accepted),
        round=round,
        max_rounds=max_rounds,
        note=note.strip(),
    )


# -- the queue and the snapshot overlay ----------------------------------------------------------------


def queue_view(agents: Iterable[AgentSnapshot], max_agents: int | None) -> QueueView:
    pending: list[str] = []
    active: list[str] = []
    done: list[str] = []
    failed: list[str] = []
    for agent in agents:
        if agent.role == "reviewer":
            continue
        if agent.status == Status.MERGED:
            done.append(agent.name)
        elif agent.needs_human or agent.needs_person or agent.status == Status.KILLED:
            failed.append(agent.name)
        elif agent.status == Status.QUEUED:
            pending.append(agent.name)
        else:
            active.append(agent.name)
    return QueueView(
        pending=tuple(pending),
        active=tuple(active),
        done=tuple(done),
        failed=tuple(failed),
        max_agents=max_agents,
    )


@dataclass(frozen=True)
class AgentFacts:
    """What the overlay needs to know of one agent beyond its snapshot."""

    role: str
    reviewed: bool
    max_rounds: int
    tip: str  # the agent's HEAD now ("" when unknown)


def overlay(
    snapshot: FleetSnapshot,
    records: Mapping[str, PipelineRecord],
    facts: Mapping[str, AgentFacts],
    base_head: str,
    max_agents: int | None,
) -> FleetSnapshot:
    """The snapshot with each agent's gates, rounds and ready status, and the queue."""
    agents: list[AgentSnapshot] = []
    for agent in snapshot.agents:
        fact = facts.get(agent.name)
        record = records.get(agent.name) or PipelineRecord()
        if fact is None:
            agents.append(agent)
            continue
        update: dict[str, object] = {
            "role": fact.role,
            "rounds": record.rounds,
            "max_rounds": fact.max_rounds,
            "needs_person": record.needs_person,
        }
        if fact.role != "reviewer":
            update["gates"] = gate_row(record, fact.tip, base_head, fact.reviewed)
            verdict = record.review_verdict if record.review_tip == fact.tip else None
            if verdict is not None:
                update["review_comments"] = tuple(c.render() for c in verdict.comments)
            settled = agent.status in (Status.IDLE, Status.EXITED)
            if settled and is_ready(record, fact.tip, base_head, reviewed=fact.reviewed):
                update["status"] = Status.READY
                update["status_reason"] = f"every gate passed ({agent.status.value}: {agent.status_reason})"
                update["status_rule"] = ""
                update["status_evidence"] = ""
                if record.ready_since is not None:
                    update["status_since"] = record.ready_since
        agents.append(agent.model_copy(update=update))
    return snapshot.model_copy(update={"agents": tuple(agents), "queue": queue_view(agents, max_agents)})
