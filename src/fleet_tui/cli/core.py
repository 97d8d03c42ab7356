"""The core commands: init, plan, up, down, status."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from fleet_tui.cli.common import cli, err, fleet_from, fleet_options, open_dashboard, out
from fleet_tui.cli.status_table import print_status
from fleet_tui.coupling import HISTORY, MAX_COMMIT_FILES, MIN_TOGETHER, Coupling
from fleet_tui.engine import actions, supervisor
from fleet_tui.engine.fleet import Fleet, Plan
from fleet_tui.engine.monitor import take_snapshot
from fleet_tui.engine.planning import read_coupling
from fleet_tui.errors import FleetError
from fleet_tui.models import FleetSnapshot
from fleet_tui.planfile import plan_markdown
from fleet_tui.spec import FLEET_FILE

EXAMPLE = '''# fleet.toml: the agents fleet-tui runs on this repository.
# Reference: every key and its default is listed in fleet-tui's README.

[fleet]
# name = "myproject"          # tmux session name (default: the repository folder's name)
# base = "main"               # branch agents start from and merge into (default: current branch)
# worktree_root = "../myproject-fleet"   # where agent worktrees go (default: ../<repo>-fleet)
# socket = "fleet-tui"        # fleet-tui's own tmux server: `tmux -L fleet-tui attach`
# panes_per_window = 4
# idle_after = 15             # seconds without output before an agent counts as idle
# bell = true                 # ring the terminal bell when an agent needs attention

[[agent]]
name = "api"                  # letters, digits, - and _: becomes branch fleet/api
task = """
Add pagination to the /items endpoint. Keep the public response shape unchanged.
"""
scope = ["src/api/**", "tests/api/**"]   # gitignore-style: the files this agent should change
preset = "claude"             # claude | codex | gemini | aider | shell
# verify = "pytest -q tests/api"         # must pass before a merge
# max_restarts = 2

[[agent]]
name = "docs"
task = "Document the pagination of /items in the user guide."
# task_file = "tasks/docs.md" # or keep the task in a file (relative to this one)
scope = ["docs/**", "README.md"]
preset = "shell"
# command = 'my-agent --prompt-file {prompt_file}'   # your own command template
depends_on = ["api"]          # starts once fleet/api is merged into base
'''


@cli.command()
@fleet_options
@click.option("--force", is_flag=True, help="Overwrite an existing fleet file.")
@click.pass_context
def init(ctx: click.Context, directory: Path | None, fleet_file: Path | None, force: bool) -> None:
    """Write a commented example fleet.toml at the repository root (or at -f FILE)."""
    from fleet_tui.adapters import git

    parent = ctx.obj or {}
    directory = directory or parent.get("directory")
    fleet_file = fleet_file or parent.get("fleet_file")
    git.require_git()
    root = git.repo_root((directory or Path.cwd()).resolve())
    target = fleet_file.resolve() if fleet_file else root / FLEET_FILE
    if target.exists() and not force:
        raise FleetError(
            f"{target} already exists", "edit it, or pass --force to replace it with the example"
        )
    target.write_text(EXAMPLE, encoding="utf-8")
    out.print(f"wrote {escape(str(target))}")
    also = f" -f {target}" if fleet_file else ""
    out.print(f"next: edit it, then `fleet-tui plan{also}` and `fleet-tui up{also}`", markup=False)


def print_plan(plan: Plan) -> None:
    table = Table(title="fleet plan", title_justify="left")
    for column in ("agent", "branch", "worktree", "scope", "depends on", "preset"):
        # A path cut with an ellipsis cannot be copied: fold it onto more lines instead.
        table.add_column(column, overflow="fold")
    for row in plan.rows:
        table.add_row(
            row.agent,
            row.branch,
            str(row.worktree),
            escape("\n".join(row.scope)),
            ", ".join(row.depends_on) or "-",
            row.preset,
        )
    out.print(table)
    if plan.overlaps:
        out.print("[bold yellow]predicted overlaps[/] (files matched by more than one scope):")
        for entry in plan.overlaps:
            marker = " [red](no dependency between them)[/]" if entry in plan.unrelated_overlaps else ""
            out.print(f"  {escape(entry.path)}: {', '.join(entry.agents)}{marker}")
    else:
        out.print("no predicted overlaps")
    out.print("launch order: " + " -> ".join(plan.order))
    for budget in plan.budgets:
        window = (
            f" of {budget.window:,} ({budget.share:.0%})"
            if budget.window and budget.share is not None
            else ""
        )
        out.print(
            f"context at start: {budget.agent} ~{budget.total:,} tokens{window}"
            f" (task {budget.task_tokens:,}, {budget.files} scoped files {budget.scope_tokens:,})"
        )
    for warning in plan.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")


def print_coupling(coupling: Coupling) -> None:
    if coupling.pairs:
        out.print("[bold yellow]coupled scopes[/] (their files changed in the same commits):")
    for pair in coupling.pairs:
        marker = "" if pair.related else " [red](no dependency between them)[/]"
        a, b = pair.agents
        out.print(f"  {a} + {b}: {pair.together} commits together ({pair.strength:.0%}){marker}")
        for f in pair.files:
            out.print(f"    {escape(f.a)} + {escape(f.b)}: {f.together}x")
        out.print(f"    fix: {escape(pair.fix)}")
    for joint in coupling.joints:
        err.print(
            f"[yellow]warning:[/] {escape(joint.path)} is in the scopes of {', '.join(joint.agents)} "
            f"and is {joint.why}: give it to one agent, or serialise them with depends_on"
        )
    skipped = f", {coupling.skipped} of over {MAX_COMMIT_FILES} files left out" if coupling.skipped else ""
    out.print(f"coupling read from the last {coupling.commits} commits{skipped}")


@cli.command()
@fleet_options
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when agents that do not depend on each other overlap or are coupled.",
)
@click.option(
    "--history",
    type=click.IntRange(min=0),
    default=HISTORY,
    show_default=True,
    help="Commits of base read for coupling (0: no coupling).",
)
@click.option(
    "--coupling-min",
    type=click.IntRange(min=1),
    default=MIN_TOGETHER,
    show_default=True,
    help="Commits two scopes must share (and 30% of their changes) before they count as coupled.",
)
@click.option("--markdown", is_flag=True, help="Print the plan as a markdown table.")
@click.pass_context
def plan(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    strict: bool,
    history: int,
    coupling_min: int,
    markdown: bool,
) -> None:
    """Show the coordination plan: agents, scopes, predicted overlaps and coupling, launch order."""
    fleet = fleet_from(ctx, directory, fleet_file)
    result = fleet.plan()  # a missing program is a warning here: the plan is still worth seeing
    coupling = read_coupling(fleet, result, history=history, min_together=coupling_min)
    if markdown:
        click.echo(plan_markdown(result.rows, result.overlaps, coupling, title=f"fleet plan: {fleet.name}"))
    else:
        print_plan(result)
        print_coupling(coupling)
    if strict and (result.unrelated_overlaps or coupling.unrelated or result.over_budget):
        if result.over_budget and not (result.unrelated_overlaps or coupling.unrelated):
            names = ", ".join(b.agent for b in result.over_budget)
            err.print(f"[red]--strict:[/] the start of {names} takes over 60% of the context window")
            ctx.exit(1)
        what = [
            "scopes overlap" if result.unrelated_overlaps else "",
            "scopes are coupled" if coupling.unrelated else "",
        ]
        err.print(
            f"[red]--strict:[/] {' and '.join(w for w in what if w)} between agents that do not "
            "depend on each other"
        )
        ctx.exit(1)


@cli.command()
@fleet_options
@click.option("--no-ui", is_flag=True, help="Bring the fleet up and return, without the dashboard.")
@click.pass_context
def up(ctx: click.Context, directory: Path | None, fleet_file: Path | None, no_ui: bool) -> None:
    """Create worktrees, branches and the tmux session; start the agents. Safe to run again."""
    fleet = fleet_from(ctx, directory, fleet_file, writes=True)
    report = actions.up(fleet)
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    if report.changes:
        for change in report.changes:
            out.print(f"  {escape(change)}")
    else:
        out.print(f"fleet {fleet.name!r} is already up: nothing to do")
    ensure_supervisor(fleet)
    if no_ui:
        out.print(
            f"watch it: fleet-tui   |   raw panes: tmux -L {fleet.tmux.socket} attach -t {fleet.session}"
        )
        return
    open_dashboard(fleet)


@cli.command()
@fleet_options
@click.option(
    "--force",
    is_flag=True,
    help="Stop everything even when .fleet/ cannot be written (a full disk): no snapshot, no event.",
)
@click.pass_context
def down(ctx: click.Context, directory: Path | None, fleet_file: Path | None, force: bool) -> None:
    """Stop the fleet's tmux session. Worktrees, branches and state are kept."""
    fleet = fleet_from(ctx, directory, fleet_file, writes=not force)
    # The supervisor first: it must not restart agents that `down` is stopping.
    if supervisor.stop(fleet.layout):
        out.print("stopped the fleet's supervisor")
    stopped = fleet.down(force=force)
    for line in fleet.unsaved:
        err.print(f"[yellow]not snapshotted (stopped anyway):[/] {escape(line)}")
    if stopped:
        out.print(f"stopped session {fleet.session!r}; worktrees, branches and .fleet/ are kept")
    else:
        out.print(f"session {fleet.session!r} is not running: nothing to do")


