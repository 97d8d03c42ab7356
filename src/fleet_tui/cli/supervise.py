"""The supervisor from a shell: `supervise` (what `up` starts in the background) and `watch`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from fleet_tui.cli.common import cli, err, fleet_from, fleet_options, open_fleet, out
from fleet_tui.engine import supervisor
from fleet_tui.errors import FleetError
from fleet_tui.models import AgentSnapshot, FleetSnapshot

WATCH_POLL = 0.2  # seconds between looks at .fleet/snapshot.json (one stat each)
RESTART_EVERY = 5.0


@cli.command(hidden=True)
@fleet_options
@click.pass_context
def supervise(ctx: click.Context, directory: Path | None, fleet_file: Path | None) -> None:
    """Run the fleet's supervisor in the foreground (`up` starts it in the background)."""
    fleet = fleet_from(ctx, directory, fleet_file)
    path = fleet.spec.path
    supervisor.serve(fleet, reopen=lambda: open_fleet(fleet.root, path))


def agent_line(snapshot: FleetSnapshot, agent: AgentSnapshot) -> dict[str, Any]:
    """One agent as `watch --json` prints it: what a script acts on, without screens."""
    return {
        "type": "agent",
        "fleet": snapshot.fleet,
        "agent": agent.name,
        "status": agent.status.value,
        "reason": agent.status_reason,
        "since": agent.status_since,
        "exit_code": agent.exit_code,
        "restarts": agent.restarts,
        "needs_human": agent.needs_human,
        "files": len(agent.files),
        "commits_ahead": agent.commits_ahead,
        "drift": list(agent.drift),
        "overlap_with": sorted({o for names in agent.overlap.values() for o in names}),
        "error": agent.git_error,
    }


def _emit(as_json: bool, line: dict[str, Any], before: dict[str, Any] | None) -> None:
    if as_json:
        click.echo(json.dumps(line), nl=True)
        return
    when = time.strftime("%H:%M:%S", time.localtime(line.get("time") or time.time()))
    if line["type"] == "fleet":
        state = "up" if line["session_alive"] else f"DOWN ({line.get('down_reason') or 'no session'})"
        out.print(
            f"{when}  fleet {line['fleet']}: session {state}, supervisor {line['supervisor']}", markup=False
        )
        return
    was = f"{before['status']} -> " if before and before["status"] != line["status"] else ""
    extra = f"  drift: {', '.join(line['drift'])}" if line["drift"] else ""
    out.print(f"{when}  {line['agent']:<14} {was}{line['status']}: {line['reason']}{extra}", markup=False)


@cli.command()
@fleet_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (NDJSON), for scripts.")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Stop after this many lines.")
@click.pass_context
def watch(
    ctx: click.Context, directory: Path | None, fleet_file: Path | None, as_json: bool, count: int | None
) -> None:
    """Stream changes of the fleet as they happen: every agent once, then each change.

    Reads what the supervisor publishes (and starts it when it is not running); Ctrl-C ends it.
    """
    fleet = fleet_from(ctx, directory, fleet_file)
    reader = supervisor.SnapshotReader(fleet.layout)
    agents: dict[str, dict[str, Any]] = {}
    fleet_line: dict[str, Any] | None = None
    printed = 0
    tried = 0.0
    try:
        while count is None or printed < count:
            state = supervisor.status(fleet.layout)
            if not state.running and time.monotonic() - tried > RESTART_EVERY:
                tried = time.monotonic()
                try:
                    supervisor.start(fleet)
                except FleetError as exc:
                    err.print(f"fleet-tui: {exc.message}", markup=False)
            snapshot, _new = reader.read()
            lines: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
            if snapshot is not None:
                now_fleet = {
                    "type": "fleet",
                    "fleet": snapshot.fleet,
                    "session_alive": snapshot.session_alive,
                    "down_reason": snapshot.down_reason,
                    "supervisor": "running" if state.fresh() else "not running",
                }
                if now_fleet != fleet_line:
                    lines.append(({**now_fleet, "time": time.time()}, fleet_line))
                    fleet_line = now_fleet
                for agent in snapshot.agents:
                    line = agent_line(snapshot, agent)
                    if line != agents.get(agent.name):
                        lines.append(({**line, "time": snapshot.taken_at}, agents.get(agent.name)))
                        agents[agent.name] = line
            for line, before in lines:
                if count is not None and printed >= count:
                    break
                _emit(as_json, line, before)
                printed += 1
            time.sleep(WATCH_POLL)
    except KeyboardInterrupt:
        return
