"""Are the agents' programs installed? The program a command template starts with, looked up on
the agents' PATH; and what a restart runs for an agent with its own command."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterable

from fleet_tui.engine.launcher import agent_path
from fleet_tui.spec import Agent

# Words a command line may start with that are not programs to look for.
SHELL_WORDS = frozenset(
    [
        "cat",
        "cd",
        "echo",
        "env",
        "exec",
        "exit",
        "export",
        "if",
        "for",
        "while",
        "case",
        "printf",
        "read",
        "set",
        "test",
        "true",
        "false",
        "time",
        "command",
        "builtin",
        "eval",
        "source",
        ".",
        "[",
        "{",
    ]
)


def command_program(template: str) -> str | None:
    """The program a command template starts with, when it is a plain word we can look up."""
    try:
        words = shlex.split(template)
    except ValueError:
        return None
    if not words or any(c in words[0] for c in "$`=(){};|&<>"):
        return None
    first = words[0]
    return None if first in SHELL_WORDS else first


def missing_programs(agents: Iterable[Agent]) -> list[str]:
    """Agents whose program is not installed, each as "'name' (preset 'x') needs 'prog'"."""
    path = agent_path()
    missing = []
    for agent in agents:
        needs = {agent.preset.program: f"preset {agent.preset_name!r}"}
        needs.setdefault(command_program(agent.preset.command), "its command")
        for program, where in needs.items():
            if program and shutil.which(program, path=path) is None:
                missing.append(f"{agent.name!r} ({where}) needs {program!r}")
    return missing


def restart_warnings(agents: Iterable[Agent]) -> list[str]:
    """Agents with their own `command` but no `restart_command`: say what a restart will run."""
    found = []
    for agent in agents:
        if not agent.restart_defaulted:
            continue
        if "{handoff_file}" in (agent.preset.restart_command or ""):
            how = "runs the same command with the handoff as its prompt file"
        else:
            how = "runs the same command again, without the handoff (the command has no {prompt_file})"
        found.append(f"{agent.name}: a custom `command` and no `restart_command`: a restart {how}")
    return found
