"""Steering actions: snapshot, kill, restart with a handoff, merge with preflight, merge queue, restore.

The promise: no action loses an uncommitted change, a commit or a branch, and a failed merge leaves
base exactly as it was. Anything destructive first saves the agent's uncommitted work under
`refs/fleet/snapshots/<agent>/<timestamp>`; every action is written to `.fleet/events.jsonl`.
No UI here: the CLI, the dashboard's workers and the tests call these functions.

One job per module: `work` (snapshots, restore), `lifecycle` (stakes, kill, restart and its
handoff, automatic restarts), `merge` (preflight checks, merge), `queue` (the merge queue),
`bringup` (`up`), `history` (the event log), `results` (what they all return).
"""

from fleet_tui.engine.actions.bringup import UpReport, up
from fleet_tui.engine.actions.common import DEFAULT_GRACE
from fleet_tui.engine.actions.history import events
from fleet_tui.engine.actions.lifecycle import auto_restart, backoff, handoff_data, kill, restart, stakes
from fleet_tui.engine.actions.merge import VERIFY_TIMEOUT, merge, preflight
from fleet_tui.engine.actions.queue import QUEUE_EXCLUDED, describe_queue, plan_queue, run_queue
from fleet_tui.engine.actions.results import (
    Check,
    MergeRefused,
    MergeResult,
    Outcome,
    Preflight,
    QueueItem,
    QueuePlan,
    QueueResult,
    Stakes,
)
from fleet_tui.engine.actions.work import restore, snapshots

__all__ = [
    "DEFAULT_GRACE",
    "QUEUE_EXCLUDED",
    "VERIFY_TIMEOUT",
    "Check",
    "MergeRefused",
    "MergeResult",
    "Outcome",
    "Preflight",
    "QueueItem",
    "QueuePlan",
    "QueueResult",
    "Stakes",
    "UpReport",
    "auto_restart",
    "backoff",
    "describe_queue",
    "events",
    "handoff_data",
    "kill",
    "merge",
    "plan_queue",
    "preflight",
    "restart",
    "restore",
    "run_queue",
    "snapshots",
    "stakes",
    "up",
]
