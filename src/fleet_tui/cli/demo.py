"""`fleet-tui demo`: a throwaway repository with six simulated agents, and `demo --clean`."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import click
from rich.console import Console

from fleet_tui import demo as demos
from fleet_tui.adapters import git
from fleet_tui.adapters.processes import alive, stop_tree, tree
from fleet_tui.adapters.tmux import Tmux, require_tmux
from fleet_tui.cli.common import cli, err, open_dashboard, out
from fleet_tui.cli.core import print_status, snapshot_json
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import take_snapshot
from fleet_tui.errors import ActionRefused

TOUR = """\
What to try (every agent is a script: nothing real is at risk):
  Enter / d on docs     its diff: inventory/__init__.py is DRIFT, outside its scope
  s on cli              it waits at a y/n question: send "y" and it goes on
  r on items            it crashed halfway: restart it with a handoff of its work
  m on stock            merge preflight: verify runs the tests; choose Merge
  m on report, pricing  the second one is refused: both changed inventory/report.py
  a                     attach to the agent's pane (detach: Ctrl-b d)"""


@cli.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Build the demo in this new or empty folder (default: a new temporary folder).",
)
@click.option("--no-ui", is_flag=True, help="Bring the demo fleet up without the dashboard.")
@click.option(
    "--for",
    "for_seconds",
    type=click.FloatRange(min=0),
    help="With --no-ui: wait this many seconds, then print the fleet's status.",
)
@click.option("--json", "as_json", is_flag=True, help="With --for: print the status as JSON.")
@click.option(
    "--speed",
    type=click.FloatRange(min=0.01, max=1000),
    default=1.0,
    show_default=True,
    help="How fast the simulated agents go (2 = twice as fast).",
)
@click.option("--clean", is_flag=True, help="Stop demo sessions and delete the folders the demo created.")
@click.option(
    "--socket",
    default=demos.DEMO_SOCKET,
    envvar="FLEET_TUI_DEMO_SOCKET",
    hidden=True,
    help="The demo's tmux socket (tests use their own).",
)
def demo(
    folder: Path | None,
    no_ui: bool,
    for_seconds: float | None,
    as_json: bool,
    speed: float,
    clean: bool,
    socket: str,
) -> None:
    """A zero-setup demo: six simulated agents on a throwaway repository.

    Nothing of yours is touched: the demo lives in its own folder and its own tmux server
    (`tmux -L fleet-tui-demo`). `fleet-tui demo --clean` removes it.
    """
    demos.check_socket(socket)
    if clean:
        clean_demos(folder)
        return
    if for_seconds is not None and not no_ui:
        raise click.UsageError("--for needs --no-ui (the dashboard runs until you quit it)")
    if as_json and for_seconds is None:
        raise click.UsageError("--json needs --no-ui --for SECONDS")
    git.require_git()
    require_tmux()
    say = err if as_json else out  # keep standard output clean for the JSON

    existing = demos.existing_demo(folder.expanduser().absolute()) if folder else None
    if existing:
        built = existing
        say.print(f"resuming the demo in {built.folder}")
    else:
        built = demos.build_demo(folder, speed=speed, socket=socket)
        say.print(f"demo repository: {built.repo}")
    fleet = Fleet.open(built.repo)
    report = fleet.up()
    if not as_json:
        for change in report.changes:
            out.print(f"  {change}", markup=False)

    if no_ui and for_seconds is not None:
        time.sleep(for_seconds)
        snapshot = take_snapshot(fleet, sample=1.0)
        if as_json:
            click.echo(snapshot_json(snapshot))
        else:
            print_status(snapshot)
        _closing(say, built, fleet)
        return
    if no_ui:
        say.print(TOUR, markup=False)
        say.print(f"open the dashboard: fleet-tui -C {built.repo}", markup=False)
        _closing(say, built, fleet)
        return
    open_dashboard(fleet)
    _closing(say, built, fleet)


def _closing(say: Console, built: demos.Demo, fleet: Fleet) -> None:
    say.print(
        f"the demo keeps running on its own tmux server: tmux -L {fleet.tmux.socket} attach "
        f"-t {fleet.session}\n"
        f"back to the dashboard: fleet-tui -C {built.repo}\n"
        f"stop it and delete its folder: fleet-tui demo --clean --dir {shlex.quote(str(built.folder))}",
        markup=False,
    )


def clean_demos(folder: Path | None) -> None:
    """Stop and delete one demo folder (`--dir`), or every demo folder fleet-tui made."""
    if folder is not None:
        target = folder.expanduser().absolute()
        if not target.exists():
            raise ActionRefused(f"{target} does not exist", "nothing to clean there")
        if demos.read_marker(target) is None:
            raise ActionRefused(
                f"{target} was not made by `fleet-tui demo`: it has no {demos.MARKER} marker",
                "fleet-tui demo --clean only deletes the folders the demo created; nothing was touched",
            )
        targets = [target.resolve()]
    else:
        targets = demos.known_demos()
    cleaned = 0
    for path in targets:
        if not path.exists():
            demos.forget(path)
            continue
        marker = demos.read_marker(path)
        if marker is None:
            err.print(f"skipped {path}: it has no {demos.MARKER} marker", markup=False)
            continue
        stopped = stop_demo_session(marker.get("socket", ""), marker.get("name", ""))
        demos.remove_folder(path)
        cleaned += 1
        note = f" and stopped tmux session {marker.get('name')!r}" if stopped else ""
        out.print(f"removed {path}{note}", markup=False)
    if not cleaned:
        out.print("no demo folders to clean")


def stop_demo_session(socket: str, session: str) -> bool:
    """Stop a demo's tmux session and wait for its agents to end; only ever on a demo socket."""
    if not session or not demos.SOCKET_RE.match(socket):
        return False
    tmux = Tmux(socket)
    if not tmux.session_exists(session):
        return False
    leaders = [p.pid for p in tmux.list_panes(session) if p.pid]
    members: set[int] = set()
    for pid in leaders:
        members |= tree(pid)
    tmux.kill_session(session)
    deadline = time.monotonic() + 5.0
    while alive(members) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in alive(members):
        stop_tree(pid, grace=1.0, spare_leader=False)
    return True
