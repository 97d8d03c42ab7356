"""Worktrees: listing, adding (and refreshing their fresh indexes), throwaway ones, removing."""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

from fleet_tui.adapters.git._cli import ok, run

INDEX_CLOCK_MARGIN = 0.05  # seconds; see refresh_indexes


def worktrees(root: Path) -> dict[Path, str | None]:
    """Registered worktrees: path -> branch (None when detached)."""
    out = run(root, "worktree", "list", "--porcelain")
    result: dict[Path, str | None] = {}
    current: Path | None = None
    for line in out.splitlines():
        if line.startswith("worktree "):
            current = Path(line.removeprefix("worktree "))
            result[current] = None
        elif line.startswith("branch ") and current is not None:
            result[current] = line.removeprefix("branch refs/heads/")
    return result


def add_worktree(root: Path, path: Path, branch: str, *, missing_ok: bool = False) -> None:
    """Check `branch` out at `path`; `missing_ok` re-adds a registered worktree deleted by hand."""
    run(root, "worktree", "add", *(["--force"] if missing_ok else []), str(path), branch)


def refresh_indexes(worktrees: list[Path]) -> None:
    """Refresh the index of freshly checked-out worktrees, once, before anyone else uses them.

    A checkout writes its index in the same second as the files, so git holds those entries
    "racily clean" and every `git diff` re-reads their contents (the monitor turns git's own
    refresh off, so that lasts until the agent runs git itself: ~3x the cost of a reading). The
    refresh only sticks once the clock has passed that second: wait for it (at most 1 s, once).
    """
    if not worktrees:
        return
    # The checkouts are all done by now. File times come from the kernel's coarse clock, a tick
    # or so behind time.time(): a margin past the second keeps the index out of it.
    time.sleep(math.floor(time.time()) + 1.0 + INDEX_CLOCK_MARGIN - time.time())
    for path in worktrees:
        run(path, "update-index", "-q", "--refresh", ok_codes=(0, 1))


def add_detached_worktree(root: Path, path: Path, commit: str) -> None:
    """A throwaway worktree at `commit`, on no branch (for verify on a merge result)."""
    run(root, "worktree", "add", "--detach", "--quiet", str(path), commit)


def drop_worktree(root: Path, path: Path) -> None:
    """Remove a throwaway worktree, whatever it holds, and forget it."""
    ok(root, "worktree", "remove", "--force", "--force", str(path))
    shutil.rmtree(path, ignore_errors=True)
    ok(root, "worktree", "prune")


def remove_worktree(root: Path, path: Path, *, force: bool = False) -> None:
    """Remove a worktree; `force` also when it has changes (the caller snapshotted them first)."""
    run(root, "worktree", "remove", *(["--force"] if force else []), str(path))


def reset_worktree(worktree: Path, commit: str) -> None:
    """Point a worktree (and its branch) at `commit`, tracked files as there. Snapshot first:
    this drops uncommitted changes to tracked files (used for a reviewer's throwaway worktree)."""
    run(worktree, "reset", "--quiet", "--hard", commit)
