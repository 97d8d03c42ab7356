"""Worktrees: listing, adding (and refreshing their fresh indexes), throwaway ones, removing."""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fleet_tui.adapters.git._cli import ok, run
from fleet_tui.errors import FleetError

INDEX_CLOCK_MARGIN = 0.05  # seconds; see refresh_indexes
# Checkouts at once: `up` of 100 agents spent most of its time in one `git worktree add` after
# another, each writing 2,000 files. Two `worktree add` must not run at once (one reads every
# entry of .git/worktrees, and fails on the one the other is making), so the worktrees are
# registered one by one without files, then filled in this many at a time (each its own index).
ADD_WORKERS = 4


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


def add_worktrees(
    root: Path, adds: Sequence[tuple[Path, str, bool]], workers: int = ADD_WORKERS
) -> list[FleetError | None]:
    """`add_worktree` for each (path, branch, missing_ok), a few at a time; every add is tried,
    and the failure of each (None: made) comes back in the order given."""

    failures: list[FleetError | None] = []
    for path, branch, missing_ok in adds:
        try:
            run(root, "worktree", "add", "--no-checkout", "--quiet",
                *(["--force"] if missing_ok else []), str(path), branch)  # fmt: skip
        except FleetError as exc:
            failures.append(exc)
        else:
            failures.append(None)

    def check_out(path: Path) -> FleetError | None:
        try:
            # Fills the index and the files of a worktree registered a moment ago with neither:
            # there is nothing in it to lose (its folder did not exist before this `up`).
            run(path, "reset", "--hard", "--quiet", "HEAD")
        except FleetError as exc:
            return exc
        return None

    made = [path for (path, _, _), failure in zip(adds, failures, strict=True) if failure is None]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fleet-worktree") as pool:
        checked = dict(zip(made, pool.map(check_out, made), strict=True))
    return [failure or checked[path] for (path, _, _), failure in zip(adds, failures, strict=True)]


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

    def refresh(path: Path) -> None:
        run(path, "update-index", "-q", "--refresh", ok_codes=(0, 1))

    with ThreadPoolExecutor(max_workers=ADD_WORKERS, thread_name_prefix="fleet-index") as pool:
        list(pool.map(refresh, worktrees))  # each its own index; re-raises the first failure


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