def ensure_supervisor(fleet: Fleet) -> None:
    """Start the fleet's supervisor unless it runs: it keeps the fleet while no dashboard is open."""
    try:
        running = supervisor.status(fleet.layout)
        if running.running:
            return
        started = supervisor.start(fleet)
    except FleetError as exc:
        err.print(f"[yellow]warning:[/] {escape(exc.message)}")
        return
    out.print(
        f"  started the supervisor (pid {started.pid}): it watches the fleet with no dashboard open; "
        f"log in {fleet.layout.supervisor_log}"
    )


@cli.command()
@fleet_options
@click.option("--json", "as_json", is_flag=True, help="Print the fleet snapshot as JSON.")
@click.option(
    "--sample",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0, 600),
    callback=lambda _ctx, _param, value: _finite(value),
    help="Seconds to watch output move.",
)
@click.pass_context
def status(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    as_json: bool,
    sample: float,
) -> None:
    """Show every agent's status with its evidence, diff stat, drift and overlap."""
    fleet = fleet_from(ctx, directory, fleet_file)
    from fleet_tui.adapters.tmux import require_tmux

    require_tmux()
    from fleet_tui.engine import pipeline

    # The supervisor's picture (gates and queue included) answers at once; without one, the fleet
    # is sampled here.
    running = supervisor.status(fleet.layout)
    snapshot = supervisor.published(fleet.layout)
    if snapshot is None:
        snapshot = pipeline.view(fleet, take_snapshot(fleet, sample=sample)).model_copy(
            update={"supervisor_alive": running.running}
        )
    if as_json:
        click.echo(snapshot_json(snapshot))
    else:
        print_status(snapshot)
        out.print(f"supervisor: {escape(running.describe())}", style="" if running.fresh() else "yellow")


def _finite(value: float) -> float:
    if not math.isfinite(value):  # FloatRange lets NaN through: it compares false with both ends
        raise click.BadParameter(f"{value} is not a number of seconds")
    return value


def snapshot_json(snapshot: FleetSnapshot) -> str:
    """The snapshot for scripts: everything but raw screens (tails stay)."""
    data = snapshot.model_dump(mode="json", by_alias=True)
    for agent in data["agents"]:
        agent.pop("screen", None)
    return json.dumps(data, indent=2)
