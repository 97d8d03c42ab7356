"""The event log as the screens and the CLI show it."""

from __future__ import annotations

from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import Event, EventLog


def events(fleet: Fleet, agent: str | None = None, log: EventLog | None = None) -> list[Event]:
    """The event log, newest first; only one agent's events when `agent` is given."""
    if agent is not None:
        fleet.agent(agent)
    found = (log or EventLog(fleet.layout)).read()
    if agent is not None:
        found = [e for e in found if e.agent == agent]
    return list(reversed(found))
