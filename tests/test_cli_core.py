"""The core commands (init, plan, up, down, status) as a person runs them, errors included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import git
from helpers import wait_for

from fleet_tui.cli import cli
from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet

BIN = Path(sys.executable).parent
AGENT_FIELDS = {
    "name",
    "status",
    "status_reason",
    "branch",
    "worktree",
    "files",
    "added",
    "removed",
    "commits_ahead",
    "drift",
    "overlap",
    "exit_code",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one_line(result: Result) -> str:
    return " ".join(result.output.split())


@pytest.fixture
def live(make_fleet: Any, repo: Path, tmp_path: Path) -> Fleet:
    """A fleet that is up, its fleet.toml at the repository root (the default place)."""
    fleet: Fleet = make_fleet(
        [
            {"name": "api", "scope": ["src/**"], "script": 'write docs/guide.md "drifted\\n"\nsay READY'},
            {"name": "done", "scope": ["docs/**"], "script": "exit 0"},
        ]
    )
    shutil.copy(tmp_path / "fleet.toml", repo / "fleet.toml")
    fleet = Fleet.open(repo)
    up(fleet)
    return fleet


def test_status_json_from_a_subfolder(live: Fleet, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "src" / "pkg")
    drifted = live.layout.worktree("api") / "docs" / "guide.md"
    wait_for(
        lambda: drifted.exists() and live.layout.exit_file("done").exists(),
        what="the fake agents to write and to exit",
    )
    result = run("status", "--json", "--sample", "0")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["schema"] == 1
    assert data["session_alive"] is True
    agents = {a["name"]: a for a in data["agents"]}
    assert set(agents) == {"api", "done"}
    for agent in agents.values():
        assert set(agent) >= AGENT_FIELDS, AGENT_FIELDS - set(agent)
        assert "screen" not in agent
    api = agents["api"]
    assert api["branch"] == "fleet/api"
    assert api["worktree"] == str(live.layout.worktree("api"))
    assert api["drift"] == ["docs/guide.md"]
    assert api["files"] == [
        {
            "path": "docs/guide.md",
            "added": 1,
            "removed": 3,
            "old_path": None,
            "untracked": False,
            "in_scope": False,
        }
    ]
    assert (api["added"], api["removed"], api["commits_ahead"], api["overlap"]) == (1, 3, 0, {})
    assert api["exit_code"] is None
    done = agents["done"]
    assert (done["status"], done["status_reason"], done["exit_code"]) == ("exited", "exit code 0", 0)


@pytest.mark.parametrize("width", [80, 200])
def test_status_table_fits_the_terminal_one_line_per_agent(live: Fleet, repo: Path, width: int) -> None:
    def table() -> list[str] | None:
        result = CliRunner(env={"COLUMNS": str(width)}).invoke(
            cli, ["status", "--sample", "0", "-C", str(repo)], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert all(len(line) <= width for line in lines), "\n".join(lines)  # at every reading
        header = lines.index(next(line for line in lines if line.startswith("agent ")))
        rows = lines[header + 1 : header + 3]  # one line per agent: the next agent's line comes next
        assert [row.split()[0] for row in rows] == ["api", "done"], "\n".join(lines)
        settled = rows[1].split()[1] == "exited" and "drift api: docs/guide.md" in lines
        return lines if settled else None  # a loaded machine: the agents may not have played out yet

    lines = wait_for(table, what="status to show done exited and api's drift")
    assert lines[lines.index(next(ln for ln in lines if ln.startswith("done ")))].endswith("exit code 0")


def test_status_from_inside_an_agent_worktree_finds_the_fleet(live: Fleet) -> None:
    result = run("status", "--json", "--sample", "0", "-C", str(live.layout.worktree("api") / "src"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["repo"] == str(live.root)
    assert [a["name"] for a in data["agents"]] == ["api", "done"]


def test_status_table_down_and_down_again_from_a_subfolder(
    live: Fleet, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "docs")
    table = run("status", "--sample", "0")
    assert table.exit_code == 0, table.output
    assert "api" in table.output and "done" in table.output and "session up" in table.output
    state_before = (repo / ".fleet" / "state.json").read_bytes()
    heads = git(repo, "show-ref", "--heads")

    down = run("down")
    assert down.exit_code == 0, down.output
    assert "stopped session" in down.output and "kept" in down.output
    assert not live.tmux.session_exists(live.session)
    for name in ("api", "done"):
        assert git(live.layout.worktree(name), "rev-parse", "--abbrev-ref", "HEAD").strip() == f"fleet/{name}"
    assert git(repo, "show-ref", "--heads") == heads  # branches stay (down may add a snapshot ref)
    # State stays, but for one thing: the working agent is recorded as stopped by down (so the
    # next `up` resumes it); the one that had ended stays as it was.
    before, after_down = json.loads(state_before), json.loads((repo / ".fleet" / "state.json").read_bytes())
    assert after_down["agents"]["api"]["phase"] == "stopped"
    after_down["agents"]["api"]["phase"] = before["agents"]["api"]["phase"]
    assert after_down == before
    again = run("down")
    assert again.exit_code == 0
    assert "not running: nothing to do" in one_line(again)
    after = json.loads(run("status", "--json", "--sample", "0").output)
    assert after["session_alive"] is False
    assert {a["status"] for a in after["agents"]} == {"missing"}


def test_up_no_ui_twice_says_nothing_to_do(make_fleet: Any, repo: Path, tmp_path: Path) -> None:
    make_fleet([{"name": "solo"}])
    first = run("up", "--no-ui", "-C", str(repo), "-f", str(tmp_path / "fleet.toml"))
    assert first.exit_code == 0, first.output
    assert "created worktree" in first.output and "tmux -L" in first.output
    second = run("up", "--no-ui", "-C", str(repo), "-f", str(tmp_path / "fleet.toml"))
    assert second.exit_code == 0
    assert "is already up: nothing to do" in second.output


def test_init_writes_an_example_plan_accepts_and_refuses_to_overwrite(repo: Path) -> None:
    result = run("init", "-C", str(repo / "src"))
    assert result.exit_code == 0, result.output
    target = repo / "fleet.toml"
    example = target.read_text(encoding="utf-8")
    assert "[[agent]]" in example and "scope" in example
    # The example names the claude preset; with the shell preset it runs here as written.
    target.write_text(example.replace('preset = "claude"', 'preset = "shell"'), encoding="utf-8")
    plan = run("plan", "-C", str(repo))
    assert plan.exit_code == 0, plan.output
    assert "fleet/api" in plan.output and "fleet/docs" in plan.output
    assert "launch order: api -> docs" in plan.output
    # scope patterns that match no tracked file are a warning, not an error
    assert "warning:" in plan.output and "'src/api/**' matches no tracked file" in one_line(plan)

    edited = target.read_text(encoding="utf-8") + "\n# mine\n"
    target.write_text(edited, encoding="utf-8")
    refused = run("init", "-C", str(repo))
    assert refused.exit_code == 2
    assert "already exists" in refused.output and "--force" in refused.output
    assert target.read_text(encoding="utf-8") == edited
    assert run("init", "-C", str(repo), "--force").exit_code == 0
    assert target.read_text(encoding="utf-8") == example


def test_plan_warns_about_a_missing_agent_program(repo: Path) -> None:
    (repo / "fleet.toml").write_text(
        '[[agent]]\nname = "api"\ntask = "t"\nscope = ["src/**"]\npreset = "ghost"\n\n'
        '[preset.ghost]\nprogram = "fleet-tui-no-such-cli"\n'
        'command = "fleet-tui-no-such-cli {prompt_file}"\n',
        encoding="utf-8",
    )
    result = run("plan", "-C", str(repo))
    assert result.exit_code == 0  # the plan is shown, with the missing program as a warning
    assert "warning: not installed" in one_line(result)
    assert "'api' (preset 'ghost') needs 'fleet-tui-no-such-cli'" in one_line(result)
    assert "Traceback" not in result.output


STRICT = """
[[agent]]
name = "core"
task = "t"
scope = ["src/**"]
preset = "shell"

