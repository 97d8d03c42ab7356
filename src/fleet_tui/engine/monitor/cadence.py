"""How often the monitor reads the panes: every tick while anything moves, less often the longer
the whole fleet has been still.

At 100 idle agents each read (a tmux client, the server listing every pane, the pipeline's step
and the heartbeat that follow it) was most of an idle fleet's cost. A fleet where nothing changed
for QUIET_READS reads in a row is read every SLOW_FACTOR ticks, and after STILL_READS more every
STILL_FACTOR ticks, until something changes; file events and agents' hook signals still wake the
monitor at once, so a change on disk or a signalled question shows as fast as ever, and a new
question on a screen of a long-still fleet shows within STILL_FACTOR ticks (3 s). Snapshots (and
the supervisor's heartbeat with them) still come every SLOW_FACTOR ticks, from what was last read.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from fleet_tui.models import AgentSnapshot

QUIET_READS = 10  # still reads before the first slow-down (10 s at a 1 s tick)
SLOW_FACTOR = 2.0
STILL_READS = 20  # ...and slow reads after it before the second (another 40 s)
STILL_FACTOR = 3.0


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
        if self.quiet >= QUIET_READS + STILL_READS:
            return self.interval * STILL_FACTOR
        return self.interval * (SLOW_FACTOR if self.quiet >= QUIET_READS else 1.0)
