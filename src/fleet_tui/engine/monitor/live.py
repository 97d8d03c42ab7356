"""The monitor's live loop: publish a snapshot each tick and at once after a file event, and the
first picture before git has read anything."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from fleet_tui.engine.monitor.cadence import SLOW_FACTOR, Cadence
from fleet_tui.engine.monitor.watcher import Watcher
from fleet_tui.engine.planwriter import PlanWriter
from fleet_tui.errors import FleetError
from fleet_tui.models import FleetSnapshot


class Monitor(Protocol):
    """What the loop needs of the Monitor (which calls this module: it is not imported here)."""

    watcher: Watcher
    plan_writer: PlanWriter | None

    @property
    def has_read_git(self) -> bool: ...
    def tick(self, *, panes: bool = True) -> FleetSnapshot: ...
    def read_panes(self) -> None: ...
    def compose(self) -> FleetSnapshot: ...
    def next_due(self) -> float | None: ...
    def sleep(self, timeout: float) -> None: ...
    def close(self) -> None: ...


def run(
    monitor: Monitor,
    publish: Callable[[FleetSnapshot], object],
    stop: threading.Event,
    interval: float = 1.0,
    on_error: Callable[[str], object] | None = None,
) -> None:
    """Publish snapshots until `stop` is set: each tick, and at once after a file event."""
    watcher = threading.Thread(
        target=monitor.watcher.run, args=(stop, on_error), daemon=True, name="fleet-watch"
    )
    next_panes, cadence = 0.0, Cadence(interval)
    try:
        # The first picture before the watcher starts: setting up its watches holds the GIL
        # for ~2 s at 100 worktrees, which made this one tmux read take as long.
        if not monitor.has_read_git:
            next_panes = first_picture(monitor, publish, interval, on_error)
        watcher.start()
        while not stop.is_set():
            now = time.monotonic()
            read_panes = now >= next_panes
            if monitor.watcher.agent_files_changed.is_set():  # cleared before the read it asks for
                monitor.watcher.agent_files_changed.clear()
                read_panes = True
            if read_panes:
                next_panes = now + interval
            try:
                snapshot = monitor.tick(panes=read_panes)
                if read_panes:  # slower while the whole fleet stays still
                    next_panes = now + cadence.after(snapshot.agents)
                publish(snapshot)
                if monitor.plan_writer is not None and (problem := monitor.plan_writer.update(snapshot)):
                    raise FleetError(problem)
            except FleetError as exc:
                if on_error:
                    on_error(str(exc))
            # A snapshot at least every SLOW_FACTOR ticks even while the panes wait longer: the
            # supervisor's heartbeat rides on it, and `status` trusts a heartbeat for STALE_AFTER.
            wake_at = min(next_panes, monitor.next_due() or next_panes, now + interval * SLOW_FACTOR)
            monitor.sleep(max(0.0, wake_at - time.monotonic()))
    finally:
        monitor.close()


def first_picture(
    monitor: Monitor,
    publish: Callable[[FleetSnapshot], object],
    interval: float,
    on_error: Callable[[str], object] | None,
) -> float:
    """Publish the fleet as tmux shows it (names, statuses, screens) before git has read any
    worktree, so a dashboard paints at once; the figures follow with the first tick. Returns
    when the panes are due again."""
    try:
        monitor.read_panes()
        publish(monitor.compose())
    except FleetError as exc:
        if on_error:
            on_error(str(exc))
        return 0.0
    return time.monotonic() + interval
