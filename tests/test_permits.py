"""The engine's answer to "may this action apply to this agent now, and if not why" (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from fleet_tui.engine.actions.permits import permit
from fleet_tui.models import AgentSnapshot, FileChange, Status


def agent(status: Status, **fields: Any) -> AgentSnapshot:
    fields.setdefault("pane_id", "%1")
    return AgentSnapshot(
        name="x", task="t", branch="fleet/x", worktree="/w", preset="shell",
        status=status, status_reason="", status_since=0, **fields,
    )  # fmt: skip


def test_nothing_steers_without_a_fleet_or_an_agent() -> None:
    closed = permit("kill", agent(Status.WORKING), fleet_open=False)
    assert not closed and closed.why == "no fleet is open"
    assert not permit("log", None, fleet_open=False)
    nobody = permit("restart", None)
    assert not nobody and "no agent" in nobody.why
    assert permit("merge_queue", None) and permit("log", None)  # about the fleet, not an agent
    assert permit("quit", None, fleet_open=False)  # not a fleet action: the engine has no say


@pytest.mark.parametrize(
    ("action", "status", "fields", "ok", "why"),
    [
        ("kill", Status.WORKING, {}, True, ""),
        ("kill", Status.QUEUED, {}, True, ""),
        ("kill", Status.CRASHED, {}, False, "x is crashed: there is no process to stop"),
        ("kill", Status.KILLED, {}, False, "x is killed: there is no process to stop"),
        ("restart", Status.CRASHED, {}, True, ""),
        ("restart", Status.MERGED, {}, False, "x is already merged: there is nothing to restart"),
        ("restart", Status.QUEUED, {}, False, "x is queued: it starts by itself once its dependencies"),
        ("restart", Status.MISSING, {}, False, "x has no pane: the fleet is not up"),
        ("merge", Status.IDLE, {}, False, "x has nothing to merge"),
        ("merge", Status.IDLE, {"commits_ahead": 1}, True, ""),
        ("merge", Status.WORKING, {"files": (FileChange(path="a.py", added=1, removed=0),)}, True, ""),
        ("merge", Status.MERGED, {"commits_ahead": 1}, False, "x is already merged"),
        ("merge", Status.QUEUED, {"commits_ahead": 1}, False, "x is queued"),
        ("diff", Status.IDLE, {}, False, "x has no changed files"),
        ("diff", Status.IDLE, {"git_error": "broken"}, True, ""),
        ("attach", Status.IDLE, {"pane_id": None}, False, "x has no pane"),
        ("send", Status.IDLE, {}, True, ""),
        ("send", Status.EXITED, {}, False, "x is exited: no process to send text to"),
        ("send", Status.IDLE, {"pane_id": None}, False, "x has no pane"),
        # ready: its gates passed; its process may still run (idle at its prompt) or have exited
        ("kill", Status.READY, {}, True, ""),
        ("send", Status.READY, {}, True, ""),
        ("kill", Status.READY, {"exit_code": 0}, False, "x is ready: there is no process to stop"),
        ("send", Status.READY, {"exit_code": 0}, False, "x is ready: no process to send text to"),
    ],
)
def test_each_action_says_whether_and_why(
    action: str, status: Status, fields: dict[str, Any], ok: bool, why: str
) -> None:
    answer = permit(action, agent(status, **fields))
    assert answer.ok is ok and bool(answer) is ok
    assert answer.why.startswith(why) if why else answer.why == ""
