"""The fleet: open a fleet file in its repository, plan it, bring it up, take it down.

No UI here: the CLI, the dashboard and the tests all drive this package. `Fleet` is the one object
they hold; its methods beyond `FleetCore`'s hand over to the module that owns the job:

- `core`: the opened fleet (`FleetCore`): agents, paths, the tmux session, snapshots, sending
- `plan`: the plan before a start (overlaps, warnings, budgets) and the dependency relation
- `slots`: queued agents started as dependencies merge and slots free up
- `stopping`: stopping an agent's processes, and `down`
- `programs`: whether the agents' programs are installed
"""

from __future__ import annotations

from fleet_tui.engine.fleet import plan, slots, stopping
from fleet_tui.engine.fleet.core import FleetCore, off_branch_words, session_name, slugify
from fleet_tui.engine.fleet.plan import Plan, PlanRow, dependency_relation
from fleet_tui.engine.fleet.programs import command_program
from fleet_tui.engine.fleet.slots import begin_run
from fleet_tui.engine.fleet.stopping import Stopped
from fleet_tui.engine.state import FleetState
from fleet_tui.models import PaneReading
from fleet_tui.spec import Agent


class Fleet(FleetCore):
    """One fleet file, opened in its repository, with its adapters."""

    def plan(self) -> Plan:
        return plan.make_plan(self)

    def stop_agent(self, name: str, pane: PaneReading | None, grace: float = 3.0) -> Stopped:
        """Polite exit keys, then SIGTERM, then SIGKILL, for every process of the agent (see
        `stopping.stop_agent`). Returns how many ended on SIGTERM and how many needed SIGKILL."""
        return stopping.stop_agent(self, name, pane, grace)

    def down(self, grace: float = 3.0, *, force: bool = False) -> bool:
        """Stop every agent (work snapshotted first) and the fleet's tmux session (`stopping.down`)."""
        return stopping.down(self, grace, force=force)

    def unmet_dependencies(self, agent: Agent, state: FleetState | None = None) -> list[str]:
        return slots.unmet_dependencies(self, agent, state)

    def is_merged(self, name: str, state: FleetState) -> bool:
        """Merged by fleet-tui, or by hand: its branch moved and base now contains it."""
        return slots.is_merged(self, name, state)

    def active_doers(self, state: FleetState) -> list[str]:
        """Doers holding a slot: started and not yet merged, killed or handed to a person."""
        return slots.active_doers(self, state)

    def queued_reason(self, agent: Agent, state: FleetState) -> str | None:
        """Why an agent whose dependencies are met still waits, or None when it may start."""
        return slots.queued_reason(self, agent, state)

    def start_ready(self) -> list[str]:
        """Start queued agents whose dependencies are now merged, as slots allow (`slots.start_ready`)."""
        return slots.start_ready(self)


__all__ = [
    "Fleet",
    "FleetCore",
    "Plan",
    "PlanRow",
    "Stopped",
    "begin_run",
    "command_program",
    "dependency_relation",
    "off_branch_words",
    "session_name",
    "slugify",
]
