"""The `fleet-tui` command line: one group, commands grouped by area in the modules below."""

from __future__ import annotations

import importlib
import sys

from fleet_tui.cli.common import cli

# Each module registers its commands on the group when imported. A new area: add its module here.
AREAS = [
    "core",
    "presets",
    "demo",
    "steer",
    "roster",
    "serve",
    "panes",  # attach, send
    "supervise",  # supervise, watch
    "report",
]
for _area in AREAS:
    importlib.import_module(f"fleet_tui.cli.{_area}")

__all__ = ["cli", "main"]


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
