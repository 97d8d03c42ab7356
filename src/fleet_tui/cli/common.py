"""What every fleet-tui command shares: the group, the consoles, opening the fleet, errors."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from fleet_tui.engine.fleet import Fleet
from fleet_tui.errors import ActionRefused, FleetError
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
            err.print(f"[bold red]fleet-tui:[/] {escape(exc.message)}", markup=True)
            if exc.hint:
                err.print(f"  {exc.hint}", markup=False)
            ctx.exit(exc.exit_code)
        except OSError as exc:
            # The last line of defence (writes are checked before acting): a disk that fills up
            # or a folder that turns read-only mid-command is one message, not a traceback.
            where = f" ({exc.filename})" if exc.filename else ""
            err.print(
                f"[bold red]fleet-tui:[/] {escape(str(exc.strerror or exc))}{escape(where)}", markup=True
            )
            ctx.exit(2)


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


# `-h` as well as `--help`, on the group and (inherited through the context) on every command.
CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(cls=FleetGroup, invoke_without_command=True, context_settings=CONTEXT)
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


def fleet_from(
    ctx: click.Context, directory: Path | None, fleet_file: Path | None, *, writes: bool = False
) -> Fleet:
    """The fleet named by this command's -C/-f, or else the group's. `writes`: the command changes
    something, so `.fleet/` must be writable before it starts."""
    parent = ctx.obj or {}
    fleet = open_fleet(directory or parent.get("directory"), fleet_file or parent.get("fleet_file"))
    if writes:
        fleet.require_writable()
    return fleet


def open_dashboard(fleet: Fleet) -> None:
    from textual.theme import BUILTIN_THEMES

    from fleet_tui.engine.presence import dashboard_open
    from fleet_tui.settings import load_settings, settings_path
    from fleet_tui.ui.app import FleetApp, run_dashboard
    from fleet_tui.ui.views import check_settings

    path = settings_path()
    settings = load_settings(path)  # a broken settings file: one message before anything opens
    check_settings(settings, str(path), set(BUILTIN_THEMES), FleetApp)
    with dashboard_open(fleet.layout.state_dir):  # `demo --clean` sees that this fleet is in use
        run_dashboard(fleet, settings, path)


def yes_option(func: F) -> F:
    return click.option("-y", "--yes", is_flag=True, help="Do it without asking first.")(func)


def confirm(yes: bool, question: str, nothing_done: str, *, needs_terminal: bool = True) -> bool:
    """Ask on a terminal before something that changes things; `--yes` answers for the person.

    Without a terminal there is nobody to ask: `needs_terminal` commands refuse (scripts pass
    --yes), the others go ahead as they always did (their work is snapshotted first).
    Returns False when the person said no (the caller prints `nothing_done` and stops)."""
    if yes:
        return True
    if not sys.stdin.isatty():
        if needs_terminal:
            raise ActionRefused(f"not confirmed: {nothing_done}", "pass --yes to go ahead without asking")
        return True
    if click.confirm(question, default=False):
        return True
    out.print(f"cancelled: {nothing_done}", markup=False)
    return False


def agent_name(fleet: Fleet, name: str | None) -> str:
    """The NAME argument, checked: a missing or unknown one gets the fleet's agents listed."""
    if name is None:
        raise FleetError("which agent? give its NAME", f"agents: {', '.join(fleet.spec.names)}")
    fleet.agent(name)  # an unknown name raises UnknownAgent, which lists the agents
    return name
