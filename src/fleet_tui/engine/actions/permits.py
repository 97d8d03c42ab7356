"""May this action be applied to this agent now, and if not, why: the engine's answer, which the
dashboard only renders (a dimmed key, the reason in the help screen or a notice).

Pure: decided from the agent's latest snapshot. The actions themselves still check everything
again when they run (the snapshot may be a second old); this is what the person is offered.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet_tui.models import AgentSnapshot, Status

FLEET_ACTIONS = frozenset({"log", "merge_queue"})  # about the whole fleet, no agent needed
AGENT_ACTIONS = frozenset({"kill", "restart", "merge", "diff", "attach", "send", "sync"})
# Steering changes the fleet's state and needs it open; reading a diff or a pane does not.
NEEDS_FLEET = FLEET_ACTIONS | {"kill", "restart", "merge", "sync"}
KILLABLE = frozenset({Status.STARTING, Status.WORKING, Status.WAITING, Status.IDLE, Status.QUEUED})
LIVE = frozenset({Status.STARTING, Status.WORKING, Status.WAITING, Status.IDLE})


@dataclass(frozen=True)
class Permit:
    """Yes, or no and why (one line, for a notice or the help screen)."""

    ok: bool
    why: str = ""

    def __bool__(self) -> bool:
        return self.ok


YES = Permit(True)


def permit(action: str, agent: AgentSnapshot | None, *, fleet_open: bool = True) -> Permit:
    """Whether `action` applies to `agent` (the selected one; None when nothing is selected)."""
    if action not in FLEET_ACTIONS | AGENT_ACTIONS:
        return YES
    if not fleet_open and action in NEEDS_FLEET:
        return Permit(False, "no fleet is open")
    if action in FLEET_ACTIONS:
        return YES
    if agent is None:
        return Permit(False, "no agent is selected")
    return _RULES[action](agent)


def _running(agent: AgentSnapshot) -> bool:
    """Ready is a pipeline verdict on top of the process's own state: an idle agent whose gates all
    passed still has its process (no exit code), one that exited does not."""
    return agent.status == Status.READY and agent.exit_code is None and agent.pane_id is not None


def _kill(agent: AgentSnapshot) -> Permit:
    if agent.status in KILLABLE or _running(agent):
        return YES
    return Permit(False, f"{agent.name} is {agent.status.value}: there is no process to stop")


def _restart(agent: AgentSnapshot) -> Permit:
    if agent.status == Status.MERGED:
        return Permit(False, f"{agent.name} is already merged: there is nothing to restart")
    if agent.status == Status.QUEUED:
        return Permit(False, f"{agent.name} is queued: it starts by itself once its dependencies are merged")
    if agent.status == Status.MISSING:
        return Permit(False, f"{agent.name} has no pane: the fleet is not up")
    return YES


def _merge(agent: AgentSnapshot) -> Permit:
    if agent.status == Status.MERGED:
        return Permit(False, f"{agent.name} is already merged")
    if agent.status == Status.QUEUED:
        return Permit(False, f"{agent.name} is queued: it has not started yet")
    if agent.commits_ahead == 0 and not agent.files:
        return Permit(False, f"{agent.name} has nothing to merge: no commits and no changed files")
    return YES


def _diff(agent: AgentSnapshot) -> Permit:
    if agent.files or agent.git_error is not None:
        return YES
    return Permit(False, f"{agent.name} has no changed files")


def _attach(agent: AgentSnapshot) -> Permit:
    if agent.pane_id is not None:
        return YES
    return Permit(False, f"{agent.name} has no pane: the fleet is not up")


def _send(agent: AgentSnapshot) -> Permit:
    if agent.pane_id is None:
        return Permit(False, f"{agent.name} has no pane: the fleet is not up")
    if agent.status not in LIVE and not _running(agent):
        return Permit(False, f"{agent.name} is {agent.status.value}: no process to send text to")
    return YES


def _sync(agent: AgentSnapshot) -> Permit:
    if agent.role == "reviewer":
        return Permit(False, f"{agent.name} is a reviewer: it is set to its doer's commit at every review")
    if agent.status in (Status.MERGED, Status.QUEUED, Status.MISSING):
        return Permit(False, f"{agent.name} is {agent.status.value}: there is nothing to bring up to date")
    return YES


_RULES = {
    "kill": _kill,
    "restart": _restart,
    "merge": _merge,
    "diff": _diff,
    "attach": _attach,
    "send": _send,
    "sync": _sync,
}
