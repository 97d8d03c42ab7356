"""Installing the agents' signals at launch: files in .fleet/ only, handed over on the command line,
and the hook commands written there really append to the signals file."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

from conftest import git

from fleet_tui.engine.hooks import claude_settings_file, signals_file, uses_signals
from fleet_tui.engine.launcher import write_launcher
from fleet_tui.signals import read_signals, read_statusline


def write_fleet(tmp_path: Path, repo: Path, body: str) -> Any:
    from fleet_tui.engine.fleet import Fleet

    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text(body, encoding="utf-8")
    return Fleet.open(repo, fleet_file)


CLAUDE_FLEET = """
[fleet]
socket = "unused-in-this-test"
{preamble}
[[agent]]
name = "c"
preset = "claude"
task = "do it"
scope = ["src/**"]

[[agent]]
name = "x"
preset = "codex"
task = "do it"
scope = ["src/**"]
"""


def test_claude_gets_a_settings_file_in_fleet_and_nothing_else(tmp_path: Path, repo: Path) -> None:
    fleet = write_fleet(tmp_path, repo, CLAUDE_FLEET.format(preamble=""))
    agent = fleet.spec.agent("c")
    assert uses_signals(agent)
    launcher = write_launcher(agent, fleet.layout, 1).read_text()
    settings_path = claude_settings_file(fleet.layout, "c")
    assert f"claude --settings {shlex.quote(str(settings_path))} " in launcher
    assert f"export FLEET_SIGNALS_FILE={shlex.quote(str(signals_file(fleet.layout, 'c')))}" in launcher
    settings = json.loads(settings_path.read_text())
    assert {"PreToolUse", "Notification", "Stop", "StopFailure", "UserPromptSubmit"} <= set(settings["hooks"])
    assert "statusLine" in settings
    # nothing outside .fleet/ (which `up` excludes from git): no file in a worktree's diff, and
    # nothing in the person's own ~/.claude
    changed = git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert changed and all(line.startswith("?? .fleet/agents/c/") for line in changed)
    assert not (Path.home() / ".claude").exists()

    # The commands in the file really write: run them as Claude would (through a shell, JSON on stdin).
    hook_cmd = settings["hooks"]["Notification"][0]["hooks"][0]["command"]
    payload = {"hook_event_name": "Notification", "notification_type": "permission_prompt", "message": "m"}
    subprocess.run(["sh", "-c", hook_cmd], input=json.dumps(payload), text=True, check=True)
    [signal] = read_signals(signals_file(fleet.layout, "c"))
    assert (signal.event, signal.kind) == ("Notification", "permission_prompt")
    status_cmd = settings["statusLine"]["command"]
    shown = subprocess.run(
        ["sh", "-c", status_cmd],
        input=json.dumps({"context_window": {"used_percentage": 12}, "cost": {"total_cost_usd": 0.5}}),
        text=True,
        check=True,
        capture_output=True,
    ).stdout
    assert "context 12%" in shown
    reading = read_statusline(fleet.layout.agent_dir("c") / "statusline.json")
    assert reading is not None and (reading.used, reading.cost_usd) == (12.0, 0.5)

    # a new run starts a new signals file (the last one is kept beside it)
    write_launcher(agent, fleet.layout, 2, restart=True)
    assert not signals_file(fleet.layout, "c").exists()
    assert (fleet.layout.agent_dir("c") / "signals.prev.jsonl").exists()


def test_codex_gets_notify_on_its_command_line(tmp_path: Path, repo: Path) -> None:
    fleet = write_fleet(tmp_path, repo, CLAUDE_FLEET.format(preamble=""))
    launcher = write_launcher(fleet.spec.agent("x"), fleet.layout, 1).read_text()
    line = next(ln for ln in launcher.splitlines() if ln.startswith("codex "))
    argv = shlex.split(line)
    notify = argv[argv.index("-c") + 1]
    assert notify.startswith("notify=")
    command = json.loads(notify.removeprefix("notify="))  # a JSON array is a TOML array
    subprocess.run([*command, json.dumps({"type": "agent-turn-complete"})], check=True)
    assert read_signals(signals_file(fleet.layout, "x"))[0].event == "agent-turn-complete"


def test_signals_can_be_turned_off(tmp_path: Path, repo: Path) -> None:
    fleet = write_fleet(tmp_path, repo, CLAUDE_FLEET.format(preamble="[preset.claude]\nsignals = []\n"))
    agent = fleet.spec.agent("c")
    assert not uses_signals(agent)
    launcher = write_launcher(agent, fleet.layout, 1).read_text()
    assert "--settings" not in launcher and 'claude  "$(cat' in launcher
    assert not claude_settings_file(fleet.layout, "c").exists()


def test_an_own_command_without_the_placeholder_has_no_signals(tmp_path: Path, repo: Path) -> None:
    body = CLAUDE_FLEET.format(preamble="").replace(
        'preset = "claude"', 'preset = "claude"\ncommand = "claude \\"$(cat {prompt_file})\\""'
    )
    fleet = write_fleet(tmp_path, repo, body)
    assert not uses_signals(fleet.spec.agent("c"))


def test_only_a_run_started_with_hooks_counts_as_hooked(tmp_path: Path, repo: Path) -> None:
    from fleet_tui.engine.agent_signals import AgentSignals

    fleet = write_fleet(tmp_path, repo, CLAUDE_FLEET.format(preamble=""))
    agent = fleet.spec.agent("c")
    watch = AgentSignals(agent, fleet.layout, hold=1.0)
    watch.poll()
    assert watch.hooked is False  # not started yet
    launcher = fleet.layout.launcher("c")
    launcher.parent.mkdir(parents=True, exist_ok=True)
    launcher.write_text('#!/bin/sh\nclaude "$(cat prompt.md)"\n')  # started by an older fleet-tui
    watch.poll()
    assert watch.hooked is False
    write_launcher(agent, fleet.layout, 2)
    before = watch.poll()
    assert watch.hooked is True
    assert watch.poll() == before  # nothing new: the same version
