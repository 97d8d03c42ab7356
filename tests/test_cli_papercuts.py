"""The command line without surprises: -h, -C/-f everywhere, agent lists, plan warnings, --yes,
plural wording, demo --clean sparing demos in use, and a shell agent that exits when asked."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from conftest import toml_value
from helpers import wait_for

from fleet_tui import demo as demos
from fleet_tui.cli import cli
from fleet_tui.cli.demo import clean_demos
from fleet_tui.engine import actions
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.presence import dashboard_is_open, dashboard_open
from fleet_tui.engine.state import Layout
from fleet_tui.engine.text import plural


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


def test_dash_h_is_help_on_the_group_and_on_every_command() -> None:
    top = run("-h")
    assert top.exit_code == 0 and "Usage:" in top.output and "plan" in top.output
    for name in cli.commands:
        result = run(name, "-h")
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output and "-h, --help" in result.output


def test_every_command_about_a_fleet_takes_dash_c_and_dash_f() -> None:
    # `demo` builds its own repository in its own folder: a fleet of yours is not its business;
    # `hook` is called by agents with the one file it appends to.
    for name, command in cli.commands.items():
        if name in ("demo", "hook"):
            continue
        flags = {flag for param in command.params if isinstance(param, click.Option) for flag in param.opts}
        assert {"-C", "-f"} <= flags, (name, sorted(flags))


def test_a_missing_or_unknown_name_lists_the_agents(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha"}, {"name": "beta"}])
    where = ["-C", str(fleet.root), "-f", str(fleet.spec.path)]
    for command in ("kill", "restart", "merge", "snapshot", "restore", "attach", "send"):
        missing = run(command, *where)
        assert missing.exit_code == 2, (command, missing.output)
        assert "which agent? give its NAME" in missing.output and "agents: alpha, beta" in missing.output
        assert "Traceback" not in missing.output
        unknown = run(command, *where, "gamma")
        assert unknown.exit_code == 2, (command, unknown.output)
        assert "no agent named 'gamma'" in unknown.output and "agents: alpha, beta" in unknown.output
    log = run("log", *where, "gamma")
    assert log.exit_code == 2 and "agents: alpha, beta" in log.output


def test_plan_warns_about_a_missing_program_instead_of_refusing(make_fleet: Any) -> None:
    fleet = make_fleet(
        [{"name": "alpha", "preset": "ghost"}],
        preamble='[preset.ghost]\nprogram = "no-such-agent-cli-xyz"\ncommand = "x {prompt_file}"\n',
    )
    result = run("plan", "-C", str(fleet.root), "-f", str(fleet.spec.path))
    assert result.exit_code == 0, result.output
    assert "launch order: alpha" in result.output
    assert (
        "not installed (not on PATH): 'alpha' (preset 'ghost') needs 'no-such-agent-cli-xyz'" in result.output
    )
    assert "`fleet-tui up` will refuse" in result.output
    up = run("up", "--no-ui", "-C", str(fleet.root), "-f", str(fleet.spec.path))
    assert up.exit_code == 2 and "no-such-agent-cli-xyz" in up.output  # up still refuses


def test_plan_keeps_whole_worktree_paths_in_a_narrow_terminal(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "a-rather-long-agent-name-for-a-path"}])
    result = CliRunner().invoke(
        cli, ["plan", "-C", str(fleet.root), "-f", str(fleet.spec.path)], env={"COLUMNS": "70"}
    )
    assert result.exit_code == 0, result.output
    # Read the worktree column back out of the drawn table: its pieces, joined, are the whole path.
    column = [line.split("│")[3].strip() for line in result.output.splitlines() if line.count("│") >= 5]
    assert "".join(column) == str(fleet.layout.worktree("a-rather-long-agent-name-for-a-path"))


def test_a_custom_command_restarts_as_itself_with_the_handoff_and_plan_says_so(
    repo: Path, tmp_path: Path
) -> None:
    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text(
        '[[agent]]\nname = "own"\ntask = "t"\nscope = ["src/**"]\ncommand = "mytool --task {prompt_file}"\n'
        '[[agent]]\nname = "noprompt"\ntask = "t"\nscope = ["src/**"]\ncommand = "mytool --go"\n',
        encoding="utf-8",
    )
    fleet = Fleet.open(repo, fleet_file)
    own = fleet.agent("own")
    assert own.preset.restart_command == "mytool --task {handoff_file}"
    assert fleet.agent("noprompt").preset.restart_command == "mytool --go"
    result = run("plan", "-C", str(fleet.root), "-f", str(fleet.spec.path))
    assert "own: a custom `command` and no `restart_command`: a restart runs the same command with " in (
        " ".join(result.output.split())
    )
    assert (
        "noprompt: a custom `command` and no `restart_command`: a restart runs the same command again, "
        in (" ".join(result.output.split()))
    )


def test_plural_wording() -> None:
    assert plural(1, "commit") == "1 commit" and plural(2, "commit") == "2 commits"
    assert plural(0, "file") == "0 files" and plural(1, "character") == "1 character"


def test_merge_queue_without_a_terminal_needs_yes(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "exit 0"}])
    actions.up(fleet)
    wait_for(lambda: fleet.layout.exit_file("alpha").exists(), what="alpha to exit")
    worktree = fleet.layout.worktree("alpha")
    (worktree / "src" / "new.py").write_text("x = 1\n", encoding="utf-8")
    from conftest import git

    git(worktree, "add", "-A")
    git(worktree, "commit", "-qm", "work")
    result = run("merge-queue", "-C", str(fleet.root), "-f", str(fleet.spec.path))
    assert result.exit_code == 1 and "not confirmed: nothing merged" in result.output
    assert "pass --yes" in result.output


def _fake_demo(root: Path, name: str, socket: str) -> Path:
    folder = root / name
    repo = folder / demos.REPO_NAME
    (repo / ".fleet").mkdir(parents=True)
    marker = {"kind": demos.MARKER_KIND, "repo": str(repo), "name": name, "socket": socket}
    (folder / demos.MARKER).write_text(
        "{" + ", ".join(f"{toml_value(k)}: {toml_value(v)}" for k, v in marker.items()) + "}",
        encoding="utf-8",
    )
    demos.remember(folder)
    return folder


def test_demo_clean_spares_a_demo_in_use_unless_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    socket = "fleet-tui-demo-test-clean"
    idle = _fake_demo(tmp_path, "idle-demo", socket)
    busy = _fake_demo(tmp_path, "busy-demo", socket)
    with dashboard_open(busy / demos.REPO_NAME / ".fleet"):
        assert dashboard_is_open(busy / demos.REPO_NAME / ".fleet")
        assert not dashboard_is_open(idle / demos.REPO_NAME / ".fleet")
        clean_demos(None)
        printed = capsys.readouterr().out
        assert not idle.exists() and busy.exists()
        assert f"kept {busy}: a dashboard is open on it (--all removes it too)" in printed
        clean_demos(None, everything=True, yes=True)
        assert not busy.exists()
    assert not dashboard_is_open(tmp_path / "nowhere")


def test_the_shell_preset_exits_on_its_exit_keys_without_sigkill(
    repo: Path, tmp_path: Path, server: Any
) -> None:
    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text(
        f'[fleet]\nsocket = {toml_value(server.socket_name)}\n\n[[agent]]\nname = "sh"\n'
        'task = "look around"\nscope = ["src/**"]\npreset = "shell"\n',
        encoding="utf-8",
    )
    fleet = Fleet.open(repo, fleet_file)
    actions.up(fleet)
    layout: Layout = fleet.layout

    def prompt() -> bool:
        panes = fleet.tmux.read(fleet.session)
        return bool(panes) and panes[0].screen.rstrip().endswith(("$", "#"))

    wait_for(prompt, what="the shell's prompt")
    started = time.monotonic()
    outcome = actions.kill(fleet, "sh", grace=5.0)
    took = time.monotonic() - started
    assert "SIGKILL" not in outcome.message, outcome.message
    assert took < 3.0, took  # the shell read "exit": no waiting out the grace period
    screen = fleet.tmux.read(fleet.session)[0].screen
    assert "command not found" not in screen
    assert layout.exit_file("sh").exists()
