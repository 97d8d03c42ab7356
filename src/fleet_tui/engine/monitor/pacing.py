"""How often one worktree's git may be read: at once for ordinary ones, paced for expensive ones.

A worktree with tens of thousands of untracked files (a build's output nobody ignored) takes a
fair part of a second to read. Read again at every file event while its files keep changing, and
by the rolling resync as often as any other, it would keep a core busy. So each agent's last
reading is timed: an expensive one is read at most once per READ_BACKOFF x that time (at most
about 20% of a core however busy its files are; the change still shows, a moment later), and the
resync leaves it RESYNC_COST x that time. Cheap worktrees are read the moment they change.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

EXPENSIVE_READ = 0.05  # seconds: cheaper readings follow every file event at once
READ_BACKOFF = 4.0
RESYNC_COST = 200.0


class ReadPacer:
    """Remembers what each agent's last git reading cost and when it may be read again."""

    def __init__(self) -> None:
        self._cost: dict[str, float] = {}
        self._next: dict[str, float] = {}  # monotonic time before which it is not read again

    def timed(self, name: str, seconds: float) -> None:
        """The agent's reading took `seconds` (wall time, waiting on git included) and just ended."""
        self._cost[name] = seconds
        pause = READ_BACKOFF * seconds if seconds >= EXPENSIVE_READ else 0.0
        self._next[name] = time.monotonic() + pause

    def split(self, names: Iterable[str]) -> tuple[set[str], set[str]]:
        """(to read now, to read once their pause is over)."""
        now = time.monotonic()
        later = {n for n in names if self._next.get(n, 0.0) > now}
        return set(names) - later, later

    def next_due(self, names: Iterable[str]) -> float | None:
        """When (monotonic) the first of these may be read; None for no names."""
        return min((self._next.get(n, 0.0) for n in names), default=None)

    def resync_after(self, name: str, least: float) -> float:
        """Seconds a reading stays fresh for the rolling resync: `least`, longer for costly ones."""
        return max(least, RESYNC_COST * self._cost.get(name, 0.0))
