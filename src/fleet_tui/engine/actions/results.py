"""What the steering actions hand back: plain, frozen results for the CLI, the screens and tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from fleet_tui.adapters.git import Commit, WorkSnapshot
from fleet_tui.errors import ActionRefused


@dataclass(frozen=True)
class Outcome:
    """What an action did, in words, for a notification or a CLI line."""

    agent: str
    action: str
    message: str
    changed: bool = True  # False when there was nothing to do (a harmless repeat)
    snapshot: WorkSnapshot | None = None
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stakes:
    """What is at stake for an agent: shown before kill and restart."""

    agent: str
    uncommitted: tuple[str, ...]
    commits: tuple[Commit, ...]  # not in base, newest first
    phase: str
    restarts: int
    max_restarts: int
    pane_alive: bool

    @property
    def over_cap(self) -> bool:
        return self.restarts >= self.max_restarts


@dataclass(frozen=True)
class Check:
    """One preflight check: its name, whether it passed, and what it found, in words."""

    name: str
    ok: bool
    detail: str
    warning: bool = False  # passed, but only because the person accepted something (drift)


@dataclass(frozen=True)
class Preflight:
    """Every check of a merge, taken before anything changes."""

    agent: str
    base: str
    base_head: str
    tip: str
    checks: tuple[Check, ...]
    uncommitted: tuple[str, ...] = ()
    commits: tuple[Commit, ...] = ()
    verify_command: str | None = None
    verify_code: int | None = None
    verify_output: str = ""
    conflicts: tuple[str, ...] = ()
    drift: tuple[str, ...] = ()  # files outside the scope the person has not accepted

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


class MergeRefused(ActionRefused):
    """A merge stopped before (or while) changing base; base is as it was."""

    def __init__(self, message: str, hint: str | None, preflight: Preflight | None) -> None:
        super().__init__(message, hint)
        self.preflight = preflight


@dataclass(frozen=True)
class MergeResult:
    agent: str
    commit: str
    preflight: Preflight
    committed: str | None  # the commit made from uncommitted work, if any
    started: tuple[str, ...]  # dependants started after the merge
    removed_worktree: bool
    message: str


class Skipped(NamedTuple):
    """An agent left out of the merge queue, and why."""

    agent: str
    why: str


class Stop(NamedTuple):
    """Where a merge queue stopped, and why."""

    agent: str
    why: str


@dataclass(frozen=True)
class QueueItem:
    agent: str
    tip: str
    commits: int
    uncommitted: int
    overlaps_with: tuple[str, ...]
    clean: bool
    conflicts: tuple[str, ...] = ()
    blocked: bool = False  # an earlier item fails: the queue stops before this one


@dataclass(frozen=True)
class QueuePlan:
    base: str
    base_head: str
    items: tuple[QueueItem, ...]
    skipped: tuple[Skipped, ...]
    commit_message: str | None = None
    allow_drift: bool = False  # drifted agents are in it (their drift accepted as they merge)

    @property
    def ok(self) -> bool:
        return all(i.clean for i in self.items)


@dataclass
class QueueResult:
    merged: list[MergeResult] = field(default_factory=list)
    failed: Stop | None = None
    not_run: list[str] = field(default_factory=list)
