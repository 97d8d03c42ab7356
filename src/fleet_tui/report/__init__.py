"""The retrospective: was the fan-out worth it? Figures from the event log, and a plain verdict.

Pure: the event log (in whatever shape the state module hands it out), each agent's changed files
and the predicted collisions go in; a `FleetReport` comes out, rendered as markdown here, as JSON by
pydantic and as a timeline picture by `fleet_tui.timeline`.

Modules: `records` (events and the report's records), `figures` (one agent's figures from events),
`build` (the whole fleet's report), `verdict` (the sentences), `markdown`.
"""

from fleet_tui.report.build import build_report, predicted_collisions
from fleet_tui.report.figures import agent_report, merge_conflicts, merge_order, timeline
from fleet_tui.report.markdown import report_markdown
from fleet_tui.report.records import (
    REPORT_SCHEMA,
    AgentReport,
    Collision,
    Event,
    FleetReport,
    Mark,
    Restart,
    Segment,
    Wait,
    as_events,
)
from fleet_tui.report.verdict import duration_words, verdict

__all__ = [
    "REPORT_SCHEMA",
    "AgentReport",
    "Collision",
    "Event",
    "FleetReport",
    "Mark",
    "Restart",
    "Segment",
    "Wait",
    "agent_report",
    "as_events",
    "build_report",
    "duration_words",
    "merge_conflicts",
    "merge_order",
    "predicted_collisions",
    "report_markdown",
    "timeline",
    "verdict",
]
