"""The fleet file: `fleet.toml` read into validated, frozen models.

Everything here is pure: reading the file and checking it against itself. Checks that need the
repository (does the base branch exist?) live in the engine.

- `file`: the tables as written, each checked on its own
- `resolved`: the resolved fleet (Agent, FleetSpec) and its launch order
- `resolve` / `reviewer`: from the file as written to the fleet, checked against itself
- `load`: reading and parsing a file into one SpecError or a FleetSpec
- `messages`: where a validation error is and how it is worded
- `textfile`: reading a small text file safely
"""

from fleet_tui.spec.file import (
    FLEET_FILE,
    SLUG_RE,
    AgentSpec,
    FleetFile,
    FleetSettings,
    ReviewSpec,
    compile_scope,
)
from fleet_tui.spec.load import load_fleet, parse_fleet
from fleet_tui.spec.resolve import default_preset
from fleet_tui.spec.resolved import Agent, FleetSpec, find_cycle, launch_order
from fleet_tui.spec.textfile import read_text_file

__all__ = [
    "FLEET_FILE",
    "SLUG_RE",
    "Agent",
    "AgentSpec",
    "FleetFile",
    "FleetSettings",
    "FleetSpec",
    "ReviewSpec",
    "compile_scope",
    "default_preset",
    "find_cycle",
    "launch_order",
    "load_fleet",
    "parse_fleet",
    "read_text_file",
]
