"""What every fleet-tui command shares: the group, the consoles, opening the fleet, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from fleet_tui.engine.fleet import Fleet
from fleet_tui.errors import FleetError
from fleet_tui.spec import FLEET_FILE

F = TypeVar("F", bound=Callable[..., Any])

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class FleetGroup(click.Group):
    """Turns every FleetError into one message and its exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FleetError as exc:
            err.print(f"[bold red]fleet-tui:[/] {exc.message}", markup=True)
            if exc.hint:
                err.print(f"  {exc.hint}", markup=False)
            ctx.exit(exc.exit_code)


def fleet_options(func: F) -> F:
    func = click.option(
        "-f",
        "--file",
        "fleet_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help=f"The fleet file (default: {FLEET_FILE} at the repository root).",
    )(func)
    func = click.option(
        "-C",
        "directory",
        type=click.Path(path_type=Path, file_okay=False),
        help="Run as if started in this folder.",
    )(func)
    return func


def open_fleet(directory: Path | None, fleet_file: Path | None) -> Fleet:
    return Fleet.open(directory, fleet_file)


@click.group(cls=FleetGroup, invoke_without_command=True)
@fleet_options
@click.version_option(package_name="fleet-tui")
@click.pass_context
def cli(ctx: click.Context, directory: Path | None, fleet_file: Path | None) -> None:
    """Run several AI coding agents on one repository, each in its own worktree and tmux pane.

    Without a command: open the dashboard of the fleet in this repository.
    """
    ctx.ensure_object(dict)
    ctx.obj["directory"] = directory
    ctx.obj["fleet_file"] = fleet_file
    if ctx.invoked_subcommand is None:
        fleet = open_fleet(directory, fleet_file)
        open_dashboard(fleet)


def fleet_from(ctx: click.Context, directory: Path | None, fleet_file: Path | None) -> Fleet:
    """The fleet named by this command's -C/-f, or else the group's."""
    parent = ctx.obj or {}
    return open_fleet(directory or parent.get("directory"), fleet_file or parent.get("fleet_file"))


def open_dashboard(fleet: Fleet) -> None:
    from fleet_tui.ui.app import run_dashboard

    run_dashboard(fleet)
