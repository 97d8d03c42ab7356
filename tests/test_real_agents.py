"""The real claude-code and codex CLIs in a fleet: their hooks / notify set the status.

Each test runs the real program (from npm: `.ci/run` installs it into .agent-clis/, or wherever
FLEET_AGENT_CLIS points; skipped when it is not installed) against scripts/fake_model_api.py on
127.0.0.1, in a real tmux pane through fleet-tui's own launcher and the settings fleet-tui writes.
The agent's HOME / CODEX_HOME are the test's own, with onboarding done and the worktree trusted,
as a person's would be.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import free_port, wait_for, wait_snapshot

from fleet_tui.engine import actions
from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.hooks import signals_file
from fleet_tui.engine.monitor import Monitor
from fleet_tui.models import AgentSnapshot, Status
from fleet_tui.signals import read_signals

ROOT = Path(__file__).resolve().parent.parent
CLI_BIN = Path(os.environ.get("FLEET_AGENT_CLIS", ROOT / ".agent-clis")) / "node_modules" / ".bin"
FAKE_KEY = "sk-ant-fake-0000000000000000"


def program(name: str) -> str | None:
    local = CLI_BIN / name
    return str(local) if local.exists() else shutil.which(name)


class FakeApi:
    def __init__(self, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def requests(self, endpoint: str) -> list[dict[str, Any]]:
        """Every request body sent to this endpoint so far (e.g. "/v1/messages")."""
        lines = Path(f"{self.log}.{endpoint.rsplit('/', 1)[-1]}.jsonl")
        if not lines.exists():
            return []
        return [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines() if line.strip()]

    def ctl(self, what: str, value: object) -> None:
        with urllib.request.urlopen(f"{self.url}/__{what}/{value}", timeout=5) as answer:
            assert answer.status == 200


@pytest.fixture
def fake_api(tmp_path: Path) -> Iterator[FakeApi]:
    port = free_port()
    script = ROOT / "scripts" / "fake_model_api.py"
    log = tmp_path / "fake-api.log"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", str(port), "--log", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = FakeApi(port, log)

    def up() -> bool:
        try:
            api.ctl("delay", 3)
            return True
        except OSError:
            return False

    try:
        wait_for(up, timeout=15, what="the fake model API")
        api.ctl("tool", "shell")
        yield api
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def on_path(monkeypatch: pytest.MonkeyPatch, binary: str) -> None:
    """The launcher passes the person's PATH on: put the CLI's folder on it."""
    monkeypatch.setenv("PATH", str(Path(binary).parent) + os.pathsep + os.environ["PATH"])


def agent(monitor: Monitor, what: str, predicate: Any, timeout: float = 60) -> AgentSnapshot:
    snap = wait_snapshot(monitor, lambda s: predicate(s.agents[0]), timeout=timeout, what=what)
    return snap.agents[0]


def preset_env(name: str, env: dict[str, str]) -> str:
    pairs = ", ".join(f"{k} = {json.dumps(v)}" for k, v in env.items())
    return f"[preset.{name}]\nenv = {{{pairs}}}\n"


CLAUDE = program("claude")


def claude_fleet(
    make_fleet: Any, tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> Fleet:
    """One agent `c` on the claude preset, talking to the fake API, with a home of its own whose
    config has onboarding done, the key approved and the worktree trusted (no dialog to answer)."""
    assert CLAUDE is not None
    on_path(monkeypatch, CLAUDE)
    home = tmp_path / "claude-home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_AUTH_TOKEN": FAKE_KEY,
        "ANTHROPIC_BASE_URL": fake_api.url,
    }
    spec = {"name": "c", "preset": "claude", "command": None, "restart_command": None}
    fleet: Fleet = make_fleet([spec], preamble=preset_env("claude", env), idle_after=30, status_hold=0.3)
    config = {
        "hasCompletedOnboarding": True,
        "theme": "dark",
        "customApiKeyResponses": {"approved": [FAKE_KEY[-20:]], "rejected": []},
        "projects": {str(fleet.layout.worktree("c")): {"hasTrustDialogAccepted": True}},
    }
    (home / ".claude.json").write_text(json.dumps(config), encoding="utf-8")
    return fleet


@pytest.mark.skipif(CLAUDE is None, reason="claude-code is not installed (npm i @anthropic-ai/claude-code)")
def test_claude_hooks_set_every_status(
    make_fleet: Any, server: Any, tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = claude_fleet(make_fleet, tmp_path, fake_api, monkeypatch)
    up(fleet)
    monitor = Monitor(fleet)
    try:
        working = agent(
            monitor, "working (hook)", lambda a: a.status == Status.WORKING and a.status_source == "hook"
        )
        assert working.status_reason.startswith(("hook UserPromptSubmit", "hook PreToolUse"))
        waiting = agent(
            monitor, "waiting (hook)", lambda a: a.status == Status.WAITING and a.status_source == "hook"
        )
        assert waiting.status_reason.startswith("hook Notification(permission_prompt)")
        pane = fleet.pane_id("c")
        assert pane
        server.cmd("send-keys", "-t", pane, "Enter")  # 1. Yes
        again = agent(
            monitor,
            "working again (hook)",
            lambda a: a.status == Status.WORKING and a.status_reason.startswith("hook PostToolUse"),
        )
        assert again.status_source == "hook"
        idle = agent(monitor, "idle (hook Stop)", lambda a: a.status == Status.IDLE)
        assert (idle.status_source, idle.status_reason) == ("hook", "hook Stop")
        assert (fleet.layout.worktree("c") / "hello.txt").read_text().strip() == "hello"
        costed = agent(monitor, "statusline reading", lambda a: a.cost_usd is not None)
        assert costed.context_source == "statusline" and costed.context_used is not None
        server.cmd("send-keys", "-t", pane, "C-c")
        time.sleep(0.5)  # claude: 'Press Ctrl-C again to exit'
        server.cmd("send-keys", "-t", pane, "C-c")
        ended = agent(monitor, "exited", lambda a: a.status == Status.EXITED)
        assert ended.status_source == "exit" and ended.exit_code == 0
        events = [s.event for s in read_signals(signals_file(fleet.layout, "c"))]
        assert events[0] == "SessionStart" and events[-1] == "SessionEnd"
        assert {"UserPromptSubmit", "PreToolUse", "Notification", "PostToolUse", "Stop"} <= set(events)
    finally:
        monitor.close()


CODEX = program("codex")
CODEX_CONFIG = """model = "gpt-5-codex"
model_provider = "fake"
approval_policy = "on-request"
sandbox_mode = "read-only"
check_for_update_on_startup = false

