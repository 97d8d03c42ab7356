"""Diff figures of a worktree equal git's own `--numstat`, and reading never touches the index."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import git, write_files

from fleet_tui.adapters import git as git_adapter
from fleet_tui.models import WorktreeReading

Figures = dict[str, tuple[int | None, int | None, str | None]]


def numstat_number(text: str) -> int | None:
    return None if text == "-" else int(text)


def oracle(worktree: Path, base: str = "main") -> Figures:
    """What git itself says: `git diff --numstat --merge-base`, and `diff --no-index` per untracked file."""
    figures: Figures = {}
    out = git(worktree, "diff", "--numstat", "-z", "--merge-base", base)
    tokens = iter(out.split("\0"))
    for token in tokens:
        if not token:
            continue
        added, removed, path = token.split("\t", 2)
        old = None
        if not path:  # a rename: old and new path follow as their own tokens
            old, path = next(tokens), next(tokens)
        figures[path] = (numstat_number(added), numstat_number(removed), old)
    untracked = git(worktree, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    for rel in filter(None, untracked):
        result = subprocess.run(
            ["git", "-c", "core.quotePath=false", "diff", "--no-index", "--numstat", "/dev/null", rel],
            cwd=worktree,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1, result.stderr
        added, removed, shown = result.stdout.rstrip("\n").split("\t")
        assert shown == f"/dev/null => {rel}"
        figures[rel] = (numstat_number(added), numstat_number(removed), None)
    return figures


def figures(reading: WorktreeReading) -> Figures:
    assert reading.error is None, reading.error
    return {f.path: (f.added, f.removed, f.old_path) for f in reading.files}


@pytest.fixture
def worktree(repo: Path, tmp_path: Path) -> Path:
    """A linked worktree of the repo on its own branch, like an agent's."""
    path = tmp_path / "wt" / "agent"
    git(repo, "worktree", "add", "-q", "-b", "fleet/agent", str(path), "main")
    return path


def test_clean_worktree_reads_empty(worktree: Path) -> None:
    reading = git_adapter.read_worktree(worktree, "main")
    assert reading == WorktreeReading(files=(), commits_ahead=0)


def test_modified_committed_deleted_and_nested(repo: Path, worktree: Path) -> None:
    write_files(worktree, {"src/app.py": "def main():\n    return 2\n\n# more\n"})  # modified, uncommitted
    write_files(worktree, {"src/util.py": "def helper(x):\n    return x * 2\n"})
    git(worktree, "commit", "-qam", "util")  # committed
    write_files(worktree, {"src/pkg/deep.py": "VALUE = 4\n"})  # nested, then committed
    git(worktree, "commit", "-qam", "deep")
    (worktree / "docs" / "guide.md").unlink()  # deleted, uncommitted
    git(worktree, "rm", "-q", "tests/test_app.py")  # deleted, staged
    # base moves on after the branch started: its changes are not the agent's
    write_files(repo, {"README.md": "# sample\n\nmain moved\n"})
    git(repo, "commit", "-qam", "main moves")

    reading = git_adapter.read_worktree(worktree, "main")
    expected = oracle(worktree)
    assert figures(reading) == expected
    assert set(expected) == {
        "src/app.py",
        "src/util.py",
        "src/pkg/deep.py",
        "docs/guide.md",
        "tests/test_app.py",
    }
    assert expected["docs/guide.md"] == (0, 3, None)
    assert reading.commits_ahead == 2
    assert not any(f.untracked for f in reading.files)


def test_renames_committed_and_uncommitted(worktree: Path) -> None:
    (worktree / "src" / "pkg" / "moved").mkdir()
    git(worktree, "mv", "src/pkg/deep.py", "src/pkg/moved/deeper.py")
    git(worktree, "commit", "-qm", "move deep")  # committed rename
    (worktree / "docs" / "manual").mkdir()
    git(worktree, "mv", "docs/guide.md", "docs/manual/guide.md")  # staged, uncommitted rename
    (worktree / "src" / "util.py").rename(worktree / "src" / "helpers.py")  # plain mv: delete + untracked

    reading = git_adapter.read_worktree(worktree, "main")
    expected = oracle(worktree)
    assert figures(reading) == expected
    assert expected["src/pkg/moved/deeper.py"] == (0, 0, "src/pkg/deep.py")
    assert expected["docs/manual/guide.md"] == (0, 0, "docs/guide.md")
    assert expected["src/util.py"] == (0, 2, None)
    assert expected["src/helpers.py"] == (2, 0, None)
    renamed = {f.path: f for f in reading.files}["docs/manual/guide.md"]
    assert renamed.old_path == "docs/guide.md" and not renamed.untracked


