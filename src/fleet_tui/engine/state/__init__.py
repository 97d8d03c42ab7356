"""Where the fleet keeps its files (`.fleet/`), its state (`state.json`) and its event log.

One writer at a time: every read-modify-write of `state.json` runs under `state_lock` (an
`fcntl.flock` on `.fleet/state.lock`, re-entrant within a process), whoever does it: the CLI, the
dashboard's workers or the supervisor. Each write also refreshes `state.json.bak`, so a state file
that was deleted or corrupted is recovered from the last good one (or rebuilt from the event log)
instead of being silently reset; when neither works, commands refuse with a message naming the file.

The event log is read and written here only: `log_event` appends one typed `Event` per line, and
`EventLog` reads the file incrementally, skipping (and counting) lines that are not valid events.

- `layout`: the paths of `.fleet/` and the worktrees, atomic writes, exit files
- `locks`: the state lock and the `up` lock
- `events`: the event log
- `store`: `state.json` (phases, per-agent records), recovery, saving
"""

from fleet_tui.engine.state.events import BadLine, Event, EventLog, log_event, read_events
from fleet_tui.engine.state.layout import STATE_DIR, Layout, read_exit, write_atomic
from fleet_tui.engine.state.locks import LOCK_TIMEOUT, lock_held, state_lock, take_exclusive, up_lock
from fleet_tui.engine.state.store import (
    AgentState,
    FleetState,
    Phase,
    StateUnreadable,
    load_state,
    pinned_base,
    rebuild_from_events,
    save_state,
    update_state,
)

__all__ = [
    "LOCK_TIMEOUT",
    "STATE_DIR",
    "AgentState",
    "BadLine",
    "Event",
    "EventLog",
    "FleetState",
    "Layout",
    "Phase",
    "StateUnreadable",
    "load_state",
    "lock_held",
    "log_event",
    "pinned_base",
    "read_events",
    "read_exit",
    "rebuild_from_events",
    "save_state",
    "state_lock",
    "take_exclusive",
    "up_lock",
    "update_state",
    "write_atomic",
]
