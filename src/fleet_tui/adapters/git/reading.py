"""Reading a worktree without touching it: its changes against the merge-base, one file's diff,
where each change lives, its commits, what is uncommitted or ignored.

Reading never touches an agent's index or files: no staging, no stash, and GIT_OPTIONAL_LOCKS=0
so git does not even refresh the index opportunistically.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

from fleet_tui.adapters.git._cli import run, split_z
from fleet_tui.errors import ExternalCommandFailed
from fleet_tui.models import FileChange, WorktreeReading

BINARY_SNIFF = 8000  # git looks for a NUL byte in this many leading bytes


def parse_numstat_z(out: str) -> list[FileChange]:
    """Parse `git diff --numstat -z` output, renames included."""
    tokens = out.split("\0")
    changes: list[FileChange] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token:
            continue
        added_s, removed_s, path = token.split("\t", 2)
        old_path: str | None = None
        if path == "" and i + 1 < len(tokens):
            old_path, path = tokens[i], tokens[i + 1]
            i += 2
        added = None if added_s == "-" else int(added_s)
        removed = None if removed_s == "-" else int(removed_s)
        changes.append(FileChange(path=path, added=added, removed=removed, old_path=old_path))
    return changes


# Line counts of untracked files, by what `lstat` says of them: a worktree with 23,000 untracked
# files (a build's output nobody ignored) is then re-read with a stat per file, not a read per file.
_COUNTED: dict[tuple[str, int, int, int, int], tuple[int | None, int | None]] = {}
COUNTED_MAX = 200_000  # entries kept before the cache starts afresh


def count_new_file(path: Path) -> tuple[int | None, int | None]:
    """(added, removed) as `git diff --numstat` shows a new file; added is None if binary."""
    try:
        st = os.lstat(path)
    except OSError:
        return 0, 0
    if stat.S_ISLNK(st.st_mode):
        return 1, 0
    key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    known = _COUNTED.get(key)
    if known is not None:
        return known
    try:
        data = path.read_bytes()
    except OSError:
        return 0, 0
    counted: tuple[int | None, int | None]
    if b"\0" in data[:BINARY_SNIFF]:
        counted = (None, None)
    else:
        lines = data.count(b"\n")
        counted = (lines + 1 if data and not data.endswith(b"\n") else lines, 0)
    if len(_COUNTED) >= COUNTED_MAX:
        _COUNTED.clear()
    _COUNTED[key] = counted
    return counted


def untracked_files(path: Path) -> list[str]:
    out = run(path, "ls-files", "--others", "--exclude-standard", "-z", strip=False)
    return [p for p in out.split("\0") if p and not p.endswith("/")]


def read_worktree(path: Path, base: str) -> WorktreeReading:
    """Every change of the worktree against its merge-base with `base`, and commits ahead."""
    try:
        numstat = run(path, "diff", "--numstat", "-z", "--merge-base", base, strip=False)
        files = parse_numstat_z(numstat)
        for rel in untracked_files(path):
            added, removed = count_new_file(path / rel)
            files.append(FileChange(path=rel, added=added, removed=removed, untracked=True))
        ahead = int(run(path, "rev-list", "--count", f"{base}..HEAD") or 0)
    except (ExternalCommandFailed, OSError) as exc:
        return WorktreeReading(error=str(exc))
    files.sort(key=lambda f: f.path)
    return WorktreeReading(files=tuple(files), commits_ahead=ahead)


def diff_text(path: Path, base: str, file: str, *, untracked: bool = False) -> str:
    """The unified diff of one file against the merge-base (untracked: against nothing)."""
    if untracked:  # `diff --no-index` exits 1 when the files differ
        return run(path, "diff", "--no-index", "--", os.devnull, file, ok_codes=(0, 1))
    return run(path, "diff", "--merge-base", base, "--", file)


def file_states(path: Path, base: str) -> dict[str, tuple[str, ...]]:
    """Where each changed file's change lives: "committed" (on the branch since the merge-base),
    "uncommitted" (differs from HEAD, staged or not), "untracked"; a file can be both of the first two.
    Read only, like `read_worktree`."""
    committed = run(
        path, "diff", "--name-only", "-z", "--no-renames", "--merge-base", base, "HEAD", strip=False
    )
    uncommitted = run(path, "diff", "--name-only", "-z", "--no-renames", "HEAD", strip=False)
    states: dict[str, list[str]] = {}
    for state, out in (("committed", committed), ("uncommitted", uncommitted)):
        for rel in out.split("\0"):
            if rel:
                states.setdefault(rel, []).append(state)
    for rel in untracked_files(path):
        states.setdefault(rel, []).append("untracked")
    return {rel: tuple(found) for rel, found in states.items()}


class Commit(NamedTuple):
    short: str  # the abbreviated hash
    subject: str


def commits_since(path: Path, base: str) -> list[Commit]:
    """The commits on HEAD not in base, newest first."""
    out = run(path, "log", "--format=%h%x00%s", f"{base}..HEAD")
    return [Commit(*line.split("\0", 1)) for line in out.splitlines() if "\0" in line]


def uncommitted_files(worktree: Path) -> list[str]:
    """Modified, deleted, staged and untracked files (ignored ones excepted), read only."""
    out = run(
        worktree, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", strip=False
    )
    return sorted({entry[3:] for entry in split_z(out) if len(entry) > 3})


def is_clean(path: Path) -> bool:
    """No staged, unstaged or untracked changes (ignored files do not count)."""
    return run(path, "status", "--porcelain", "--untracked-files=normal") == ""


def ignored_files(worktree: Path) -> list[str]:
    """Gitignored files and folders in the worktree (a folder of them as one `name/`): what
    `git worktree remove` deletes without a word, and what no snapshot holds."""
    out = run(
        worktree, "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z", strip=False
    )
    return sorted(split_z(out))


def changed_between(cwd: Path, old: str, new: str, paths: tuple[str, ...] = ()) -> set[str]:
    """Paths whose content or mode differs between two trees (or commits)."""
    out = run(
        cwd, "diff-tree", "-r", "--no-renames", "--name-only", "-z", old, new, "--", *paths, strip=False
    )
    return set(split_z(out))


def diff_since_merge_base(root: Path, base: str, tip: str) -> str:
    """What `tip` changed since it left `base` (the three-dot diff a reviewer reads)."""
    return run(root, "diff", "--no-color", f"{base}...{tip}", strip=False)
