"""Which agents the table shows, and in which order: the `/` filter and the sort choice.

Pure functions over snapshot models, so they are tested on their own.
"""

from __future__ import annotations

from collections.abc import Sequence

from fleet_tui.models import AgentSnapshot, Status
from fleet_tui.settings import SORTS

SORT_LABELS = {
    "fleet": "fleet order",
    "status": "status",
    "attention": "attention age",
    "name": "name",
    "changes": "changes",
}
# Who needs the person first: a question, a crash, then the quiet ones, the busy ones, the done ones.
STATUS_ORDER = (
    Status.WAITING,
    Status.CRASHED,
    Status.MISSING,
    Status.UNKNOWN,
    Status.IDLE,
    Status.WORKING,
    Status.STARTING,
    Status.EXITED,
    Status.KILLED,
    Status.QUEUED,
    Status.MERGED,
)


def next_sort(current: str) -> str:
    return SORTS[(SORTS.index(current) + 1) % len(SORTS)] if current in SORTS else SORTS[0]


def matches(agent: AgentSnapshot, query: str) -> bool:
    """Every word of `query` is in the agent's name, its status, or one of its changed files."""
    for word in query.lower().split():
        if word in agent.name.lower() or word in agent.status.value:
            continue
        if any(word in f.path.lower() for f in agent.files):
            continue
        return False
    return True


def _status_rank(agent: AgentSnapshot) -> int:
    return STATUS_ORDER.index(agent.status) if agent.status in STATUS_ORDER else len(STATUS_ORDER)


def arrange(
    agents: Sequence[AgentSnapshot], query: str, sort: str, attention: set[str] | frozenset[str] = frozenset()
) -> list[AgentSnapshot]:
    """The agents to show: those matching `query`, in `sort` order (ties keep the fleet's order)."""
    shown = [a for a in agents if matches(a, query)] if query.strip() else list(agents)
    if sort == "status":
        shown.sort(key=_status_rank)
    elif sort == "attention":  # needing the person first, the longest-waiting of them first
        shown.sort(key=lambda a: (a.name not in attention, a.status_since if a.name in attention else 0.0))
    elif sort == "name":
        shown.sort(key=lambda a: a.name.lower())
    elif sort == "changes":
        shown.sort(key=lambda a: (-(a.added + a.removed), -len(a.files)))
    return shown