[model_providers.fake]
name = "fake"
base_url = "{url}/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"

[projects."{worktree}"]
trust_level = "trusted"

[analytics]
enabled = false
"""


@pytest.mark.skipif(CODEX is None, reason="codex is not installed (npm i @openai/codex)")
def test_codex_notify_ends_the_turn(
    make_fleet: Any, server: Any, tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CODEX is not None
    on_path(monkeypatch, CODEX)
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir()
    env = {"CODEX_HOME": str(codex_home), "OPENAI_API_KEY": "sk-fake-0000000000000000"}
    spec = {"name": "x", "preset": "codex", "command": None, "restart_command": None}
    fleet: Fleet = make_fleet([spec], preamble=preset_env("codex", env), idle_after=30, status_hold=0.3)
    worktree = fleet.layout.worktree("x")
    (codex_home / "config.toml").write_text(
        CODEX_CONFIG.format(url=fake_api.url, worktree=worktree), encoding="utf-8"
    )
    up(fleet)
    monitor = Monitor(fleet)
    try:
        waiting = agent(monitor, "the approval question", lambda a: a.status == Status.WAITING)
        assert "Would you like to run" in waiting.status_evidence or waiting.status_rule
        pane = fleet.pane_id("x")
        assert pane
        server.cmd("send-keys", "-t", pane, "y")
        idle = agent(
            monitor,
            "idle (notify)",
            lambda a: a.status == Status.IDLE and a.status_reason == "hook agent-turn-complete",
        )
        assert idle.status_source == "hook" and "Done." in idle.status_evidence
        assert (worktree / "hello.txt").read_text().strip() == "hello"
        events = [s.event for s in read_signals(signals_file(fleet.layout, "x"))]
        assert "agent-turn-complete" in events
        server.cmd("send-keys", "-t", pane, "C-c")
        ended = agent(monitor, "exited", lambda a: a.status in (Status.EXITED, Status.CRASHED))
        assert ended.status_source == "exit"
    finally:
        monitor.close()


@pytest.mark.skipif(CLAUDE is None, reason="claude-code is not installed (npm i @anthropic-ai/claude-code)")
def test_claude_reads_its_handoff_from_the_file_at_a_restart(
    make_fleet: Any, tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claude preset's restart hands the handoff over as a file, not as one argument: the
    model gets all of it (the log of the fake API holds the last request in full)."""
    fleet = claude_fleet(make_fleet, tmp_path, fake_api, monkeypatch)
    assert "--append-system-prompt-file {handoff_file}" in fleet.agent("c").preset.restart_command
    up(fleet)
    wait_for(lambda: fake_api.requests("/v1/messages"), timeout=60, what="claude's first request")
    note = "HANDOFF-NOTE-" + os.urandom(4).hex()
    actions.restart(fleet, "c", reason="test", force=True, note=note)

    def handed_over() -> bool:
        return any(note in json.dumps(body.get("system")) for body in fake_api.requests("/v1/messages"))

    wait_for(handed_over, timeout=60, what="the handoff in a request of the fresh claude")
