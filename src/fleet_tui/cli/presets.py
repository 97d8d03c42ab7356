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

from fleet_tui import hook
from fleet_tui.adapters import git
from fleet_tui.cli.common import cli, fleet_options, out
from fleet_tui.engine.launcher import agent_path
from fleet_tui.errors import FleetError
from fleet_tui.presets import BUILTIN_PRESETS, Preset
from fleet_tui.signals import HookState, Signal, fold, read_signals
from fleet_tui.spec import FLEET_FILE, load_fleet
from fleet_tui.status import bottom_lines, classify
from fleet_tui.ui.format import STATUS_STYLE, duration

SHOWN_SIGNALS = 8


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
@click.option(
    "--signals",
    "signals_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The agent's signals file (.fleet/agents/NAME/signals.jsonl): weigh its hooks too.",
)
@click.option(
    "--at",
    "at",
    type=float,
    default=None,
    help="Judge as of this moment (Unix time; default: now). For replaying a recorded signals file.",
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
    signals_path: Path | None,
    at: float | None,
) -> None:
    """Read a captured screen (a file, or - for standard input) and explain the status it gets.

    For writing or debugging a preset: shows the lines looked at, the rule that decided, and the
    matched text. Plain captures and captures with colour escapes (capture-pane -e) both work.
    With --signals, the agent's own hook signals are weighed against the screen as the monitor
    does, and the signals that decided (or were set aside as stale) are listed.
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
    now = at if at is not None else time.time()
    idle_after = 15.0
    signals = read_signals(signals_path) if signals_path is not None else []
    started_at = min([now - 3600, *(s.t for s in signals)])
    hooks = fold(signals) if signals_path is not None else None
    verdict = classify(
        preset=preset,
        screen=text,
        exit_code=exit_code,
        dead=exit_code is not None,
        now=now,
        started_at=started_at,
        last_change=now - (quiet_for if quiet_for is not None else 0.0),
        idle_after=idle_after,
        hooks=hooks,
        hooked=signals_path is not None,
    )
    style = STATUS_STYLE.get(verdict.status, "")
    out.print(f"status:   [{style}]{verdict.status.value}[/]")
    out.print(f"reason:   {escape(verdict.reason)}")
    if verdict.rule:
        out.print(f"rule:     /{escape(verdict.rule)}/")
    if verdict.evidence:
        out.print(f"evidence: {escape(verdict.evidence)}")
    if verdict.source:
        out.print(f"decided:  by the {verdict.source}")
    if signals_path is not None:
        _explain_signals(signals, hooks, now)
    out.print(f"[dim]preset {preset_name}: looked at the last {preset.bottom_lines} non-empty lines:[/]")
    for line in bottom_lines(text, preset.bottom_lines):
        out.print(f"[dim]  │[/] {escape(line)}")


def _explain_signals(signals: list[Signal], hooks: HookState | None, now: float) -> None:
    if hooks is None:
        out.print("[dim]signals: none in the file (a hooked agent that sends none is shown as unknown)[/]")
        return
    setter = hooks.signal
    said = (
        f"{setter.label} {duration(now - setter.t)} ago says {hooks.status.value}"
        if setter is not None and hooks.status is not None
        else "none of them sets a status"
    )
    out.print(f"signals:  {hooks.count} in the file; the latest that counts: {escape(said)}")
    for note in hooks.stale:
        out.print(f"[dim]  set aside: {escape(note)}[/]")
    for signal in signals[-SHOWN_SIGNALS:]:
        mark = "▶" if signal is setter else "│"
        message = f"  {signal.message}" if signal.message else ""
        out.print(f"[dim]  {mark}[/] {duration(now - signal.t):>6} ago  {escape(signal.label + message)}")


@cli.command("hook", context_settings={"ignore_unknown_options": True})
@click.argument("mode", type=click.Choice(["event", "statusline"]))
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("source")
@click.argument("payload", required=False)
def hook_command(mode: str, path: Path, source: str, payload: str | None) -> None:
    """Record one agent event (JSON on standard input, or as the last argument) in a signals file.

    For agents and wrappers fleet-tui has no preset for: `fleet-tui hook event
    "$FLEET_SIGNALS_FILE" mytool '{"event": "Stop"}'`. The hooks fleet-tui installs itself call
    the same writer as a plain script instead (python -S fleet_tui/hook.py: ~15 ms an event, where
    this command takes ~250 ms to start), so an agent is never slowed down by it."""
    hook.main([mode, str(path), source, *([payload] if payload is not None else [])])