def test_untracked_text_binary_empty_and_no_trailing_newline(repo: Path, worktree: Path) -> None:
    write_files(
        worktree,
        {
            "notes/a/b/new.txt": "one\ntwo\nthree\n",  # untracked, in new nested folders
            "tail.txt": "no newline\nat the end",  # untracked, no trailing newline
            "blank.txt": "",  # untracked, empty
            "lines.txt": "\n\n\n",  # untracked, only newlines
            "image.bin": bytes(range(256)) * 40,  # untracked binary
            "late.bin": b"x" * 9000 + b"\0",  # a NUL beyond git's 8000-byte sniff: text to git
            "src/app.py": "def main():\n    return 1",  # tracked, trailing newline removed
            "README.md": "",  # tracked, emptied
            "src/logo.png": b"\x89PNG\r\n\x1a\n\0\0\0" + bytes(300),  # new binary, then committed
            "debug.log": "ignored\n",  # excluded below: not a change
        },
    )
    git(worktree, "add", "src/logo.png")
    git(worktree, "commit", "-qm", "logo")
    exclude = Path(git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir").strip())
    (exclude / "info").mkdir(exist_ok=True)
    (exclude / "info" / "exclude").write_text("*.log\n", encoding="utf-8")

    reading = git_adapter.read_worktree(worktree, "main")
    expected = oracle(worktree)
    assert figures(reading) == expected
    assert expected["notes/a/b/new.txt"] == (3, 0, None)
    assert expected["tail.txt"] == (2, 0, None)
    assert expected["blank.txt"] == (0, 0, None)
    assert expected["image.bin"] == (None, None, None)
    assert expected["src/logo.png"] == (None, None, None)
    assert expected["src/app.py"] == (1, 1, None)
    assert expected["README.md"] == (0, 1, None)
    assert "debug.log" not in expected
    by_path = {f.path: f for f in reading.files}
    assert by_path["image.bin"].binary and by_path["image.bin"].untracked
    assert by_path["src/logo.png"].binary and not by_path["src/logo.png"].untracked
    assert [f.path for f in reading.files] == sorted(by_path)


def test_untracked_symlink_counts_like_git(worktree: Path) -> None:
    (worktree / "link").symlink_to("src/app.py")
    assert figures(git_adapter.read_worktree(worktree, "main")) == oracle(worktree)


def test_paths_with_spaces_tabs_and_unicode(worktree: Path) -> None:
    write_files(worktree, {"docs/ä ö/n ame.md": "x\n", "src/app.py": "changed\n"})
    git(worktree, "mv", "src/util.py", "src/ütil\ttwo.py")
    assert figures(git_adapter.read_worktree(worktree, "main")) == oracle(worktree)


def index_state(repo: Path, name: str) -> tuple[bytes, int]:
    index = repo / ".git" / "worktrees" / name / "index"
    return index.read_bytes(), index.stat().st_mtime_ns


def test_reading_never_changes_the_index(repo: Path, worktree: Path) -> None:
    write_files(worktree, {"src/app.py": "changed\n", "new.txt": "x\n"})
    git(worktree, "mv", "docs/guide.md", "docs/moved.md")
    # Make the index stale: same content, newer mtimes. A refreshing command would rewrite it.
    for rel in ("src/util.py", "src/pkg/deep.py", "tests/test_app.py"):
        os.utime(worktree / rel, ns=(1_900_000_000_000_000_000, 1_900_000_000_000_000_000))
    before = index_state(repo, "agent")
    for _ in range(3):
        git_adapter.read_worktree(worktree, "main")
        git_adapter.diff_text(worktree, "main", "src/app.py")
        git_adapter.diff_text(worktree, "main", "new.txt", untracked=True)
        git_adapter.commits_since(worktree, "main")
    assert index_state(repo, "agent") == before
    assert git(worktree, "diff", "--cached", "--name-status") == "R100\tdocs/guide.md\tdocs/moved.md\n"
    assert (worktree / "src" / "app.py").read_text(encoding="utf-8") == "changed\n"
    # The check can fail: a command that refreshes the index (git status) does change it.
    git(worktree, "status", "--porcelain")
    assert index_state(repo, "agent") != before


def test_diff_text_and_commits_since(worktree: Path) -> None:
    write_files(worktree, {"src/app.py": "changed\n"})
    git(worktree, "commit", "-qam", "first change")
    write_files(worktree, {"new.txt": "hello\n"})
    assert "+changed" in git_adapter.diff_text(worktree, "main", "src/app.py")
    assert "+hello" in git_adapter.diff_text(worktree, "main", "new.txt", untracked=True)
    commits = git_adapter.commits_since(worktree, "main")
    assert [subject for _h, subject in commits] == ["first change"]


def test_a_broken_worktree_reads_as_an_error_not_an_exception(worktree: Path) -> None:
    reading = git_adapter.read_worktree(worktree, "no-such-branch")
    assert reading.error and "no-such-branch" in reading.error
    assert reading.files == ()


def test_refs_stamp_changes_with_every_branch_move(repo: Path) -> None:
    """The pipeline asks git for branch tips only when this stamp changed: every way a branch can
    move (a commit, a new branch, update-ref in the same instant, packing, deleting) must change it."""
    common = repo / ".git"

    def stamp() -> tuple[object, ...] | None:
        return git_adapter.refs_stamp(common)

    first = stamp()
    assert first is not None and first == stamp()  # nothing moved: the same stamp
    git(repo, "branch", "fleet/alpha")
    after_branch = stamp()
    assert after_branch != first
    write_files(repo, {"src/new.py": "X = 1\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more")
    after_commit = stamp()
    assert after_commit != after_branch
    head = git(repo, "rev-parse", "HEAD").strip()
    parent = git(repo, "rev-parse", "HEAD~1").strip()
    seen = {after_commit}
    for target in (head, parent, head):  # back and forth faster than a clock tick (alpha is at parent)
        git(repo, "update-ref", "refs/heads/fleet/alpha", target)
        now = stamp()
        assert now not in seen, target
        seen.add(now)
    git(repo, "pack-refs", "--all")
    packed = stamp()
    assert packed not in seen
    git(repo, "update-ref", "refs/heads/fleet/alpha", parent)  # a packed ref, moved: a loose file again
    moved = stamp()
    assert moved != packed
    git(repo, "branch", "-D", "fleet/alpha")
    assert stamp() != moved
