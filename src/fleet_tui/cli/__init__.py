"""The `fleet-tui` command line: one group, commands grouped by area in the modules below."""

from __future__ import annotations

import sys

from fleet_tui.cli import core  # noqa: F401  (each import registers its commands)
from fleet_tui.cli.common import cli

__all__ = ["cli", "main"]


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
