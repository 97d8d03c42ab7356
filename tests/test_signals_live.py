"""Hooks setting the status, live: the fake agent fires the hooks of the settings file fleet-tui
wrote for it (as Claude Code does), in a real tmux pane, read by the real Monitor.

The preset has no screen patterns at all, so whatever the status is, the signals set it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_snapshot

from fleet_tui import status as status_rules
from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.hooks import signals_file
from fleet_tui.engine.monitor import Monitor
from fleet_tui.models import AgentSnapshot, Status
from fleet_tui.signals import read_signals

PRESET = """
[preset.hooked]
description = "the fake agent with Claude-style hooks"
command = '{command}'
signals = ["claude-hooks"]
bottom_lines = 4
"""


def hooked_fleet(make_fleet: Any, tmp_path: Path, script: str, command: str | None = None) -> Fleet:
    path = tmp_path / "hooked-script.txt"
    path.write_text(script, encoding="utf-8")
    if command is None:
        command = (
            f"fleet-fake-agent {{signals}} --script {shlex.quote(str(path))} --prompt-file {{prompt_file}}"
        )
    preamble = PRESET.format(command=command)
    return make_fleet(
        [{"name": "h", "preset": "hooked", "command": None}],
        preamble=preamble,
        idle_after=60,
        status_hold=0.3,
    )


def wait_agent(monitor: Monitor, what: str, predicate: Any, timeout: float = 30) -> AgentSnapshot:
    snap = wait_snapshot(monitor, lambda s: predicate(s.agent("h")), timeout=timeout, what=what)
    found = snap.agent("h")
    assert found is not None
    return found


def test_hooks_set_working_waiting_working_idle_exited(make_fleet: Any, server: Any, tmp_path: Path) -> None:
    cue = tmp_path / "cues"
    cue.mkdir()
    script = "\n".join(
        [
            f"wait-file {cue / 'go0'}",
            "write src/a.py 'A = 1'",
            f"wait-file {cue / 'go1'}",
            'ask "Run the tests?"',
            "write src/b.py 'B = 2'",
            f"wait-file {cue / 'go2'}",
            "idle",
        ]
    )
    fleet = hooked_fleet(make_fleet, tmp_path, script)
    up(fleet)
    monitor = Monitor(fleet)
    try:
        working = wait_agent(monitor, "working", lambda a: a.status == Status.WORKING)
        assert working.status_source == "hook" and working.status_reason == "hook UserPromptSubmit"
        assert working.status_signal_at is not None

        (cue / "go0").touch()
        (cue / "go1").touch()
        waiting = wait_agent(monitor, "waiting", lambda a: a.status == Status.WAITING)
        assert waiting.status_source == "hook"
        assert waiting.status_reason == "hook Notification(permission_prompt)"
        assert waiting.status_evidence == "Fake needs your permission"

        pane = fleet.pane_id("h")
        assert pane
        server.cmd("send-keys", "-t", pane, "y", "Enter")
        again = wait_agent(monitor, "working again", lambda a: a.status == Status.WORKING)
        assert again.status_source == "hook" and again.status_reason.startswith("hook P")  # Pre/PostToolUse

        (cue / "go2").touch()
        idle = wait_agent(monitor, "idle", lambda a: a.status == Status.IDLE)
        assert (idle.status_source, idle.status_reason) == ("hook", "hook Stop")

        server.cmd("send-keys", "-t", pane, "C-c", "")
        ended = wait_agent(monitor, "ended", lambda a: a.status in (Status.EXITED, Status.CRASHED))
        assert ended.status_source == "exit"
        events = [s.event for s in read_signals(signals_file(fleet.layout, "h"))]
        assert events[:2] == ["SessionStart", "UserPromptSubmit"]
        assert "Notification" in events and events.count("Stop") >= 1
    finally:
        monitor.close()


def test_a_hooked_agent_whose_hooks_never_fire_is_unknown(
    make_fleet: Any, server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_rules, "NO_SIGNALS_GRACE", 1.0)
    script = tmp_path / "quiet.txt"
    script.write_text("say 'working on it'\nidle\n", encoding="utf-8")
    # The {signals} placeholder is there (so hooks were meant to be installed), but in a comment:
    # the agent never sees its settings file, like hooks that vanished from a settings file.
    command = f"fleet-fake-agent --script {shlex.quote(str(script))} # {{signals}}"
    fleet = hooked_fleet(make_fleet, tmp_path, "idle", command=command)
    up(fleet)
    monitor = Monitor(fleet)
    try:
        unknown = wait_agent(monitor, "unknown", lambda a: a.status == Status.UNKNOWN)
        assert "no signals from its hooks" in unknown.status_reason
        assert "screen says" in unknown.status_reason
    finally:
        monitor.close()
