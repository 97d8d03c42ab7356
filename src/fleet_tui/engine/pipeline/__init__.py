"""The pipeline: gates in the background, the ready status, the reviewer, capped retries, sync.

`Pipeline.step(snapshot)` is called with every monitor snapshot by whoever runs the monitor (the
dashboard's reader thread, a supervisor): it returns the snapshot with gates, ready statuses and
the queue, and schedules work, never doing it itself. Gates, reviewer starts and retries run in a
small thread pool (a few at a time, one job per agent at a time), so a slow `verify` never holds
the monitor up. What the pipeline knows per agent lives in `.fleet/agents/<name>/pipeline.json`,
read-modify-written under the state lock.

Gates of a doer run when it has commits of its own and is idle or has exited: no uncommitted work;
`verify` on the *merge result* (base's current tip merged with the agent's branch, in a throwaway
worktree removed afterwards); no conflict with base (`git merge-tree`); no drift, or drift the person
accepted. Results are stamped with the agent's commit and base's commit, so when base moves (another
merge) every settled agent's conflict and verify gates run again by themselves.

Modules: `core` (the scheduler and `run_for`), `gates` (the automatic gates of one agent),
`decide` (ready, review or a capped retry), `review` (the reviewer's round), `sync`.
"""

from fleet_tui.engine.pipeline.core import GATE_WORKERS, SETTLED, Pipeline, run_for
from fleet_tui.engine.pipeline.gates import facts_of, run_gates, view
from fleet_tui.engine.pipeline.sync import sync
from fleet_tui.engine.pipeline_state import accept_drift, load_record, retry_for, update_record
from fleet_tui.pipeline_rules import REVIEW

__all__ = [
    "GATE_WORKERS",
    "REVIEW",
    "SETTLED",
    "Pipeline",
    "accept_drift",
    "facts_of",
    "load_record",
    "retry_for",
    "run_for",
    "run_gates",
    "sync",
    "update_record",
    "view",
]
