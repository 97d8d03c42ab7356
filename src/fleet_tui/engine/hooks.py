"""Installing the agents' own signals: a Claude Code settings file, a Codex notify argument.

Everything is written into the agent's folder in `.fleet/` and handed to the agent on its command
line (the `{signals}` placeholder), so neither the person's own config (~/.claude, ~/.codex) nor the
agent's worktree (its diff) is touched, and turning signals off (`signals = []` in a preset
override) leaves nothing behind.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from fleet_tui import hook
from fleet_tui.engine.state import Layout, write_atomic
from fleet_tui.signals import SIGNALS_FILE, STATUSLINE_FILE
from fleet_tui.spec import Agent

# Claude Code hook events that tell a turn's state (SubagentStop is recorded but is not an end).
CLAUDE_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "Notification",
    "Stop",
    "StopFailure",
    "SubagentStop",
    "PreCompact",
    "SessionEnd",
)
# Events whose hooks take a matcher (tool names, or notification types): match everything.
CLAUDE_MATCHED = frozenset({"PreToolUse", "PostToolUse", "Notification", "PreCompact", "SessionStart"})


def signals_file(layout: Layout, name: str) -> Path:
    return layout.agent_dir(name) / SIGNALS_FILE


def statusline_file(layout: Layout, name: str) -> Path:
    return layout.agent_dir(name) / STATUSLINE_FILE


def claude_settings_file(layout: Layout, name: str) -> Path:
    return layout.agent_dir(name) / "claude-settings.json"


def hook_argv(mode: str, path: Path, source: str) -> list[str]:
    """The writer, started as a plain script: no site-packages, no fleet-tui import (~15 ms)."""
    return [sys.executable, "-S", "-E", str(Path(hook.__file__).resolve()), mode, str(path), source]


def uses_signals(agent: Agent, *, restart: bool = False) -> bool:
    """Whether this agent runs with fleet-tui's signals: its preset has some, and its command
    template says where they go (a fleet file's own `command` without {signals} has none)."""
    preset = agent.preset
    template = preset.restart_command if restart and preset.restart_command else preset.command
    return bool(agent.preset.signals) and "{signals}" in template


def claude_settings(layout: Layout, name: str, kinds: tuple[str, ...]) -> dict[str, object]:
    settings: dict[str, object] = {}
    if "claude-hooks" in kinds:
        command = shlex.join(hook_argv("event", signals_file(layout, name), "claude"))
        hooks: dict[str, list[dict[str, object]]] = {}
        for event in CLAUDE_EVENTS:
            entry: dict[str, object] = {"hooks": [{"type": "command", "command": command, "timeout": 10}]}
            if event in CLAUDE_MATCHED:
                entry["matcher"] = "*" if event.endswith("ToolUse") else ""
            hooks[event] = [entry]
        settings["hooks"] = hooks
    if "claude-statusline" in kinds:
        command = shlex.join(hook_argv("statusline", statusline_file(layout, name), "claude"))
        settings["statusLine"] = {"type": "command", "command": command, "padding": 0}
    return settings


def install_signals(agent: Agent, layout: Layout) -> str:
    """Write what the agent's signals need and return the text for its {signals} placeholder.

    Also moves the previous run's signals aside (`signals.jsonl` -> `signals.prev.jsonl`), so the
    file only ever holds this run's, and a reader sees a new file."""
    kinds = agent.preset.signals
    path = signals_file(layout, agent.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.replace(path.with_name("signals.prev.jsonl"))
    statusline_file(layout, agent.name).unlink(missing_ok=True)
    args: list[str] = []
    claude = tuple(k for k in kinds if k.startswith("claude-"))
    if claude:
        settings = claude_settings_file(layout, agent.name)
        write_atomic(settings, json.dumps(claude_settings(layout, agent.name, claude), indent=2) + "\n")
        args.append(f"--settings {shlex.quote(str(settings))}")
    if "codex-notify" in kinds:
        # `-c` takes a TOML value; a JSON array of strings is one.
        notify = json.dumps(hook_argv("event", path, "codex"))
        args.append(f"-c {shlex.quote('notify=' + notify)}")
    return " ".join(args)
