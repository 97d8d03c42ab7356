"""The agents' panes from the shell: attach to one (zoomed), send text to one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fleet_tui.adapters.tmux import require_tmux, run_client
from fleet_tui.cli.common import agent_name, cli, fleet_from, fleet_options, out
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.text import plural
from fleet_tui.errors import FleetError


def agent_pane(fleet: Fleet, name: str) -> str:
    """The pane of a known agent; a clear error when the name is unknown or the fleet is down."""
    require_tmux()
    return fleet.live_pane(name).pane_id  # an unknown name raises UnknownAgent (exit 2)


@cli.command()
@fleet_options
@click.argument("name", required=False)
@click.pass_context
def attach(ctx: click.Context, directory: Path | None, fleet_file: Path | None, name: str | None) -> None:
    """Open agent NAME's tmux pane, zoomed; detach (prefix, then d) to come back.

    Works inside your own tmux too: the client runs nested, on the fleet's own socket.
    """
    fleet = fleet_from(ctx, directory, fleet_file)
    name = agent_name(fleet, name)
    argv = fleet.tmux.attach_argv(fleet.session, agent_pane(fleet, name))
    ctx.exit(run_client(argv))


@cli.command()
@fleet_options
@click.option("--no-enter", is_flag=True, help="Paste the text without pressing enter after it.")
@click.argument("name", required=False)
@click.argument("text", required=False)
@click.pass_context
def send(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    no_enter: bool,
    name: str | None,
    text: str | None,
) -> None:
    """Paste TEXT into agent NAME's pane verbatim, then press enter. TEXT `-` reads standard input."""
    fleet = fleet_from(ctx, directory, fleet_file, writes=True)
    name = agent_name(fleet, name)
    if text is None:
        raise FleetError(
            "nothing to send: give the TEXT", f"fleet-tui send {name} 'the text' (or - for stdin)"
        )
    if text == "-":
        text = sys.stdin.read()
        text = text[:-1] if text.endswith("\n") else text  # the enter comes after the paste
    if not text:
        raise FleetError("nothing to send: the text is empty", "give the text as an argument, or - for stdin")
    require_tmux()
    fleet.send(name, text, submit=not no_enter)  # unknown agent or a fleet that is down: one message
    out.print(f"sent {plural(len(text), 'character')} to {name}")
