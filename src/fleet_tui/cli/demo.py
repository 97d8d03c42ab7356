"""`fleet-tui demo`: a throwaway repository with six simulated agents, a queued task and a reviewer, and
`demo --clean`."""

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
from fleet_tui.cli.common import cli, confirm, err, open_dashboard, out, yes_option
from fleet_tui.cli.core import snapshot_json
from fleet_tui.cli.status_table import print_status
from fleet_tui.engine import pipeline, supervisor
from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import take_snapshot
from fleet_tui.engine.presence import dashboard_is_open
from fleet_tui.engine.state import Layout
from fleet_tui.errors import ActionRefused

TOUR = """\
What to try (every agent is a script: nothing real is at risk):
  Enter / d on docs     its diff: inventory/__init__.py is DRIFT, outside its scope
  s on cli              it waits at a y/n question: send "y" and it goes on
  r on items            it crashed halfway: restart it with a handoff of its work
  stock                 its gates pass, its reviewer (stock-review) passes it: it turns ready
  m on stock            merge preflight: verify runs the tests on the merge result; choose Merge
  changelog             a task waiting for a free slot: it starts once stock is merged
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
@click.option(
    "--clean",
    is_flag=True,
    help="Stop demo sessions and delete the demo folders that nobody is using (--dir: just that one).",
)
@click.option("--all", "clean_all", is_flag=True, help="With --clean: also the demos in use (asks first).")
@yes_option
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
    clean_all: bool,
    yes: bool,
    socket: str,
) -> None:
    """A zero-setup demo: six simulated agents, a queued task and a reviewer on a throwaway repository.

    Nothing of yours is touched: the demo lives in its own folder and its own tmux server
    (`tmux -L fleet-tui-demo`). `fleet-tui demo --clean` removes it.
    """
    demos.check_socket(socket)
    if clean_all and not clean:
        raise click.UsageError("--all goes with --clean: fleet-tui demo --clean --all")
    if clean:
        clean_demos(folder, everything=clean_all, yes=yes)
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
    report = up(fleet)
    if not as_json:
        for change in report.changes:
            out.print(f"  {change}", markup=False)

    if no_ui and for_seconds is not None:
        pipeline.run_for(fleet, for_seconds)  # gates, the reviewer and the queue run meanwhile
        snapshot = pipeline.view(fleet, take_snapshot(fleet, sample=1.0))
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


def demo_in_use(marker: dict[str, str]) -> str | None:
    """Why a demo is in use (a dashboard open on it, a tmux client attached), or None."""
    repo = Path(marker.get("repo", ""))
    if marker.get("repo") and dashboard_is_open(repo / ".fleet"):
        return "a dashboard is open on it"
    socket, session = marker.get("socket", ""), marker.get("name", "")
    if session and demos.SOCKET_RE.match(socket) and Tmux(socket).clients(session):
        return "a terminal is attached to its tmux session"
    return None


def clean_demos(folder: Path | None, *, everything: bool = False, yes: bool = False) -> None:
    """Stop and delete one demo folder (`--dir`), or every demo folder fleet-tui made that nobody
    is using (`everything`: those in use too, after asking)."""
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
    chosen: list[tuple[Path, dict[str, str]]] = []
    busy: list[tuple[Path, dict[str, str], str]] = []
    for path in targets:
        if not path.exists():
            demos.forget(path)
            continue
        marker = demos.read_marker(path)
        if marker is None:
            err.print(f"skipped {path}: it has no {demos.MARKER} marker", markup=False)
            continue
        why = demo_in_use(marker) if folder is None else None  # --dir names it: that is the choice
        if why is None:
            chosen.append((path, marker))
        else:
            busy.append((path, marker, why))
    if busy and everything:
        for path, _, why in busy:
            out.print(f"in use: {path} ({why})", markup=False)
        count = len(busy)
        if confirm(
            yes, f"delete {'it' if count == 1 else f'these {count}'} too?", "the demos in use are kept"
        ):
            chosen += [(path, marker) for path, marker, _ in busy]
    elif busy:
        for path, _, why in busy:
            out.print(f"kept {path}: {why} (--all removes it too)", markup=False)
    cleaned = 0
    for path, marker in chosen:
        # Its supervisor first: left running, it outlived the folder and wrote .fleet/ back into it
        # (a folder without the marker, which --clean then refused to remove).
        repo = path / demos.REPO_NAME
        supervisor.stop(Layout(root=repo, worktree_root=repo))
        stopped = stop_demo_session(marker.get("socket", ""), marker.get("name", ""))
        demos.remove_folder(path)
        cleaned += 1
        note = f" and stopped tmux session {marker.get('name')!r}" if stopped else ""
        out.print(f"removed {path}{note}", markup=False)
    if not cleaned and not busy:
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
