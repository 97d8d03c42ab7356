"""Steering from a shell: kill, restart, merge, merge-queue, restore, snapshot, log."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from fleet_tui.cli.common import (
    agent_name,
    cli,
    confirm,
    err,
    fleet_from,
    fleet_options,
    out,
    yes_option,
)
from fleet_tui.engine import actions
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import EventLog
from fleet_tui.engine.text import format_details, format_time, plural
from fleet_tui.errors import ActionRefused

name_argument = click.argument("name", required=False)  # missing: agent_name lists them


def _fleet(
    ctx: click.Context, directory: Path | None, fleet_file: Path | None, *, writes: bool = True
) -> Fleet:
    return fleet_from(ctx, directory, fleet_file, writes=writes)


def print_preflight(pre: actions.Preflight) -> None:
    out.print(f"merge preflight for [bold]{pre.agent}[/] into {pre.base} ({pre.base_head[:10]}):")
    for check in pre.checks:
        mark = (
            "[yellow]warn[/]"
            if check.ok and check.warning
            else "[green]ok  [/]"
            if check.ok
            else "[bold red]FAIL[/]"
        )
        out.print(f"  {mark} {check.name:<11} {escape(check.detail)}")
    for path in pre.conflicts:
        out.print(f"         conflict: {escape(path)}")
    if pre.verify_output.strip():
        out.print(f"  output of `{escape(pre.verify_command or '')}`:")
        for line in pre.verify_output.rstrip().splitlines()[-40:]:
            out.print(f"    {escape(line)}")


@cli.command()
@fleet_options
@name_argument
@click.option("--grace", default=actions.DEFAULT_GRACE, show_default=True, help="Seconds before SIGKILL.")
@yes_option
@click.pass_context
def kill(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    name: str | None,
    grace: float,
    yes: bool,
) -> None:
    """Stop an agent: snapshot its work, ask it to exit, end its process tree. Files stay.

    On a terminal it asks first (--yes does not); without one it goes ahead."""
    fleet = _fleet(ctx, directory, fleet_file)
    name = agent_name(fleet, name)
    stakes = actions.stakes(fleet, name)
    if stakes.uncommitted or stakes.commits:
        out.print(
            f"{name}: {plural(len(stakes.uncommitted), 'uncommitted file')} (to be snapshotted first), "
            f"{plural(len(stakes.commits), 'commit')} not in {fleet.base} (kept on fleet/{name})"
        )
    if not confirm(yes, f"kill {name}?", "nothing stopped", needs_terminal=False):
        return
    out.print(escape(actions.kill(fleet, name, grace=grace).message))


@cli.command()
@fleet_options
@name_argument
@click.option("--force", is_flag=True, help="Restart even past the agent's max_restarts.")
@click.option("--reason", default="asked by the person", show_default=True, help="Why (goes in the handoff).")
@click.option("--note", default="", help="A note for the fresh agent (first thing in its handoff).")
@click.option("--grace", default=actions.DEFAULT_GRACE, show_default=True, help="Seconds before SIGKILL.")
@yes_option
@click.pass_context
def restart(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    name: str | None,
    force: bool,
    reason: str,
    note: str,
    grace: float,
    yes: bool,
) -> None:
    """Restart an agent with a fresh process and a handoff document of what is done.

    On a terminal it asks first (--yes does not); without one it goes ahead."""
    fleet = _fleet(ctx, directory, fleet_file)
    name = agent_name(fleet, name)
    if not confirm(yes, f"restart {name} with a handoff?", "nothing restarted", needs_terminal=False):
        return
    outcome = actions.restart(fleet, name, reason=reason, force=force, grace=grace, note=note)
    out.print(escape(outcome.message))


@cli.command()
@fleet_options
@name_argument
@click.option("-m", "--commit-message", help="Commit the agent's uncommitted work with this message first.")
@click.option(
    "--remove-worktree", is_flag=True, help="After the merge, stop the agent and remove its worktree."
)
@click.option("--dry-run", is_flag=True, help="Run the preflight only; change nothing.")
@click.option("--allow-drift", is_flag=True, help="Accept changes outside the agent's scope (logged).")
@click.option("--verify-timeout", default=actions.VERIFY_TIMEOUT, show_default=True, help="Seconds.")
@yes_option
@click.pass_context
def merge(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    name: str | None,
    commit_message: str | None,
    remove_worktree: bool,
    dry_run: bool,
    allow_drift: bool,
    verify_timeout: float,
    yes: bool,
) -> None:
    """Merge fleet/NAME into base with --no-ff, after a preflight that changes nothing.

    Preflight: uncommitted work, drift outside the scope (refused unless --allow-drift), a
    merge-tree conflict check, a clean main checkout on base, and the agent's verify command run on
    the merge result. Any failure leaves base exactly as it was. On a terminal it asks first (--yes
    does not); without one it goes ahead.
    """
    fleet = _fleet(ctx, directory, fleet_file, writes=not dry_run)
    name = agent_name(fleet, name)
    if dry_run:
        pre = actions.preflight(
            fleet, name, commit_message=commit_message, verify_timeout=verify_timeout, allow_drift=allow_drift
        )
        print_preflight(pre)
        out.print("preflight passed: `fleet-tui merge` would merge" if pre.ok else "preflight failed")
        ctx.exit(0 if pre.ok else 1)
    if not confirm(
        yes,
        f"merge fleet/{name} into {fleet.base} (after its preflight)?",
        "nothing merged",
        needs_terminal=False,
    ):
        return
    try:
        result = actions.merge(
            fleet,
            name,
            commit_message=commit_message,
            remove_worktree=remove_worktree,
            verify_timeout=verify_timeout,
            allow_drift=allow_drift,
        )
    except actions.MergeRefused as exc:
        if exc.preflight is not None:
            print_preflight(exc.preflight)
        raise
    print_preflight(result.preflight)
    out.print(escape(result.message))


@cli.command("merge-queue")
@fleet_options
@yes_option
@click.option("--dry-run", is_flag=True, help="Show the plan only.")
@click.option("-m", "--commit-message", help="Commit agents' uncommitted work with this message first.")
@click.option("--remove-worktrees", is_flag=True, help="Remove each merged agent's worktree (branches stay).")
@click.option("--allow-drift", is_flag=True, help="Include drifted agents, accepting their drift (logged).")
@click.option("--verify-timeout", default=actions.VERIFY_TIMEOUT, show_default=True, help="Seconds.")
@click.pass_context
def merge_queue(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    yes: bool,
    dry_run: bool,
    commit_message: str | None,
    remove_worktrees: bool,
    allow_drift: bool,
    verify_timeout: float,
) -> None:
    """Merge every agent that is ready, in a deliberate order, stopping at the first failure.

    Order: agents that overlap nobody first, then the rest, each after the agents it depends on;
    each is checked against base as it will be after the earlier merges. Not in the queue: agents
    still working, waiting or starting, crashed ones (merge them alone), queued and merged ones,
    agents with uncommitted work unless --commit-message is given, and agents whose changes go
    outside their scope unless --allow-drift is given.
    """
    fleet = _fleet(ctx, directory, fleet_file, writes=not dry_run)
    plan = actions.plan_queue(fleet, commit_message=commit_message, allow_drift=allow_drift)
    for line in actions.describe_queue(plan):
        out.print(escape(line))
    if not plan.items or dry_run:
        return
    if not plan.ok:
        out.print("[yellow]the queue will stop at the first conflict; everything before it is merged[/]")
    if not confirm(yes, "run this plan?", "nothing merged"):
        return
    result = actions.run_queue(
        fleet,
        plan,
        verify_timeout=verify_timeout,
        remove_worktrees=remove_worktrees,
        on_step=lambda step: out.print(escape(step)),
    )
    for done in result.merged:
        out.print(f"[green]✓[/] {escape(done.message)}")
    if result.failed:
        agent, why = result.failed
        err.print(f"[bold red]stopped at {agent}:[/] {escape(why)}")
        if result.not_run:
            err.print(f"not run: {', '.join(result.not_run)}")
        ctx.exit(1)


@cli.command()
@fleet_options
@name_argument
@click.argument("snapshot", required=False)
@click.option("--force", is_flag=True, help="Overwrite newer uncommitted changes (snapshotted first).")
@click.pass_context
def restore(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    name: str | None,
    snapshot: str | None,
    force: bool,
) -> None:
    """List an agent's snapshots of work, or bring SNAPSHOT's files back into its worktree."""
    fleet = _fleet(ctx, directory, fleet_file, writes=snapshot is not None)
    name = agent_name(fleet, name)
    if snapshot is None:
        found = actions.snapshots(fleet, name)
        if not found:
            out.print(f"{name} has no snapshots")
            return
        out.print(f"snapshots of {name}, newest first (restore one: fleet-tui restore {name} SNAPSHOT):")
        for snap in found:
            when = format_time(snap.taken_at)
            out.print(f"  {snap.name}  {when}  {plural(len(snap.files), 'file'):>9}  {escape(snap.subject)}")
        return
    outcome = actions.restore(fleet, name, snapshot, force=force)
    out.print(escape(outcome.message))
    for path in outcome.details:
        out.print(f"  {escape(path)}")


@cli.command()
@fleet_options
@name_argument
@click.pass_context
def snapshot(ctx: click.Context, directory: Path | None, fleet_file: Path | None, name: str | None) -> None:
    """Save an agent's uncommitted work in a snapshot now (its files and index are untouched)."""
    fleet = _fleet(ctx, directory, fleet_file)
    name = agent_name(fleet, name)
    problem = fleet.worktree_problem(name)
    if problem:
        raise ActionRefused(f"no snapshot of {name}: {problem}")
    snap = fleet.snapshot_work(name, "asked by the person")
    if snap is None:
        out.print(f"{name}: nothing uncommitted (or unchanged since the newest snapshot): no snapshot taken")
    else:
        out.print(f"{name}: saved {plural(len(snap.files), 'file')} as snapshot {snap.name} ({snap.ref})")


