"""Preset tools: list the presets, and explain the status a captured screen would get."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import TextIO

import click
from rich.markup import escape
from rich.table import Table

from fleet_tui.adapters import git
from fleet_tui.cli.common import cli, fleet_options, out
from fleet_tui.engine.launcher import agent_path
from fleet_tui.errors import FleetError
from fleet_tui.presets import BUILTIN_PRESETS, Preset
from fleet_tui.spec import FLEET_FILE, load_fleet
from fleet_tui.status import bottom_lines, classify
from fleet_tui.ui.format import STATUS_STYLE


def _presets(ctx: click.Context, directory: Path | None, fleet_file: Path | None) -> dict[str, Preset]:
    """Built-in presets, plus (or overridden by) the ones a fleet file defines: -f FILE, or else
    the fleet file of the repository around -C DIR (or here) when there is one."""
    parent = ctx.obj or {}
    fleet_file = fleet_file or parent.get("fleet_file")
    directory = directory or parent.get("directory")
    if fleet_file is None:
        try:
            root = git.repo_root((directory or Path.cwd()).resolve())
        except FleetError:
            root = None  # not in a repository: the built-in presets only
        if root is not None and (root / FLEET_FILE).is_file():
            fleet_file = root / FLEET_FILE
    elif directory is not None and not fleet_file.is_absolute():
        fleet_file = directory / fleet_file
    presets = dict(BUILTIN_PRESETS)
    if fleet_file is not None:
        spec = load_fleet(fleet_file)
        presets.update({a.preset_name: a.preset for a in spec.agents})
    return presets


@cli.command("presets")
@fleet_options
@click.pass_context
def list_presets(ctx: click.Context, directory: Path | None, fleet_file: Path | None) -> None:
    """List agent presets (the built-in ones and the fleet file's), their commands, and whether
    their program is installed."""
    table = Table(show_edge=False)
    for column in ("preset", "program", "installed", "command"):
        table.add_column(column)
    path = agent_path()
    for name, preset in sorted(_presets(ctx, directory, fleet_file).items()):
        installed = (
            "-"
            if not preset.program
            else ("yes" if shutil.which(preset.program, path=path) else "[red]no[/]")
        )
        table.add_row(name, preset.program or "-", installed, escape(preset.command))
    out.print(table)


@cli.command("explain-status")
@click.argument("screen", type=click.File("r", encoding="utf-8", errors="replace"), default="-")
@click.option(
    "-p", "--preset", "preset_name", default="shell", show_default=True, help="Preset whose patterns to use."
)
@fleet_options
@click.option("--exit-code", type=int, default=None, help="Treat the agent as ended with this exit code.")
@click.option(
    "--quiet-for",
    type=float,
    default=None,
    help="Seconds since the screen last changed (default: just changed).",
)
@click.pass_context
def explain_status(
    ctx: click.Context,
    screen: TextIO,
    preset_name: str,
    directory: Path | None,
    fleet_file: Path | None,
    exit_code: int | None,
    quiet_for: float | None,
) -> None:
    """Read a captured screen (a file, or - for standard input) and explain the status it gets.

    For writing or debugging a preset: shows the lines looked at, the rule that decided, and the
    matched text. Plain captures and captures with colour escapes (capture-pane -e) both work.
    """
    presets = _presets(ctx, directory, fleet_file)
    if preset_name not in presets:
        raise FleetError(f"unknown preset {preset_name!r}", f"known presets: {', '.join(sorted(presets))}")
    preset = presets[preset_name]
    if getattr(screen, "name", "") == "<stdin>" and sys.stdin.isatty():
        raise FleetError(
            "no screen given",
            "pass a file, or pipe one in: tmux capture-pane -p -e | fleet-tui explain-status -p claude",
        )
    text = screen.read()
    now = time.time()
    idle_after = 15.0
    verdict = classify(
        preset=preset,
        screen=text,
        exit_code=exit_code,
        dead=exit_code is not None,
        now=now,
        started_at=now - 3600,
        last_change=now - (quiet_for if quiet_for is not None else 0.0),
        idle_after=idle_after,
    )
    style = STATUS_STYLE.get(verdict.status, "")
    out.print(f"status:   [{style}]{verdict.status.value}[/]")
    out.print(f"reason:   {escape(verdict.reason)}")
    if verdict.rule:
        out.print(f"rule:     /{escape(verdict.rule)}/")
    if verdict.evidence:
        out.print(f"evidence: {escape(verdict.evidence)}")
    out.print(f"[dim]preset {preset_name}: looked at the last {preset.bottom_lines} non-empty lines:[/]")
    for line in bottom_lines(text, preset.bottom_lines):
        out.print(f"[dim]  │[/] {escape(line)}")
