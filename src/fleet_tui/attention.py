"""The attention queue: which agents need the person now, oldest first."""

from __future__ import annotations

from dataclasses import dataclass

from fleet_tui.models import AgentSnapshot, FleetSnapshot, Status


@dataclass(frozen=True)
class Need:
    agent: str
    reasons: tuple[str, ...]
    since: float  # when the oldest of its reasons began, as far as the readings know

    def waited(self, now: float) -> float:
        return max(0.0, now - self.since)


def _count(count: int, word: str) -> str:
    """ "1 file", "2 files" (the core's own: it may not import the engine's wording)."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def reasons_of(agent: AgentSnapshot) -> list[str]:
    """Why this agent needs the person, in words (empty: it does not)."""
    found = []
    if agent.status == Status.WAITING:
        found.append("waiting for an answer")
    if agent.status == Status.CRASHED:
        found.append(f"crashed (exit {agent.exit_code})" if agent.exit_code is not None else "crashed")
    if agent.needs_human:
        found.append("needs a person: restarts used up")
    if agent.drift:
        found.append(f"drifted: {_count(len(agent.drift), 'file')} outside its scope")
    if agent.status == Status.READY:
        found.append("ready to merge: every gate passed")
    else:
        finished = agent.status == Status.EXITED and not agent.exit_code
        if agent.commits_ahead and (finished or agent.status == Status.IDLE) and not agent.drift:
            found.append(f"ready to merge: {_count(agent.commits_ahead, 'commit')}")
    return found


def attention_queue(snapshot: FleetSnapshot) -> list[Need]:
    """Agents that need the person, the one waiting longest first."""
    needs = [
        Need(agent=a.name, reasons=tuple(r), since=a.status_since)
        for a in snapshot.agents
        if (r := reasons_of(a))
    ]
    return sorted(needs, key=lambda n: (n.since, n.agent))