@cli.command("log")
@fleet_options
@click.argument("name", required=False)
@click.option("-n", "--limit", default=50, show_default=True, help="How many events (0: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def log_command(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    name: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The fleet's event log (every action and status change), newest first."""
    fleet = _fleet(ctx, directory, fleet_file, writes=False)
    if name is not None:
        agent_name(fleet, name)
    log = EventLog(fleet.layout)
    found = actions.events(fleet, name, log)
    warning = log.warning()
    if warning:
        err.print(f"fleet-tui: warning: {warning}", markup=False)
    if limit > 0:
        found = found[:limit]
    if not found:
        out.print("no events yet")
        return
    for event in found:
        if as_json:
            click.echo(event.model_dump_json())
            continue
        when = format_time(event.time)
        agent = event.agent or "(fleet)"
        details = format_details(event.details)
        out.print(f"{when}  {escape(agent):<14} {escape(event.event):<16} {escape(details)}")


@cli.command()
@fleet_options
@name_argument
@click.option("--note", default="", help="A note for the agent, if it is handed the conflict.")
@click.option("--grace", default=actions.DEFAULT_GRACE, show_default=True, help="Seconds before SIGKILL.")
@click.pass_context
def sync(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    name: str | None,
    note: str,
    grace: float,
) -> None:
    """Bring base's new commits into fleet/NAME: merged in its worktree when that is clean; when it
    conflicts, the worktree is left as it is and the agent is restarted with a handoff naming the
    conflicting files, asking it to merge base itself. Never a rebase."""
    from fleet_tui.engine import pipeline

    fleet = _fleet(ctx, directory, fleet_file)
    name = agent_name(fleet, name)
    out.print(escape(pipeline.sync(fleet, name, grace=grace, note=note)))


@cli.command("pipeline")
@fleet_options
@click.option("--for", "for_seconds", type=click.FloatRange(min=0), help="Stop after this many seconds.")
@click.pass_context
def pipeline_command(
    ctx: click.Context, directory: Path | None, fleet_file: Path | None, for_seconds: float | None
) -> None:
    """Run the pipeline without a dashboard: gates, reviewers, retries and the task queue, printing
    what it does, until Ctrl-C (or --for SECONDS). The dashboard runs the same pipeline while open."""
    from fleet_tui.engine import pipeline

    fleet = _fleet(ctx, directory, fleet_file)
    out.print(f"running the pipeline of {fleet.name!r} (Ctrl-C stops it; the agents keep running)")
    try:
        pipeline.run_for(fleet, for_seconds, notify=lambda line: out.print(escape(line)))
    except KeyboardInterrupt:
        out.print("stopped")
