"""Hostile input against real tmux: folder names that are tmux formats, text tmux would split."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_FILES, git, write_files
from helpers import wait_for

from fleet_tui.engine import actions
from fleet_tui.engine.fleet import Fleet

PWN_ROOT = "pwned-by-repo-path"
PWN_WORKTREES = "pwned-by-worktree-root"


def pane_text(fleet: Fleet, name: str) -> str:
    pane_id = fleet.pane_id(name)
    assert pane_id is not None
    return subprocess.run(
        ["tmux", "-L", fleet.tmux.socket, "capture-pane", "-p", "-J", "-S", "-50", "-t", pane_id],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The sample repository, inside a folder whose name is a tmux format that runs a command."""
    root = tmp_path / f"#(touch $HOME/{PWN_ROOT})" / "repo"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write_files(root, dict(REPO_FILES))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def _pwned() -> list[str]:
    home = Path(os.environ["HOME"])
    return [name for name in (PWN_ROOT, PWN_WORKTREES) if (home / name).exists()]


def test_a_folder_named_like_a_tmux_format_runs_nothing(make_fleet: Any, repo: Path) -> None:
    home = Path(os.environ["HOME"])
    for name in (PWN_ROOT, PWN_WORKTREES):
        (home / name).unlink(missing_ok=True)
    fleet = make_fleet(
        [
            {"name": "alpha", "script": "say started\nidle\n== restart ==\nsay again\nidle\n"},
            {"name": "beta", "script": "idle\n"},
        ],
        worktree_root=f"../#(touch $HOME/{PWN_WORKTREES})",
        panes_per_window=1,  # the second agent opens a new window (new-window -c), not a split
    )
    assert "#(" in str(fleet.layout.worktree("alpha"))
    # `$HOME` in the folder name is a name too: git runs in this repository, not elsewhere.
    assert fleet.root == repo and "$HOME" in str(fleet.layout.worktree("alpha"))
    actions.up(fleet)
    wait_for(lambda: "started" in pane_text(fleet, "alpha"), what="alpha started")
    actions.restart(fleet, "alpha", reason="test", force=True)  # respawn-pane -c
    wait_for(lambda: "again" in pane_text(fleet, "alpha"), what="alpha restarted")
    # The agents run in their real worktrees, named as they are.
    cwd = subprocess.run(
        ["tmux", "-L", fleet.tmux.socket, "list-panes", "-s", "-t", f"={fleet.session}",
         "-F", "#{pane_current_path}"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    assert str(fleet.layout.worktree("beta")) in cwd
    # tmux runs #() jobs in the background: give one the time to have run, then check.
    with pytest.raises(AssertionError):
        wait_for(_pwned, timeout=1.5, what="a command run from a folder name")
    assert _pwned() == []


@pytest.mark.parametrize("text", ["hello;", ";", "a\\;", "two;;", "#(touch x) #{pane_id};"])
def test_send_arrives_byte_for_byte_even_ending_in_a_semicolon(make_fleet: Any, text: str) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}])
    actions.up(fleet)
    wait_for(lambda: ">" in pane_text(fleet, "alpha"), what="prompt")
    fleet.send("alpha", text)
    wait_for(lambda: f"received: {text}\n" in pane_text(fleet, "alpha") + "\n", what=f"{text!r} arrived")
    line = [ln for ln in pane_text(fleet, "alpha").splitlines() if ln.startswith("received:")][-1]
    assert line == f"received: {text}"
