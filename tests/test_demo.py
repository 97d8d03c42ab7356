"""`fleet-tui demo`: the README's headless demo path, the demo's promises, and --clean's safety."""

from __future__ import annotations

import codecs
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libtmux
import psutil
import pytest
from helpers import wait_for

from fleet_tui import demo
from fleet_tui.cli.core import snapshot_json
from fleet_tui.engine import actions, pipeline, supervisor
from fleet_tui.engine.fleet import Fleet
from fleet_tui.fake_agent import steps_for
from fleet_tui.spec import parse_fleet

FLEET_TUI = str(Path(sys.executable).parent / "fleet-tui")


def cli(*args: str, socket: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLEET_TUI, *args, "--socket", socket],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def demo_socket() -> Iterator[str]:
    """A demo socket of this test's own; its tmux server is stopped afterwards."""
    name = f"fleet-tui-demo-test-{secrets.token_hex(3)}"
    yield name
    server = libtmux.Server(socket_name=name)
    if server.is_alive():
        server.kill()


# -- the data: scripts, project, fleet file ------------------------------------------------------


def test_scripts_carry_every_file_verbatim() -> None:
    """The fake agent reads back exactly the text the demo data holds (quotes, unicode, escapes)."""
    for agent in demo.AGENTS:
        script = demo.render_script(agent.steps)
        for restarted in (False, True):
            writes = {}
            for line in steps_for(script, restarted):
                verb, _, rest = line.partition(" ")
                if verb == "write":
                    path, text = shlex.split(rest)
                    writes[path] = codecs.decode(text, "unicode_escape")
            cut = agent.steps.index(demo.RESTART)
            part = agent.steps[cut + 1 :] if restarted else agent.steps[:cut]
            expected = {s[1]: s[2] for s in part if s[0] == "write"}
            assert writes == expected, agent.name
        assert "show-handoff" in script.split(demo.RESTART[0])[1], agent.name


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    for rel, text in {**demo.PROJECT, **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("name", [a.name for a in demo.AGENTS])
def test_every_agents_work_passes_the_projects_tests(tmp_path: Path, name: str) -> None:
    """What the verify command runs: the project's tests on the agent's files must pass."""
    agent = demo.agent(name)
    after_restart = agent.steps[agent.steps.index(demo.RESTART) + 1 :]
    files = {**demo.final_files(agent), **{s[1]: s[2] for s in after_restart if s[0] == "write"}}
    root = _project(tmp_path, files)
    done = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Ran " in done.stderr


def test_report_and_pricing_really_conflict(tmp_path: Path) -> None:
    root = _project(tmp_path, {})

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    for name in ("report", "pricing"):
        git("checkout", "-q", "-b", name, "main")
        for rel, text in demo.final_files(demo.agent(name)).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        git("add", "-A")
        git("commit", "-q", "-m", name)
    git("checkout", "-q", "report")
    assert git("merge", "--no-edit", "pricing").returncode != 0
    assert git("diff", "--name-only", "--diff-filter=U").stdout.split() == ["inventory/report.py"]


def test_fleet_file_is_valid_and_keeps_scripts_outside_the_repo(tmp_path: Path) -> None:
    scripts = tmp_path / "agents"
    spec = parse_fleet(demo.fleet_toml("demo", "fleet-tui-demo", scripts, 2.0), "fleet.toml", tmp_path)
    assert spec.settings.socket == "fleet-tui-demo"
    assert [a.name for a in spec.doers] == [a.name for a in demo.AGENTS]
    assert len(spec.doers) == 7 and spec.settings.max_agents == 6
    assert spec.agent("changelog").kind == "task"  # waits for a free slot
    reviewer = spec.agent("stock-review")
    assert reviewer.is_reviewer and str(scripts / "reviewer.txt") in reviewer.preset.command
    assert spec.agent("stock").review == "stock-review" and spec.agent("stock").done_when
    for agent in spec.doers:
        assert str(scripts / f"{agent.name}.txt") in agent.preset.command
        assert "{handoff_file}" in (agent.preset.restart_command or "")
        assert agent.preset.env["FAKE_AGENT_SPEED"] == "2"
        assert agent.verify


# -- the README's path, headless, with real tmux and git -----------------------------------------


def _agents(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in snapshot["agents"]}


def _settled(snapshot: dict[str, Any]) -> bool:
    agents = _agents(snapshot)
    return (
        agents["docs"]["drift"] == ["inventory/__init__.py"]
        and agents["report"]["overlap"].get("inventory/report.py") == ["pricing"]
        and agents["pricing"]["overlap"].get("inventory/report.py") == ["report"]
        and agents["cli"]["status"] == "waiting"
        and agents["items"]["status"] == "crashed"
        # Every gate green (and stock's reviewer passed it): ready; docs drifted, so only idle.
        and all(agents[n]["status"] == "ready" for n in ("stock", "report", "pricing"))
        and agents["docs"]["status"] == "idle"
        and all(agents[n]["commits_ahead"] == 2 for n in ("stock", "report", "pricing", "docs"))
    )


def test_headless_demo_shows_drift_overlap_waiting_and_crash(tmp_path: Path, demo_socket: str) -> None:
    folder = tmp_path / "demo"
    done = cli(
        "demo", "--no-ui", "--for", "10", "--speed", "30", "--json", "--dir", str(folder), socket=demo_socket
    )
    assert done.returncode == 0, done.stderr
    snapshot = json.loads(done.stdout)  # standard output is the JSON alone
    assert snapshot["socket"] == demo_socket
    assert len(snapshot["agents"]) == 8  # six agents, the queued task and stock's reviewer
    repo = folder / demo.REPO_NAME
    if not _settled(snapshot):  # a slow machine: keep the pipeline going until the scripts played out
        fleet = Fleet.open(repo)
        snapshot = wait_for(
            lambda: s if _settled(s := json.loads(snapshot_json(pipeline.run_for(fleet, 2.0)))) else None,
            timeout=40,
            what="the demo to settle",
        )
    agents = _agents(snapshot)
    assert agents["changelog"]["status"] == "queued"
    assert agents["changelog"]["status_reason"] == "waiting for a free slot (max_agents = 6)"
    assert snapshot["queue"]["pending"] == ["changelog"]
    assert [g["ok"] for g in agents["stock"]["gates"]] == [True, True, True, True, True]
    assert agents["stock-review"]["status"] == "exited"
    assert agents["docs"]["drift"] == ["inventory/__init__.py"]
    assert {"path": "inventory/report.py", "agents": ["pricing", "report"]} in snapshot["overlaps"]
    assert "[y/n]" in agents["cli"]["status_evidence"]
    assert agents["items"]["exit_code"] == 1
    # The scripts live beside the repository, never in an agent's diff.
    assert not any(f["path"].startswith("agents/") for a in agents.values() for f in a["files"])
    for width in (80, 200):  # the table the headless demo ends with, and `status`, fit the terminal
        table = subprocess.run(
            [FLEET_TUI, "-C", str(repo), "status", "--sample", "0"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLUMNS": str(width)},
        ).stdout.splitlines()
        assert all(len(line) <= width for line in table), "\n".join(table)
        header = next(i for i, line in enumerate(table) if line.startswith("agent "))
        assert [line.split()[0] for line in table[header + 1 : header + 9]] == list(agents), table
    assert demo.read_marker(folder) is not None
    assert folder.resolve() in demo.recorded()

    # The demo's promises, through the steering engine the dashboard keys call.
    fleet = Fleet.open(repo)
    merged = actions.merge(fleet, "stock")  # verify runs the project's tests, then merges
    assert merged.started == ("started changelog: a slot is free",)
    actions.merge(fleet, "report")
    with pytest.raises(actions.MergeRefused, match=r"DRIFT: 1 file outside its scope"):
        actions.merge(fleet, "docs")
    with pytest.raises(actions.MergeRefused, match=r"inventory/report\.py"):
        actions.merge(fleet, "pricing")

    pane = fleet.pane_id("cli")
    assert pane
    fleet.tmux.paste(pane, "y")
    actions.restart(fleet, "items", reason="it crashed")

    def screen(name: str) -> str:
        return next(p.screen for p in fleet.tmux.read(fleet.session) if p.agent == name)

    wait_for(lambda: "committed: cli:" in screen("cli"), timeout=30, what="cli to go on after y")
    wait_for(lambda: "Done after the restart" in screen("items"), timeout=30, what="items to finish")
    handoff = fleet.layout.handoff_file("items").read_text(encoding="utf-8")
    assert "inventory/items.py" in handoff  # its uncommitted work, named for the fresh process
    last_line = [ln for ln in handoff.splitlines() if ln.strip()][-1]
    assert last_line in screen("items")  # which printed the handoff it was given, then went on

    # --clean stops the supervisor (a dashboard starts one) and the session, and removes the folder.
    watcher = supervisor.start(fleet).pid
    assert watcher is not None
    done = cli("demo", "--clean", "--dir", str(folder), socket=demo_socket)
    assert done.returncode == 0, done.stderr
    assert not psutil.pid_exists(watcher) or psutil.Process(watcher).status() == psutil.STATUS_ZOMBIE
    assert not folder.exists()
    assert not fleet.tmux.session_exists(fleet.session)
    assert folder.resolve() not in demo.recorded()


def cli_status(repo: Path) -> str:
    done = subprocess.run(
        [FLEET_TUI, "-C", str(repo), "status", "--json"], capture_output=True, text=True, check=True
    )
    return done.stdout


# -- never touching what is not the demo's ---------------------------------------------------------


def test_clean_refuses_a_folder_without_the_marker(tmp_path: Path, demo_socket: str) -> None:
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")
    done = cli("demo", "--clean", "--dir", str(folder), socket=demo_socket)
    assert done.returncode == 1
    assert "marker" in done.stderr and "Traceback" not in done.stderr
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    # A marker that is not ours (wrong content) does not count either.
    (folder / demo.MARKER).write_text("{}", encoding="utf-8")
    assert cli("demo", "--clean", "--dir", str(folder), socket=demo_socket).returncode == 1
    assert (folder / "notes.txt").exists()


def test_demo_refuses_a_folder_with_files_and_a_foreign_socket(tmp_path: Path, demo_socket: str) -> None:
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "keep.txt").write_text("x", encoding="utf-8")
    done = cli("demo", "--no-ui", "--dir", str(folder), socket=demo_socket)
    assert done.returncode == 1
    assert "not empty" in done.stderr
    assert sorted(os.listdir(folder)) == ["keep.txt"]
    done = cli("demo", "--clean", "--dir", str(folder), socket="fleet-tui")
    assert done.returncode == 1
    assert "not a demo socket" in done.stderr
    assert shutil.which("tmux")
