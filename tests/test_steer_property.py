"""Property: no steering action loses a byte of uncommitted work, and `restore` brings it back.

Hypothesis generates worktree states (modified, deleted, untracked, binary, empty files, nested
folders, ignored files). One test runs on the git layer with a real worktree (fast, more examples);
one drives kill, restart and a failed merge on a real fleet in real tmux, reused across examples.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO_FILES, git
from helpers import files_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet_tui.adapters import git as gitad
from fleet_tui.engine import actions
from fleet_tui.engine.actions import up
from fleet_tui.engine.state import load_state
from fleet_tui.errors import ActionRefused

TRACKED = sorted(REPO_FILES)
content = st.one_of(
    st.binary(max_size=200),  # NUL bytes and invalid UTF-8 included
    st.text(max_size=80).map(lambda t: t.encode("utf-8")),
    st.just(b""),
)
new_path = st.builds(
    lambda dirs, name: "/".join(["new", *dirs, name]),
    st.lists(st.sampled_from(["a", "b", "deep"]), max_size=3),
    st.sampled_from(["f.txt", "g.bin", "empty", "x.py"]),
)


@st.composite
def worktree_states(draw: st.DrawFn) -> dict[str, bytes | None]:
    """path -> new bytes (None: delete). Tracked files are modified or deleted; new ones nested."""
    changes: dict[str, bytes | None] = {}
    for path in draw(st.lists(st.sampled_from(TRACKED), unique=True, max_size=4)):
        changes[path] = draw(st.one_of(st.none(), content))
    for path in draw(st.lists(new_path, unique=True, max_size=4)):
        changes[path] = draw(content)
    if draw(st.booleans()):
        changes["new/ignored.log"] = b"ignored, so not work\n"
    return changes


def apply(worktree: Path, changes: dict[str, bytes | None]) -> None:
    for rel, data in changes.items():
        target = worktree / rel
        if data is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def reset(worktree: Path, commit: str) -> None:
    """Test-only: put the worktree back to `commit` (ignored files go too)."""
    git(worktree, "reset", "-q", "--hard", commit)
    git(worktree, "clean", "-q", "-fdx")
    shutil.rmtree(worktree / "new", ignore_errors=True)


def wipe_and_restore(worktree: Path, agent: str, snap: gitad.WorkSnapshot) -> None:
    """Lose everything uncommitted (as a crash or a mistake could), then restore the snapshot."""
    git(worktree, "reset", "-q", "--hard", snap.parent)
    git(worktree, "clean", "-q", "-fd")  # ignored files stay: they are not work
    assert gitad.restore_conflicts(worktree, snap) == []
    gitad.restore_files(worktree, snap)


def ignore_logs(repo: Path) -> None:
    exclude = gitad.git_common_dir(repo) / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a", encoding="utf-8") as fh:
        fh.write("*.log\n")


def test_snapshot_keeps_every_byte_and_never_touches_index_or_branch(repo: Path, tmp_path: Path) -> None:
    ignore_logs(repo)
    git(repo, "branch", "fleet/alpha")
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(worktree), "fleet/alpha")
    start = git(repo, "rev-parse", "fleet/alpha").strip()
    index = gitad.git_common_dir(repo) / "worktrees" / "wt" / "index"

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(changes=worktree_states(), newer=content)
    def check(changes: dict[str, bytes | None], newer: bytes) -> None:
        reset(worktree, start)
        apply(worktree, changes)
        expected = files_of(worktree)
        had_work = bool(gitad.uncommitted_files(worktree))
        index_before = index.read_bytes()
        snap = gitad.save_snapshot(worktree, "alpha", "property")
        assert index.read_bytes() == index_before
        assert git(repo, "rev-parse", "fleet/alpha").strip() == start
        assert files_of(worktree) == expected
        if not had_work:
            assert snap is None  # nothing uncommitted: nothing to save
            return
        if snap is None:  # the same work as the newest snapshot: that one holds it
            snap = gitad.list_snapshots(worktree, "alpha")[0]

        # Newer uncommitted work in a file the snapshot has: refuse and change nothing.
        victim = sorted(p for _, p in snap.files)[0]
        if (changes.get(victim) or b"") != newer + b"!":
            apply(worktree, {victim: newer + b"!"})
            now = files_of(worktree)
            assert gitad.restore_conflicts(worktree, snap) == [victim]
            assert files_of(worktree) == now

        wipe_and_restore(worktree, "alpha", snap)
        assert files_of(worktree) == expected

    check()


@pytest.mark.timeout(300)
def test_kill_restart_and_failed_merge_keep_all_work(make_fleet, repo: Path) -> None:
    ignore_logs(repo)
    fleet = make_fleet(
        # Scope everything: this is about keeping work, and drift would stop the merge earlier.
        [
            {
                "name": "alpha",
                "scope": ["**"],
                "script": "say ready\nidle\n",
                "verify": "exit 1",
                "max_restarts": 1000,
            }
        ]
    )
    up(fleet)
    worktree = fleet.layout.worktree("alpha")
    start = git(worktree, "rev-parse", "HEAD").strip()
    base_head = git(repo, "rev-parse", "main")

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        changes=worktree_states(),
        action=st.sampled_from(["kill", "restart", "merge", "merge-commit"]),
    )
    def check(changes: dict[str, bytes | None], action: str) -> None:
        reset(worktree, start)
        apply(worktree, changes)
        expected = files_of(worktree)
        had_work = bool(gitad.uncommitted_files(worktree))

        if action == "kill":
            actions.kill(fleet, "alpha", grace=1.0)
            assert load_state(fleet.layout).agent("alpha").phase == "killed"
        elif action == "restart":
            actions.restart(fleet, "alpha", reason="property test")
        else:
            message = "commit for merge" if action == "merge-commit" else None
            with pytest.raises(ActionRefused):
                actions.merge(fleet, "alpha", commit_message=message)
            assert git(repo, "rev-parse", "main") == base_head
            assert git(repo, "status", "--porcelain") == ""

        assert files_of(worktree) == expected  # nothing touched in place
        if not had_work:
            return
        if action == "merge":  # refused before anything changed: no snapshot needed, none taken
            return
        snap = gitad.list_snapshots(worktree, "alpha")[0]  # new, or the newest if it already held this
        wipe_and_restore(worktree, "alpha", snap)
        assert files_of(worktree) == expected

    check()
