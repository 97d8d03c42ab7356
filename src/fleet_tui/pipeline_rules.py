"""The pipeline's pure core: gates, the ready rule, the reviewer's verdict file, what a retry is told.

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

GATES = ("uncommitted", "verify", "conflicts", "drift")  # the automatic ones, in the order they show
REVIEW = "review"
VERDICT_FILE = "verdict.md"
FAILURE_LINES = 60  # lines of a failing verify output a retry is given
# Lines that usually start the interesting part of a failing run (pytest, unittest, compilers, make).
FAILURE_MARKERS = re.compile(
    r"^(=+ (FAILURES|ERRORS) =+|FAILED\b|ERROR\b|Traceback \(most recent call last\)|"
    r".*\b(error|Error|ERROR)\b.*:|.*\bAssertionError\b|.*\bfailed\b|✗|E\s{3})"
)


# -- the per-agent record the pipeline keeps ----------------------------------------------------


class Comment(BaseModel):
    """One review comment; `path` and `line` when the reviewer named them."""

    model_config = ConfigDict(frozen=True)

    text: str
    path: str | None = None
    line: int | None = None

    def render(self) -> str:
        where = f"{self.path}:{self.line}" if self.path and self.line else self.path or ""
        return f"{where}: {self.text}" if where else self.text


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    passed: bool
    comments: tuple[Comment, ...] = ()


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


# -- the verdict file --------------------------------------------------------------------------------

VERDICT_HELP = """Write your verdict to {path} in exactly this form:

    verdict: pass          (or: verdict: fail)
    - src/module.py:42: what is wrong there and what to do instead
    - README.md: a comment about a file as a whole
    - a comment about the work as a whole

One comment per line, each starting with "- ". Name a file (and a line) wherever you can."""

_VERDICT_LINE = re.compile(r"^\s*verdict\s*:\s*(\w+)\s*$", re.IGNORECASE)
_WHERE = re.compile(r"^(?P<path>[^\s:]+\.[^\s:]+|[^\s:]*/[^\s:]+)(?::(?P<line>\d+))?:\s*(?P<text>.+)$")


class VerdictError(ValueError):
    """A verdict file that does not say pass or fail in the fixed format."""


def parse_verdict(text: str) -> Verdict:
    """Read a verdict file: a `verdict: pass|fail` line, then `- ` comment lines."""
    passed: bool | None = None
    comments: list[Comment] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found = _VERDICT_LINE.match(line)
        if found:
            word = found.group(1).lower()
            if word not in ("pass", "fail"):
                raise VerdictError(f"the verdict must be pass or fail, not {found.group(1)!r}")
            if passed is not None:
                raise VerdictError("the verdict file has more than one `verdict:` line")
            passed = word == "pass"
            continue
        if line.startswith(("- ", "* ")):
            comments.append(parse_comment(line[2:].strip()))
        elif comments:  # a comment that wrapped onto the next line
            last = comments[-1]
            comments[-1] = last.model_copy(update={"text": f"{last.text} {line}"})
    if passed is None:
        raise VerdictError("no `verdict: pass` or `verdict: fail` line")
    return Verdict(passed=passed, comments=tuple(comments))


def parse_comment(text: str) -> Comment:
    found = _WHERE.match(text)
    if not found:
        return Comment(text=text)
    line = found.group("line")
    number = int(line) if line else None
    return Comment(text=found.group("text").strip(), path=found.group("path"), line=number)


PROMPT_MAX = 96 * 1024  # bytes: Linux refuses any one command-line argument over 128 KiB


def review_prompt(
    *,
    doer: str,
    task: str,
    scope: Sequence[str],
    done_when: Sequence[str],
    base: str,
    branch: str,
    diff: str,
    verdict_path: str,
    instructions: str = "",
    diff_limit: int = 60_000,
) -> str:
    """The reviewer's prompt: what the doer was asked, its criteria, its diff, where the verdict goes."""
    lines = [
        f"# Review of agent {doer}",
        "",
        f"You are a reviewer. Another agent ({doer}) did the task below on branch `{branch}`; this "
        f"worktree is at its last commit. Check the work against the task and the acceptance "
        "criteria. Do not fix anything yourself: your changes are never merged. Your verdict decides "
        "whether the work is ready to merge or goes back to the agent with your comments.",
        "",
        "## The task",
        "",
        task.strip(),
        "",
        "## Scope (the files it was meant to change)",
        "",
        *[f"- `{p}`" for p in scope if p.strip() and not p.strip().startswith("#")],
    ]
    if done_when:
        lines += ["", "## Acceptance criteria (done when)", "", *[f"- {c}" for c in done_when]]
    if instructions.strip():
        lines += ["", "## Review instructions", "", instructions.strip()]
    verdict = ["## Your verdict", "", VERDICT_HELP.format(path=verdict_path), ""]
    # The whole prompt must fit in one command-line argument (the claude and codex presets pass it
    # as one): the diff gets what room the rest leaves, counted in bytes, not characters.
    room = PROMPT_MAX - len("\n".join(lines + verdict).encode()) - 200
    cut = "\n[... diff cut: see `git diff` ...]"
    shown = diff if len(diff) <= diff_limit else diff[:diff_limit] + cut
    if len(shown.encode()) > room:
        shown = shown.encode()[: max(0, room)].decode("utf-8", "ignore") + cut
    lines += ["", f"## The diff against `{base}`", "", "~~~~diff", shown.rstrip(), "~~~~", ""]
    return "\n".join(lines + verdict)


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
