"""Nothing can take the fleet's tmux server down, and a fleet only ever touches its own session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import REPO_FILES, fake_agent_command, git, toml_value, write_files
from helpers import wait_for

from fleet_tui.cli import cli
from fleet_tui.engine import actions
from fleet_tui.engine.fleet import Fleet
from fleet_tui.errors import ActionRefused, EnvironmentProblem


def _dead(fleet: Fleet, name: str) -> Any:
    return wait_for(lambda: next((p for p in fleet.panes() if p.agent == name and p.dead), None), what="dead")


def test_send_to_an_ended_agent_leaves_the_server_and_the_others_running(make_fleet: Any) -> None:
    fleet = make_fleet(
        [{"name": "done", "script": "say bye\nexit 3\n"}, {"name": "busy", "script": "say working\nidle\n"}]
    )
    actions.up(fleet)
    dead = _dead(fleet, "done")
    with pytest.raises(ActionRefused) as refused:
        fleet.send("done", "are you there?")
    assert "process has ended (exit code 3)" in refused.value.message
    assert "fleet-tui restart done" in (refused.value.hint or "")
    # The adapter's own guard, for a pane that dies between a check and the paste: this paste-buffer
    # into a dead pane is what crashes tmux 3.3 (and every agent with it) when unguarded.
    assert fleet.tmux.paste(dead.pane_id, "hello;", submit=True) is False
    # Every other call we make against a dead pane.
    fleet.tmux.send_keys(dead.pane_id, "C-c")
    fleet.tmux.clear_history(dead.pane_id)
    fleet.tmux.read(fleet.session)
    assert fleet.tmux.session_exists(fleet.session)
    busy = next(p for p in fleet.panes() if p.agent == "busy")
    assert not busy.dead
    fleet.send("busy", "still here")
    wait_for(
        lambda: any("still here" in p.screen for p in fleet.tmux.read(fleet.session) if p.agent == "busy"),
        what="text in busy",
    )
    result = CliRunner().invoke(cli, ["send", "-C", str(fleet.root), "-f", str(fleet.spec.path), "done", "x"])
    assert result.exit_code == 1 and "process has ended" in result.output and "Traceback" not in result.output
    assert (
        fleet.tmux.session_exists(fleet.session)
        and not next(p for p in fleet.panes() if p.agent == "busy").dead
    )


def test_send_to_a_killed_agent_is_refused(make_fleet: Any) -> None:
    from fleet_tui.engine import actions

    fleet = make_fleet([{"name": "alpha", "script": "idle\n"}])
    actions.up(fleet)
    actions.kill(fleet, "alpha", grace=0.5)
    with pytest.raises(ActionRefused, match="alpha is killed"):
        fleet.send("alpha", "hi")


def _second_repo(tmp_path: Path, server: Any, **settings: Any) -> Fleet:
    """A repository in another folder with the same folder name (`repo`), one fake agent."""
    root = tmp_path / "other" / "repo"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write_files(root, dict(REPO_FILES))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    script = tmp_path / "other" / "agent.txt"
    script.write_text("say other agent here\nidle\n", encoding="utf-8")
    lines = ["[fleet]", f"socket = {toml_value(server.socket_name)}"]
    lines += [f"{k} = {toml_value(v)}" for k, v in settings.items()]
    lines += ["[[agent]]", 'name = "alpha"', 'task = "the other task"', 'scope = ["src/**"]']
    lines.append(f"command = {toml_value(fake_agent_command(script))}")
    fleet_file = tmp_path / "other" / "fleet.toml"
    fleet_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Fleet.open(root, fleet_file)


def test_two_repositories_with_the_same_folder_name_keep_to_their_own(
    make_fleet: Any, tmp_path: Path, server: Any
) -> None:
    mine = make_fleet([{"name": "alpha", "script": "say first agent here\nidle\n"}])
    other = _second_repo(tmp_path, server)
    assert mine.root.name == other.root.name and mine.session != other.session
    actions.up(mine)
    actions.up(other)
    try:
        for fleet, words in ((mine, "first agent here"), (other, "other agent here")):
            wait_for(lambda f=fleet, w=words: any(w in p.screen for p in f.tmux.read(f.session)), what=words)
            assert [p.agent for p in fleet.panes()] == ["alpha"]
        other.send("alpha", "only for the other")
        assert other.down()
        assert not other.tmux.session_exists(other.session)
        alive = mine.panes()
        assert len(alive) == 1 and not alive[0].dead
        assert "first agent here" in mine.tmux.read(mine.session)[0].screen
    finally:
        other.down()


def test_a_session_name_taken_by_another_repository_is_refused(
    make_fleet: Any, tmp_path: Path, server: Any
) -> None:
    mine = make_fleet([{"name": "alpha", "script": "idle\n"}], name="shared")
    other = _second_repo(tmp_path, server, name="shared")
    actions.up(mine)
    before = [(p.pane_id, p.pid) for p in mine.panes()]
    for action in (
        lambda: actions.up(other),
        other.down,
        lambda: other.send("alpha", "x"),
        lambda: other.pane("alpha"),
    ):
        with pytest.raises(EnvironmentProblem) as refused:
            action()
        assert f"belongs to {mine.root}" in refused.value.message
        assert "another `name` (or `socket`)" in (refused.value.hint or "")
    result = CliRunner().invoke(
        cli, ["kill", "-C", str(other.root), "-f", str(other.spec.path), "alpha", "-y"]
    )
    assert result.exit_code == 2 and "belongs to" in result.output
    assert [(p.pane_id, p.pid) for p in mine.panes()] == before  # untouched
    assert not other.layout.worktree("alpha").exists()  # its refused `up` made nothing