[[agent]]
name = "util"
task = "t"
scope = ["src/util.py", "tests/**"]
preset = "shell"
{depends}
"""


@pytest.mark.parametrize(("depends", "code"), [("", 1), ('depends_on = ["core"]', 0)])
def test_plan_strict(repo: Path, depends: str, code: int) -> None:
    (repo / "fleet.toml").write_text(STRICT.format(depends=depends), encoding="utf-8")
    normal = run("plan", "-C", str(repo))
    assert normal.exit_code == 0
    assert "src/util.py: core, util" in normal.output
    strict = run("plan", "--strict", "-C", str(repo))
    assert strict.exit_code == code, strict.output
    assert ("--strict" in strict.output) == (code == 1)
    assert ("no dependency between them" in strict.output) == (code == 1)


@pytest.mark.parametrize("command", [["plan"], ["status"], ["down"], ["up", "--no-ui"], ["init"]])
def test_outside_a_git_repository(tmp_path: Path, command: list[str]) -> None:
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    result = run(*command, "-C", str(elsewhere))
    assert result.exit_code == 2
    assert f"{elsewhere} is not inside a git repository" in one_line(result)
    assert "git init" in result.output
    assert "Traceback" not in result.output


# -- the real binary, with programs missing from PATH ---------------------------------------------


def bin_without(tmp_path: Path, missing: str) -> dict[str, str]:
    """An environment whose PATH has python, fleet-tui and the usual tools, but not `missing`."""
    folder = tmp_path / f"bin-without-{missing}"
    folder.mkdir()
    for name in ("python", "python3", "fleet-tui", "fleet-fake-agent"):
        (folder / name).symlink_to(BIN / name)
    for program in ("git", "tmux", "sh", "cat"):
        found = shutil.which(program)
        if program != missing and found:
            (folder / program).symlink_to(found)
    return {**os.environ, "PATH": str(folder)}


@pytest.mark.parametrize(
    ("missing", "command"),
    [
        ("tmux", ["status"]),
        ("tmux", ["up", "--no-ui"]),
        ("tmux", ["down"]),
        ("git", ["status"]),
        ("git", ["plan"]),
        ("git", ["init"]),
    ],
)
def test_missing_program_is_said_plainly(
    repo: Path, tmp_path: Path, missing: str, command: list[str]
) -> None:
    (repo / "fleet.toml").write_text(STRICT.format(depends=""), encoding="utf-8")
    env = bin_without(tmp_path, missing)
    result = subprocess.run(
        [str(BIN / "fleet-tui"), *command],
        cwd=repo / "src",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"{missing} is not installed" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) <= 2  # the message and its hint
    assert not (repo / ".fleet").exists()  # nothing half-made


def test_an_empty_repository_says_it_has_no_commits(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    (empty / "fleet.toml").write_text('[[agent]]\nname = "a"\ntask = "t"\nscope = ["x"]\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["-C", str(empty), "plan"])
    assert result.exit_code == 2
    assert "has no commits yet" in result.output and "Traceback" not in result.output


def test_status_shows_a_missing_worktree_as_a_problem(make_fleet) -> None:
    import shutil

    fleet = make_fleet([{"name": "gone"}])
    up(fleet)
    shutil.rmtree(fleet.layout.worktree("gone"))
    result = CliRunner().invoke(
        cli, ["-C", str(fleet.root), "-f", str(fleet.spec.path), "status", "--sample", "0"]
    )
    assert result.exit_code == 0, result.output
    assert "problem gone:" in " ".join(result.output.split()) and "fleet-tui up" in result.output
