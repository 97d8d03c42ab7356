"""Adding and removing agents from a shell: `fleet-tui add`, `fleet-tui remove`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from fleet_tui.cli.common import agent_name, cli, confirm, fleet_from, fleet_options, out, yes_option
from fleet_tui.engine import roster


@cli.command()
@fleet_options
@click.argument("name")
@click.option("--task", help="The task text (or --task-file).")
@click.option("--task-file", help="A file holding the task, relative to the fleet file.")
@click.option("--scope", "scope", multiple=True, required=True, help="A scope pattern (repeat for more).")
@click.option("--preset", help="claude, codex, gemini, aider, shell, or a [preset.<name>] of the fleet file.")
@click.option("--command", "command", help="Your own command template ({prompt_file}, {worktree}).")
@click.option("--restart-command", help="Command template for a restart ({handoff_file}).")
@click.option("--verify", help="Command that must pass before a merge.")
@click.option("--depends-on", "depends_on", multiple=True, help="An agent to be merged first (repeat).")
@click.option("--no-start", is_flag=True, help="Only write it into the fleet file; `fleet-tui up` starts it.")
@click.pass_context
def add(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    name: str,
    task: str | None,
    task_file: str | None,
    scope: tuple[str, ...],
    preset: str | None,
    command: str | None,
    restart_command: str | None,
    verify: str | None,
    depends_on: tuple[str, ...],
    no_start: bool,
) -> None:
    """Add agent NAME to the fleet file (your comments and layout stay) and start it.

    The new agent is checked as the whole fleet file is: a bad name, scope or preset changes nothing.
    """
    fleet = fleet_from(ctx, directory, fleet_file, writes=True)
    fields = {
        "name": name,
        "task": task,
        "task_file": task_file,
        "scope": list(scope),
        "preset": preset,
        "command": command,
        "restart_command": restart_command,
        "verify": verify,
        "depends_on": list(depends_on),
    }
    change = roster.add_agent(fleet, fields, start=not no_start)
    out.print(escape(change.message))
    for warning in change.fleet.restart_warnings():
        if warning.startswith(f"{name}:"):
            out.print(f"[yellow]warning:[/] {escape(warning)}")


@cli.command()
@fleet_options
@click.argument("name", required=False)
@click.option("--delete-branch", is_flag=True, help="Also delete fleet/NAME (only if merged into base).")
@click.option("--force", is_flag=True, help="With --delete-branch: delete it even if it is not merged.")
@yes_option
@click.pass_context
def remove(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    name: str | None,
    delete_branch: bool,
    force: bool,
    yes: bool,
) -> None:
    """Take agent NAME out of the fleet: snapshot its work, stop it, remove its worktree and its
    [[agent]] from the fleet file. Its branch stays unless --delete-branch.

    Asks first on a terminal; without one it needs --yes.
    """
    fleet = fleet_from(ctx, directory, fleet_file, writes=True)
    name = agent_name(fleet, name)
    roster.check_removal(fleet, name, delete_branch=delete_branch, force=force)
    what = "its branch too" if delete_branch else f"its branch fleet/{name} stays"
    if not confirm(yes, f"remove {name} (work snapshotted first; {what})?", "nothing removed"):
        return
    change = roster.remove_agent(fleet, name, delete_branch=delete_branch, force=force)
    out.print(escape(change.message))
