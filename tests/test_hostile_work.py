"""Work is never dropped or mixed up: only fleet/NAME is merged, git never runs in an enclosing
repository, a busy main checkout is refused, and the words say what really happened."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import git, write_files
from helpers import fleet_cli, wait_for

from fleet_tui.engine import actions
from fleet_tui.engine.state import Phase, load_state


def commit_in(path: Path, files: dict[str, str | bytes], message: str) -> None:
    write_files(path, files)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", message)


def test_only_the_agents_branch_is_merged_whatever_its_worktree_has_checked_out(
    make_fleet: Any, repo: Path
) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}, {"name": "beta", "script": "idle"}])
    actions.up(fleet)
    wt = fleet.layout.worktree("alpha")
    commit_in(wt, {"src/on_branch.py": "A = 1\n"}, "on fleet/alpha")
    git(wt, "checkout", "-q", "-b", "other", "main")
    for i in range(4):
        commit_in(wt, {f"src/other_{i}.py": "B = 1\n"}, f"on other {i}")
    head = git(repo, "rev-parse", "main")

    refused = fleet_cli(fleet, "merge", "alpha", "--yes")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "is on other, not on fleet/alpha" in refused.stderr and "git -C" in refused.stderr
    assert git(repo, "rev-parse", "main") == head
    assert load_state(fleet.layout).agent("alpha").phase != Phase.MERGED
    status = fleet_cli(fleet, "status", "--sample", "0")
    assert "is on other, not on fleet/alpha" in status.stdout, status.stdout
    again = fleet_cli(fleet, "up", "--no-ui")  # said for alpha; beta (and the rest) unaffected
    assert again.returncode == 0, again.stderr
    assert "alpha: its worktree" in again.stdout + again.stderr
    queue = fleet_cli(fleet, "merge-queue", "--dry-run")
    assert "not on fleet/alpha" in queue.stdout + queue.stderr

    git(wt, "checkout", "-q", "fleet/alpha")
    merged = fleet_cli(fleet, "merge", "alpha", "--yes")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    tree = git(repo, "ls-tree", "-r", "--name-only", "main")
    assert "src/on_branch.py" in tree and "src/other_0.py" not in tree


def test_a_worktree_without_its_git_file_never_makes_git_act_in_an_enclosing_repo(
    make_fleet: Any, repo: Path, tmp_path: Path
) -> None:
    enclosing = tmp_path / "enclosing"
    enclosing.mkdir()
    git(enclosing, "init", "-q", "-b", "main")
    commit_in(enclosing, {"theirs.txt": "not the agent's\n"}, "enclosing")
    fleet = make_fleet([{"name": "alpha", "script": "idle"}], worktree_root="../enclosing/wt")
    actions.up(fleet)
    wt = fleet.layout.worktree("alpha")
    wait_for(lambda: fleet.pane_id("alpha"), what="pane")
    (wt / ".git").unlink()  # the agent wiped its folder's git link
    (wt / "src" / "new.py").write_text("work\n")

    snap = fleet_cli(fleet, "snapshot", "alpha")
    assert snap.returncode != 0 and "no longer a git worktree" in snap.stderr, snap.stdout + snap.stderr
    status = fleet_cli(fleet, "status", "--sample", "0")
    assert "no longer a git worktree" in status.stdout and "theirs.txt" not in status.stdout
    merge = fleet_cli(fleet, "merge", "alpha", "--yes", "-m", "x")
    assert merge.returncode == 1 and "no longer a git worktree" in merge.stderr
    kill = fleet_cli(fleet, "kill", "alpha", "--yes")
    assert kill.returncode == 0 and "NOT snapshotted" in kill.stdout, kill.stdout + kill.stderr
    down = fleet_cli(fleet, "down")
    assert down.returncode == 0, down.stderr
    assert git(enclosing, "for-each-ref", "refs/fleet").strip() == "", "no snapshot refs in their repo"
    assert git(enclosing, "status", "--porcelain", "--untracked-files=no").strip() == ""


def test_down_stops_every_agent_even_when_a_snapshot_cannot_be_written(
    make_fleet: Any, repo: Path, tmp_path: Path
) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}, {"name": "beta", "script": "idle"}])
    actions.up(fleet)
    wait_for(lambda: fleet.pane_id("beta"), what="panes")
    (fleet.layout.worktree("alpha") / ".git").unlink()
    down = fleet_cli(fleet, "down")
    assert down.returncode == 0, down.stderr
    assert "not snapshotted (stopped anyway): alpha" in down.stderr
    assert not fleet.tmux.session_exists(fleet.session)


def test_kill_and_snapshot_after_the_worktree_was_deleted_say_so(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": 'write src/a.py "x\\n"\nidle\n'}])
    actions.up(fleet)
    wait_for(lambda: (fleet.layout.worktree("alpha") / "src" / "a.py").exists(), what="work")
    shutil.rmtree(fleet.layout.worktree("alpha"))
    snap = fleet_cli(fleet, "snapshot", "alpha")
    assert snap.returncode != 0 and "does not exist" in snap.stderr, snap.stdout + snap.stderr
    assert "nothing uncommitted" not in snap.stdout
    kill = fleet_cli(fleet, "kill", "alpha", "--yes")
    assert kill.returncode == 0, kill.stderr
    assert "files kept" not in kill.stdout and "is gone" in kill.stdout, kill.stdout


@pytest.mark.parametrize("busy", ["bisect", "index.lock", "branch lock", "merge"])
def test_the_preflight_refuses_a_busy_main_checkout(make_fleet: Any, repo: Path, busy: str) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}])
    actions.up(fleet)
    commit_in(fleet.layout.worktree("alpha"), {"src/a.py": "A = 1\n"}, "work")
    if busy == "bisect":
        git(repo, "bisect", "start")
        says = "a bisect is in progress"
    elif busy == "index.lock":
        (repo / ".git" / "index.lock").write_text("")
        says = "git lock held"
    elif busy == "branch lock":
        (repo / ".git" / "refs" / "heads" / "main.lock").write_text("")
        says = "git lock held"
    else:
        git(repo, "checkout", "-q", "-b", "side")
        commit_in(repo, {"README.md": "side\n"}, "side")
        git(repo, "checkout", "-q", "main")
        commit_in(repo, {"README.md": "main\n"}, "main")
        subprocess.run(["git", "merge", "side"], cwd=repo, capture_output=True, check=False)
        says = "a merge is in progress"
    head = git(repo, "rev-parse", "HEAD")
    result = fleet_cli(fleet, "merge", "alpha", "--yes")
    assert result.returncode == 1, result.stdout + result.stderr
    assert says in result.stderr, result.stderr
    assert git(repo, "rev-parse", "HEAD") == head


def test_restore_never_overwrites_newer_content_of_a_now_ignored_file(make_fleet: Any, repo: Path) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}])
    actions.up(fleet)
    wt = fleet.layout.worktree("alpha")
    (wt / "notes.txt").write_text("v1 snapshotted\n")
    snap = fleet.snapshot_work("alpha", "test")
    assert snap is not None
    commit_in(wt, {".gitignore": "notes.txt\n"}, "ignore notes")
    (wt / "notes.txt").write_text("v2 newer, now ignored\n")

    refused = fleet_cli(fleet, "restore", "alpha", snap.name)
    assert refused.returncode == 1 and "notes.txt" in refused.stderr, refused.stdout + refused.stderr
    assert (wt / "notes.txt").read_text() == "v2 newer, now ignored\n"

    forced = fleet_cli(fleet, "restore", "alpha", snap.name, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (wt / "notes.txt").read_text() == "v1 snapshotted\n"
    saved = [s for s in actions.snapshots(fleet, "alpha") if s.name != snap.name]
    assert saved, "the state before the restore was snapshotted"
    assert git(wt, "show", f"{saved[0].ref}:notes.txt") == "v2 newer, now ignored\n"


def test_removing_the_worktree_after_a_merge_keeps_gitignored_files(make_fleet: Any, repo: Path) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}])
    actions.up(fleet)
    wt = fleet.layout.worktree("alpha")
    commit_in(wt, {".gitignore": ".env\nbuild/\n", "src/a.py": "A = 1\n"}, "work")
    write_files(wt, {".env": "SECRET=1\n", "build/out.o": "bin"})
    dry = fleet_cli(fleet, "merge", "alpha", "--dry-run")
    assert "gitignored files in the worktree (.env, build/)" in dry.stdout, dry.stdout
    merged = fleet_cli(
        fleet, "merge", "alpha", "--remove-worktree", "--yes", "--allow-drift"
    )  # .gitignore drifts
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "worktree was kept" in merged.stdout and ".env" in merged.stdout, merged.stdout
    assert (wt / ".env").read_text() == "SECRET=1\n" and (wt / "build" / "out.o").exists()
    assert "src/a.py" in git(repo, "ls-tree", "-r", "--name-only", "main")


def test_removing_an_agent_keeps_its_gitignored_files(make_fleet: Any, repo: Path) -> None:
    fleet = make_fleet([{"name": n, "script": "idle"} for n in ("alpha", "beta", "gamma")])
    actions.up(fleet)
    wt = fleet.layout.worktree("alpha")
    commit_in(wt, {".gitignore": ".env\nbuild/\n", "src/a.py": "A = 1\n"}, "work")
    write_files(wt, {".env": "SECRET=1\n", "build/out.o": "bin", "src/wip.py": "WIP = 1\n"})
    removed = fleet_cli(fleet, "remove", "alpha", "--yes")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    words = " ".join(removed.stdout.split())
    assert "kept its worktree" in words and ".env" in words and "build/" in words, removed.stdout
    # nothing lost: the ignored files where they were, the uncommitted one in a snapshot too
    assert (wt / ".env").read_text() == "SECRET=1\n" and (wt / "build" / "out.o").read_text() == "bin"
    saved = [s.ref for s in actions.snapshots(fleet, "alpha")]
    assert saved and git(wt, "show", f"{saved[0]}:src/wip.py") == "WIP = 1\n"
    # and it is out of the fleet, stopped, its branch kept
    assert "alpha" not in fleet.spec.path.read_text()
    assert sorted(p.agent for p in fleet.tmux.list_panes(fleet.session)) == ["beta", "gamma"]
    assert git(repo, "branch", "--list", "fleet/alpha").strip()
    # without ignored files the worktree goes, as before
    beta = fleet.layout.worktree("beta")
    write_files(beta, {"src/b.py": "B = 1\n"})
    gone = fleet_cli(fleet, "remove", "beta", "--yes")
    assert gone.returncode == 0 and "removed its worktree" in gone.stdout, gone.stdout + gone.stderr
    assert not beta.exists()
