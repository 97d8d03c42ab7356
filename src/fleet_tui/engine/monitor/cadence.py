"""How often the monitor reads the panes: every tick while anything moves, half as often once the
whole fleet has been still for a while.

At 100 idle agents each read (one tmux client, the server listing every pane, composing) was most
of an idle fleet's cost. A fleet where nothing changed for QUIET_READS reads in a row is read every
SLOW_FACTOR ticks until something changes; file events still wake the monitor at once, so a change
on disk shows as fast as ever, and a new question on a screen shows within SLOW_FACTOR ticks.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from fleet_tui.models import AgentSnapshot

QUIET_READS = 10
SLOW_FACTOR = 2.0


class Cadence:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.quiet = 0  # reads in a row that changed no agent
        self._last: Sequence[AgentSnapshot] = ()

    def after(self, agents: Sequence[AgentSnapshot]) -> float:
        """Seconds until the next read of the panes, given the agents this read composed (the
        monitor hands back the very same objects for agents that did not change)."""
        last, self._last = self._last, agents
        same = len(last) == len(agents) and all(map(operator.is_, last, agents))
        self.quiet = self.quiet + 1 if same else 0
        return self.interval * (SLOW_FACTOR if self.quiet >= QUIET_READS else 1.0)
