"""The monitor, split by job: `core` (the Monitor: ticks, git readings, caches, the live loop),
`panes` (per-pane tracking and status verdicts), `compose` (agent snapshots from their inputs),
`watcher` (the file-watching thread), `live` (the live loop, one-off readings)."""

from fleet_tui.engine.monitor.core import Monitor, take_snapshot

__all__ = ["Monitor", "take_snapshot"]
