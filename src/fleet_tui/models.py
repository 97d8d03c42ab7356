"""Readings and the fleet snapshot: immutable data the UI and `status --json` render."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

SNAPSHOT_SCHEMA = 1


class Status(StrEnum):
    QUEUED = "queued"
    STARTING = "starting"
    WORKING = "working"
    WAITING = "waiting"
    IDLE = "idle"
    EXITED = "exited"
    CRASHED = "crashed"
    KILLED = "killed"
    MERGED = "merged"
    READY = "ready"  # every gate passed (and the reviewer's verdict, if any): ready to merge
    MISSING = "missing"  # the fleet is down or the pane is gone
    UNKNOWN = "unknown"  # a hooked agent sent no signals: its hooks are missing or broken


class Reading(BaseModel):
    model_config = ConfigDict(frozen=True)


class FileChange(Reading):
    """One file changed against the merge-base with base (committed + uncommitted + untracked)."""

    path: str
    added: int | None  # None for binary files
    removed: int | None
    old_path: str | None = None  # set for renames
    untracked: bool = False
    in_scope: bool = True

    @property
    def binary(self) -> bool:
        return self.added is None


class WorktreeReading(Reading):
    """What git says about one agent's worktree."""

    files: tuple[FileChange, ...] = ()
    commits_ahead: int = 0
    head: str = ""
    merge_base: str = ""
    error: str | None = None
    pending: bool = False  # not read yet (the monitor's first picture comes before git's)


class PaneReading(Reading):
    """What tmux says about one pane, in one batched call."""

    pane_id: str
    agent: str
    pid: int | None
    dead: bool
    dead_status: int | None
    width: int
    height: int
    screen: str  # visible screen with colour escapes
    activity: float | None = None  # last output in the pane's window (tmux, one-second grain)


class StatusVerdict(Reading):
    status: Status
    reason: str  # which evidence set it, in words
    rule: str = ""  # the pattern that matched, when a pattern set it
    evidence: str = ""  # the matched text, when a pattern set it
    source: str = ""  # which kind of evidence decided: exit, hook, screen, timing
    signal_at: float | None = None  # when the agent's signal that decided was written
    # The verdict may change with time alone (a quiet period running out); not part of the output.
    timed: bool = Field(False, exclude=True)


class OverlapEntry(Reading):
    path: str
    agents: tuple[str, ...]


class GateResult(Reading):
    """One gate of an agent's definition of done, as last checked."""

    name: str  # uncommitted | verify | conflicts | drift | review
    ok: bool | None  # None: running, or not run yet
    detail: str
    checked_at: float | None = None
    tip: str = ""  # the agent's commit it was checked at
    base_head: str = ""  # base's commit it was checked against


class QueueView(Reading):
    """Where every doer is in the pipeline: waiting, holding a slot, merged, or handed to a person."""

    pending: tuple[str, ...] = ()
    active: tuple[str, ...] = ()
    done: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    max_agents: int | None = None


class AgentSnapshot(Reading):
    name: str
    task: str
    branch: str
    worktree: str
    preset: str
    status: Status
    status_reason: str
    status_rule: str = ""
    status_evidence: str = ""
    status_since: float
    status_source: str = ""
    status_signal_at: float | None = None
    context_used: float | None = None  # percent of the agent's context window
    context_source: str = ""
    context_window: int | None = None
    cost_usd: float | None = None
    exit_code: int | None = None
    started_at: float | None = None
    restarts: int = 0
    max_restarts: int = 2
    needs_human: bool = False
    depends_on: tuple[str, ...] = ()
    waiting_for: tuple[str, ...] = ()
    pane_id: str | None = None
    tail: tuple[str, ...] = ()
    screen: str = ""
    files: tuple[FileChange, ...] = ()
    added: int = 0
    removed: int = 0
    commits_ahead: int = 0
    drift: tuple[str, ...] = ()
    overlap: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    git_error: str | None = None
    # Its worktree was not read yet: the first picture of a fleet comes from tmux alone (one
    # call), its file figures a moment later (git in every worktree takes seconds at 100 agents).
    git_pending: bool = False
    # Lock files held in its worktree's git dir or on its branch: its next commit, snapshot or
    # merge fails until they go (a git command running there, or one that crashed).
    git_locks: tuple[str, ...] = ()
    role: str = "agent"  # agent | task | reviewer
    gates: tuple[GateResult, ...] = ()
    rounds: int = 0  # automatic verify/review retries so far
    max_rounds: int = 2
    needs_person: str = ""  # why the pipeline stopped and handed this agent to a person
    review_comments: tuple[str, ...] = ()  # the reviewer's last verdict on this commit, comment by comment

    @property
    def last_line(self) -> str:
        return self.tail[-1] if self.tail else ""


class FleetSnapshot(Reading):
    """One immutable picture of the whole fleet at a moment."""

    schema_version: int = Field(SNAPSHOT_SCHEMA, serialization_alias="schema")
    fleet: str
    base: str
    repo: str
    session: str
    socket: str
    session_alive: bool
    taken_at: float
    agents: tuple[AgentSnapshot, ...]
    overlaps: tuple[OverlapEntry, ...] = ()
    queue: QueueView | None = None
    # Lock files held in the main checkout (its index, HEAD, base's ref, packed-refs): no merge
    # into base can be made while one is held.
    base_locks: tuple[str, ...] = ()
    # Set when the snapshot comes from the fleet's supervisor: its pid, and whether it still runs
    # (the dashboard keeps showing the last picture, marked, when it stopped). None: read directly.
    supervisor_pid: int | None = None
    supervisor_alive: bool | None = None
    # Why the session has no panes to read (None while it is up): the fleet was brought down, the
    # tmux server was killed from outside, or the session of our name belongs to another repository.
    down_reason: str | None = None

    def agent(self, name: str) -> AgentSnapshot | None:
        return next((a for a in self.agents if a.name == name), None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> float | None:
        """What the agents that report a cost have spent together (None when none does)."""
        costs = [a.cost_usd for a in self.agents if a.cost_usd is not None]
        return sum(costs) if costs else None

    def count(self, status: Status) -> int:
        return sum(1 for a in self.agents if a.status == status)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)
