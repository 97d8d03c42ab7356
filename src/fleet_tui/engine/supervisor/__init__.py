"""The supervisor: one background process per fleet that keeps it while nobody watches.

It runs the monitor continuously and owns what must happen with no dashboard open: status, drift
and overlap changes go to the event log, `restart_on` with its backoff, starting `depends_on` agents
once their dependencies are merged, and attention notifications. It publishes every changed
`FleetSnapshot` to `.fleet/snapshot.json` (replaced atomically) and a heartbeat to
`.fleet/supervisor.json`, so the dashboard, `fleet-tui status` and `fleet-tui watch` all read the
same picture without running a monitor of their own.

Split by job: `control` (is it running, its published snapshot, start and stop), `loop` (the
`Supervisor` itself), `attention` (who needs a person, and the notifications).
"""

from fleet_tui.engine.supervisor.attention import Notifier, attention, attention_event
from fleet_tui.engine.supervisor.control import (
    HEARTBEAT_EVERY,
    STALE_AFTER,
    START_WAIT,
    SnapshotReader,
    SupervisorStatus,
    published,
    start,
    status,
    stop,
    supervisor_argv,
)
from fleet_tui.engine.supervisor.loop import LOG_BYTES, LOG_KEEP, Supervisor, serve

__all__ = [
    "HEARTBEAT_EVERY",
    "LOG_BYTES",
    "LOG_KEEP",
    "STALE_AFTER",
    "START_WAIT",
    "Notifier",
    "SnapshotReader",
    "Supervisor",
    "SupervisorStatus",
    "attention",
    "attention_event",
    "published",
    "serve",
    "start",
    "status",
    "stop",
    "supervisor_argv",
]
