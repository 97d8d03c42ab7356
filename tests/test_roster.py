"""Adding and removing agents: the fleet file keeps the person's comments, bad input changes
nothing, removal snapshots first and keeps the branch unless told otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import fake_agent_command, git, toml_value
from helpers import wait_for

from fleet_tui.adapters import git as gitad
from fleet_tui.cli import cli
from fleet_tui.engine import actions
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import load_state
from fleet_tui.errors import FleetError, SpecError
from fleet_tui.fleetfile import add_agent_text, remove_agent_text

COMMENTED = """\
# Our fleet: keep this comment.
[fleet]
socket = {socket}   # the test's own tmux server

# The API agent does the endpoint.
[[agent]]
name = "api"          # short name
task = "Build the API."
scope = ["src/**"]
command = {command}
restart_command = {command}

# Docs follow the API.
[[agent]]
name = "docs"
task = "Write the docs."
scope = ["docs/**"]
command = {command}
restart_command = {command}

# Presets live down here.
[preset.spare]
command = "true {{prompt_file}}"
"""


@pytest.fixture
def commented(repo: Path, tmp_path: Path, server: Any) -> Path:
    script = tmp_path / "idle.txt"
    script.write_text('write src/app.py "agent work\\n"\nsay ready\nidle\n', encoding="utf-8")
    path = repo / "fleet.toml"
    path.write_text(
        COMMENTED.format(
            socket=toml_value(server.socket_name), command=toml_value(fake_agent_command(script))
        ),
        encoding="utf-8",
    )
    return path


def run(root: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, [args[0], "-C", str(root), *args[1:]])
    assert "Traceback" not in result.output, result.output
    return result


def comments(text: str) -> list[str]:
    return [line.split("#", 1)[1].strip() for line in text.splitlines() if "#" in line]


def test_adding_keeps_every_line_and_comment_and_appends_one_agent() -> None:
    text = COMMENTED.format(socket='"s"', command='"x {prompt_file}"')
    added = add_agent_text(
        text, {"name": "new", "task": "one\ntwo", "scope": ["a/**"], "preset": "shell"}, "f"
    )
    assert added.startswith(text)  # nothing before it moved or changed
    assert '[[agent]]\nname = "new"\ntask = """one\ntwo\n"""\nscope = ["a/**"]\npreset = "shell"\n' in added
    with pytest.raises(FleetError, match="already an agent named 'api'"):
        add_agent_text(text, {"name": "api", "scope": ["x"]}, "f")


def test_removing_takes_out_the_agent_and_its_own_comment_only() -> None:
    text = COMMENTED.format(socket='"s"', command='"x {prompt_file}"')
    removed = remove_agent_text(text, "api", "f")
    assert "The API agent" not in removed and 'name = "api"' not in removed
    assert comments(removed) == [
        c for c in comments(text) if c not in ("The API agent does the endpoint.", "short name")
    ]
    last = remove_agent_text(text, "docs", "f")
    assert "# Presets live down here." in last and "Docs follow the API." not in last
    # An [agent.env] sub-table after the agent goes with it (tomlkit's own edit when lines cannot).
    nested = text.replace("# Docs follow", '[agent.env]\nA = "1"\n\n# Docs follow')
    assert "[agent.env]" not in remove_agent_text(nested, "api", "f")


def test_add_from_the_cli_writes_the_file_keeping_comments_and_starts_the_agent(
    commented: Path, repo: Path, tmp_path: Path
) -> None:
    before = commented.read_text(encoding="utf-8")
    script = tmp_path / "new.txt"
    script.write_text("say hello from new\nidle\n", encoding="utf-8")
    result = run(
        repo, "add", "new", "--task", "A new task.", "--scope", "lib/**", "--scope", "tests/lib/**",
        "--command", fake_agent_command(script), "--depends-on", "api",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    after = commented.read_text(encoding="utf-8")
    assert after.startswith(before) and comments(after) == comments(before)
    fleet = Fleet.open(repo)
    assert fleet.spec.names == ["api", "docs", "new"]
    assert fleet.agent("new").scope == ("lib/**", "tests/lib/**") and fleet.agent("new").depends_on == (
        "api",
    )
    assert "warning:" in result.output and "a custom `command` and no `restart_command`" in result.output
    # It waits for api (depends_on); api itself started with it.
    assert "queued new: waiting for api" in " ".join(result.output.split())
    assert fleet.layout.worktree("new").is_dir() and fleet.layout.worktree("api").is_dir()
    wait_for(lambda: {p.agent for p in fleet.tmux.list_panes(fleet.session)} == {"api", "docs", "new"})


def test_a_bad_agent_changes_nothing(commented: Path, repo: Path) -> None:
    before = commented.read_text(encoding="utf-8")
    bad = [
        (["bad name!", "--task", "t", "--scope", "x/**"], "name"),
        (["ok", "--task", "t", "--scope", "x/**", "--preset", "nope"], "unknown preset 'nope'"),
        (["ok", "--task", "t", "--scope", "x/**", "--depends-on", "ghost"], "'ghost' names no agent"),
        (["ok", "--scope", "x/**"], "give exactly one of `task`"),
        (["api", "--task", "t", "--scope", "x/**"], "already an agent named 'api'"),
    ]
    for args, expected in bad:
        result = run(repo, "add", *args)
        assert result.exit_code == 2, (args, result.output)
        assert expected in " ".join(result.output.split()), (args, result.output)
        assert commented.read_text(encoding="utf-8") == before
    assert not (repo.parent / f"{repo.name}-fleet").exists()


def test_remove_snapshots_stops_and_keeps_the_branch(commented: Path, repo: Path) -> None:
    fleet = Fleet.open(repo)
    actions.up(fleet)
    worktree = fleet.layout.worktree("api")
    wait_for(lambda: (worktree / "src" / "app.py").read_text(encoding="utf-8") == "agent work\n")
    before = commented.read_text(encoding="utf-8")

    no_terminal = run(repo, "remove", "api")
    assert no_terminal.exit_code == 1 and "pass --yes" in no_terminal.output
    assert commented.read_text(encoding="utf-8") == before and worktree.exists()

    result = run(repo, "remove", "api", "--yes")
    assert result.exit_code == 0, result.output
    assert "saved 1 uncommitted file as refs/fleet/snapshots/api/" in result.output
    assert not worktree.exists() and gitad.branch_exists(repo, "fleet/api")
    assert gitad.list_snapshots(repo, "api"), "the uncommitted work is in a snapshot"
    after = commented.read_text(encoding="utf-8")
    assert 'name = "api"' not in after and "Docs follow the API." in after and "keep this comment" in after
    assert {p.agent for p in fleet.tmux.list_panes(fleet.session)} == {"docs"}
    assert Fleet.open(repo).spec.names == ["docs"]
    # A state rebuilt from the event log (state.json and its backup lost) has no api either.
    fleet.layout.state_file.unlink()
    fleet.layout.backup_file.unlink()
    assert set(load_state(fleet.layout).agents) == {"docs"}


def test_delete_branch_refuses_an_unmerged_branch_unless_forced(commented: Path, repo: Path) -> None:
    fleet = Fleet.open(repo)
    actions.up(fleet)
    worktree = fleet.layout.worktree("docs")
    (worktree / "docs").mkdir(exist_ok=True)
    (worktree / "docs" / "guide.md").write_text("guide\n", encoding="utf-8")
    git(worktree, "add", "-A")
    git(worktree, "commit", "-qm", "docs work")
    before = commented.read_text(encoding="utf-8")

    refused = run(repo, "remove", "docs", "--delete-branch", "--yes")
    assert refused.exit_code == 1 and "fleet/docs is not merged into main" in refused.output
    assert commented.read_text(encoding="utf-8") == before and worktree.exists()

    forced = run(repo, "remove", "docs", "--delete-branch", "--force", "--yes")
    assert forced.exit_code == 0, forced.output
    assert "deleted branch fleet/docs" in forced.output and not gitad.branch_exists(repo, "fleet/docs")


def test_remove_refuses_an_agent_others_depend_on(commented: Path, repo: Path) -> None:
    text = commented.read_text(encoding="utf-8").replace(
        'scope = ["docs/**"]', 'scope = ["docs/**"]\ndepends_on = ["api"]'
    )
    commented.write_text(text, encoding="utf-8")
    result = run(repo, "remove", "api", "--yes")
    assert result.exit_code == 1 and "docs depends on api: nothing removed" in result.output
    assert commented.read_text(encoding="utf-8") == text
    assert Fleet.open(repo).spec.names == ["api", "docs"]
    last = run(repo, "remove", "docs", "--yes")  # docs depends on nobody, but...
    assert last.exit_code == 0, last.output
    only = run(repo, "remove", "api", "--yes")
    assert only.exit_code == 1 and "the fleet's only agent" in only.output


def test_an_invalid_fleet_file_is_named_not_edited(repo: Path) -> None:
    (repo / "fleet.toml").write_text("[[agent]\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid TOML"):
        add_agent_text((repo / "fleet.toml").read_text(encoding="utf-8"), {"name": "y"}, "fleet.toml")
