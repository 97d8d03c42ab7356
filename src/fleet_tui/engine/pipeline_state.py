"""What the pipeline remembers per agent (`.fleet/agents/<name>/pipeline.json`) and where a
reviewer's verdict goes; read-modify-written under the state lock, so the CLI, the dashboard and
the pipeline never race. The steering actions read it too (a restart's handoff says what failed).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import log_event, state_lock, write_atomic
from fleet_tui.pipeline_rules import PipelineRecord, RetryContext, retry_context
from fleet_tui.review_text import VERDICT_FILE


def record_file(fleet: Fleet, name: str) -> Path:
    return fleet.layout.agent_dir(name) / "pipeline.json"


def verdict_file(fleet: Fleet, reviewer: str) -> Path:
    return fleet.layout.agent_dir(reviewer) / VERDICT_FILE


def load_record(fleet: Fleet, name: str) -> PipelineRecord:
    try:
        return PipelineRecord.model_validate_json(record_file(fleet, name).read_bytes())
    except (OSError, ValueError):
        return PipelineRecord()


def update_record(fleet: Fleet, name: str, change: Callable[[PipelineRecord], None]) -> PipelineRecord:
    """Re-read, change, write back: under the state lock, so the CLI and the pipeline never race."""
    with state_lock(fleet.layout):
        record = load_record(fleet, name)
        change(record)
        write_atomic(record_file(fleet, name), record.model_dump_json(indent=2) + "\n")
        return record


def accept_drift(fleet: Fleet, name: str, paths: tuple[str, ...]) -> PipelineRecord:
    """The person accepts these files outside the agent's scope: the drift gate lets them pass."""
    fleet.agent(name)
    fleet.require_writable()

    def accept(record: PipelineRecord) -> None:
        record.drift_accepted = tuple(sorted({*record.drift_accepted, *paths}))

    record = update_record(fleet, name, accept)
    log_event(fleet.layout, name, "drift-accepted", files=list(paths))
    return record


def retry_for(fleet: Fleet, name: str, *, note: str = "", round: int = 0) -> RetryContext:
    """What the next attempt of this agent needs to know, from the last gates and review."""
    agent = fleet.agent(name)
    record = load_record(fleet, name)
    return retry_context(
        record, verify_command=agent.verify, max_rounds=agent.max_rounds, note=note, round=round
    )
