"""Shared fixtures: a hermetic environment, real git repositories, real tmux on its own socket."""

from __future__ import annotations

import gc
import os
import secrets
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from fleet_tui.adapters import processes
from fleet_tui.engine import supervisor
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.launcher import AGENT_MARKER, agent_id
from fleet_tui.engine.state import Layout

REPO_FILES = {
    "README.md": "# sample\n",
    "src/app.py": "def main():\n    return 1\n",
    "src/util.py": "def helper(x):\n    return x + 1\n",
    "src/pkg/deep.py": "VALUE = 3\n",
    "docs/guide.md": "# Guide\n\nSome words.\n",
    "tests/test_app.py": "from src.app import main\n\n\ndef test_main():\n    assert main() == 1\n",
}


@pytest.fixture(autouse=True, scope="session")
def _hermetic_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No developer config leaks in: git identity, HOME and SHELL are the test's own."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Fleet Test\n\temail = fleet-test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        encoding="utf-8",
    )
    saved = dict(os.environ)
    os.environ.update(
        {
            "HOME": str(home),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "SHELL": "/bin/sh",
            "LC_ALL": "C.UTF-8",
            "FLEET_TUI_SETTINGS": str(home / "fleet-tui-settings.toml"),  # never the developer's own
        }
    )
    for var in ("TMUX", "TMUX_PANE", "GIT_DIR", "GIT_WORK_TREE"):
        os.environ.pop(var, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _no_supervisor_left(tmp_path: Path) -> Iterator[None]:
    """A supervisor that a test's `fleet-tui up` started in the background ends with the test."""
    yield
    for state_dir in [*tmp_path.glob("*/.fleet"), *tmp_path.glob("*/*/.fleet")]:
        supervisor.stop(Layout(root=state_dir.parent, worktree_root=state_dir.parent), timeout=5.0)
    # However deep the fleet sat (or if its .fleet/ was corrupted on purpose): no supervisor of a
    # folder under this test's tmp_path outlives the test.
    leftovers = {pid for pid in processes.with_argv("fleet_tui", "supervise") if _runs_under(pid, tmp_path)}
    processes.stop_pids(leftovers, 2.0)


def _runs_under(pid: int, folder: Path) -> bool:
    try:
        argv = psutil.Process(pid).cmdline()
    except psutil.Error:
        return False
    roots = [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == "-C"]
    return any(Path(root).resolve().is_relative_to(folder.resolve()) for root in roots)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository on `main` with a few committed files."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_files(root, dict(REPO_FILES))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def fake_agent_command(script: Path, *, restart: bool = False) -> str:
    command = f"fleet-fake-agent --script {shlex.quote(str(script))} --prompt-file {{prompt_file}}"
    return command + " --handoff-file {handoff_file}" if restart else command


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


MakeFleet = Callable[..., Fleet]


@pytest.fixture
def make_fleet(repo: Path, tmp_path: Path, server: Any) -> Iterator[MakeFleet]:
    """Write a fleet file of fake agents (outside the repo) and open it on a test tmux socket.

    Each agent is a dict of fleet.toml keys plus `script`: the fake agent's script text, and
    optionally `table`: "task" to declare it as a [[task]] instead of an [[agent]].
    Agents without `task` get one; without `scope`, `src/**`. `preamble` is TOML placed before
    everything else (e.g. `[preset.x]` tables).
    """

    def make(agents: list[dict[str, Any]], preamble: str = "", **settings: Any) -> Fleet:
        scripts = tmp_path / "scripts"
        scripts.mkdir(exist_ok=True)
        lines = [preamble, "[fleet]", f"socket = {toml_value(server.socket_name)}"]
        lines += [f"{k} = {toml_value(v)}" for k, v in settings.items()]
        for spec in agents:
            spec = dict(spec)
            script = spec.pop("script", "idle")
            path = scripts / f"{spec['name']}.txt"
            path.write_text(script, encoding="utf-8")
            spec.setdefault("task", f"task of {spec['name']}")
            spec.setdefault("scope", ["src/**"])
            spec.setdefault("command", fake_agent_command(path))
            spec.setdefault("restart_command", fake_agent_command(path, restart=True))
            lines.append(f"\n[[{spec.pop('table', 'agent')}]]")
            # None: leave the key out (e.g. `command: None` keeps the preset's own command)
            lines += [f"{k} = {toml_value(v)}" for k, v in spec.items() if v is not None]
        fleet_file = tmp_path / "fleet.toml"
        fleet_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        fleet = Fleet.open(repo, fleet_file)
        made.append(fleet)
        return fleet

    made: list[Fleet] = []
    yield make
    # No test leaves a supervisor or an agent process behind, not even one that ignores SIGTERM.
    for fleet in made:
        supervisor.stop(fleet.layout, timeout=5.0)
    for fleet in made:
        for agent in fleet.agents:
            processes.stop_pids(processes.with_env(AGENT_MARKER, agent_id(fleet.layout, agent.name)), 0.5)
    _no_control_client_left(server.socket_name)


def _control_clients(socket: str) -> list[int]:
    """This process's tmux control clients on the socket (a supervisor's or a dashboard's, in a
    process of their own, end with it: other fixtures stop those)."""
    out = subprocess.run(
        ["tmux", "-L", socket, "list-clients", "-F", "#{client_control_mode} #{client_pid}"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return [pid for line in out.splitlines() if line.startswith("1 ") and _mine(pid := int(line.split()[1]))]


def _mine(pid: int) -> bool:
    try:
        return psutil.Process(pid).ppid() == os.getpid()
    except psutil.Error:
        return False


def _no_control_client_left(socket: str) -> None:
    """No pane reader's tmux control client (adapters/tmux/control.py) that this test process
    started outlives the test: a monitor ends it on close, one dropped unclosed when collected."""
    if not _control_clients(socket):
        return
    gc.collect()  # monitors a test dropped without closing: their finalizers end the clients
    deadline = time.monotonic() + 5.0
    while (left := _control_clients(socket)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"tmux control clients (pids {left}) outlived the test: close the Monitor/PaneReader"


@pytest.fixture
def person_tmux() -> Iterator[str]:
    """A person's own terminal: a tmux server of its own (its pane may attach to the fleet, or run
    the dashboard with $TMUX set), killed after the test."""
    socket = f"person-{secrets.token_hex(4)}"
    yield socket
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
