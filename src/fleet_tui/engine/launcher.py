"""Launcher scripts: how an agent process starts without its task ever touching a shell line.

The task reaches the agent through a file whose *path* is placed in the command template; the
launcher sets PATH and the preset's environment itself and records the exit code with the run
number, because tmux loses `pane_dead_status` after respawns.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from fleet_tui.engine.hooks import install_signals, signals_file, uses_signals
from fleet_tui.engine.state import Layout, write_atomic
from fleet_tui.presets import render_template
from fleet_tui.spec import Agent

AGENT_MARKER = "FLEET_ID"


def agent_id(layout: Layout, name: str) -> str:
    """The value of FLEET_ID in every process of this agent: unique per repository and agent."""
    return str(layout.agent_dir(name))


def agent_path() -> str:
    """PATH for agents: the person's PATH, with fleet-tui's own bin folder first."""
    here = str(Path(sys.executable).parent)
    parts = [here, *[p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != here]]
    return os.pathsep.join(parts)


def render_command(
    agent: Agent, layout: Layout, *, restart: bool, signals: str = "", resume: bool = False
) -> str:
    template = agent.preset.command
    if restart and agent.preset.restart_command:
        template = agent.preset.restart_command
    if resume and agent.preset.resume_command:
        template = agent.preset.resume_command
    values = {
        "prompt_file": shlex.quote(str(layout.prompt_file(agent.name))),
        "handoff_file": shlex.quote(str(layout.handoff_file(agent.name))),
        "worktree": shlex.quote(str(layout.worktree(agent.name))),
        "signals": signals,
    }
    return render_template(template, values)


def write_launcher(
    agent: Agent, layout: Layout, run: int, *, restart: bool = False, resume: bool = False
) -> Path:
    """Write the prompt file and the launcher for one run; returns the launcher's path."""
    write_atomic(layout.prompt_file(agent.name), agent.task)
    signals = install_signals(agent, layout) if uses_signals(agent, restart=restart) else ""
    env = {
        "PATH": agent_path(),
        **agent.preset.env,
        **agent.env,
        "FLEET_AGENT": agent.name,
        AGENT_MARKER: agent_id(layout, agent.name),
        "FLEET_RUN": str(run),
        "FLEET_PROMPT_FILE": str(layout.prompt_file(agent.name)),
        "FLEET_HANDOFF_FILE": str(layout.handoff_file(agent.name)),
        # Where any agent (or a wrapper around one) may append its own signal lines: see hook.py.
        "FLEET_SIGNALS_FILE": str(signals_file(layout, agent.name)),
    }
    exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())
    exit_file = layout.exit_file(agent.name)
    script = f"""#!/bin/sh
# Written by fleet-tui for agent {agent.name}, run {run}. Rewritten at every start.
{exports}
cd {shlex.quote(str(layout.worktree(agent.name)))} || exit 97
# Survive the interrupt meant for the agent, so its exit code is still recorded. Not HUP: when
# the terminal goes (the tmux session is lost) the launcher ends and the agent gets SIGHUP too.
trap : INT TERM
# A subshell, so a template that ends in `exec` still returns here to record its exit code.
(
{render_command(agent, layout, restart=restart, signals=signals, resume=resume)}
)
code=$?
printf '%s %s\\n' {run} "$code" > {shlex.quote(str(exit_file))}.tmp
mv -f {shlex.quote(str(exit_file))}.tmp {shlex.quote(str(exit_file))}
exit "$code"
"""
    path = layout.launcher(agent.name)
    write_atomic(path, script, mode=0o755)
    return path


def write_placeholder(agent: Agent, layout: Layout, message: str, exit_code: int | None = None) -> Path:
    """A pane that only says something: it stays open, or ends with `exit_code` when given."""
    end = f"exit {int(exit_code)}" if exit_code is not None else "exec tail -f /dev/null"
    script = f"""#!/bin/sh
printf '%s\\n' {shlex.quote("[fleet-tui] " + message)}
{end}
"""
    path = layout.agent_dir(agent.name) / "placeholder.sh"
    write_atomic(path, script, mode=0o755)
    return path


def write_queued(
    agent: Agent, layout: Layout, waiting_for: list[str], base: str, why: str | None = None
) -> Path:
    """A placeholder pane for an agent that waits: for its dependencies, a slot, or a doer's gates."""
    names = ", ".join(waiting_for)
    message = f"[fleet-tui] {agent.name} is queued: waiting for {names} to be merged into {base}."
    if why and not waiting_for:
        message = f"[fleet-tui] {agent.name} is queued: {why}."
    script = f"""#!/bin/sh
printf '%s\\n' {shlex.quote(message)}
exec tail -f /dev/null
"""
    path = layout.queued_script(agent.name)
    write_atomic(path, script, mode=0o755)
    return path
