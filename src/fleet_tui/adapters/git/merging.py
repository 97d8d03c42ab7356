"""Merging: would it conflict (`merge-tree`), is an operation or a lock in the way, the merge into
base with the main checkout put back as it was when it fails, merges and fast-forwards in a worktree."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from fleet_tui.adapters.git._cli import ok, run, split_z
from fleet_tui.adapters.git.reading import changed_between
from fleet_tui.adapters.git.repo import git_common_dir, git_dir, rev_parse
from fleet_tui.errors import ExternalCommandFailed


@dataclass(frozen=True)
class MergeCheck:
    """What `git merge-tree --write-tree` says about merging `theirs` into `ours`."""

    clean: bool
    tree: str
    conflicts: tuple[str, ...]


def merge_check(root: Path, ours: str, theirs: str) -> MergeCheck:
    """Would merging `theirs` into `ours` conflict? Writes objects only, never a ref or a file."""
    out = run(
        root, "merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs,
        strip=False, ok_codes=(0, 1),
    )  # fmt: skip
    tokens = split_z(out)
    if not tokens:
        raise ExternalCommandFailed(f"git merge-tree gave no result for {ours} and {theirs}")
    return MergeCheck(clean=len(tokens) == 1, tree=tokens[0], conflicts=tuple(dict.fromkeys(tokens[1:])))


def commit_tree(root: Path, tree: str, parents: tuple[str, ...], message: str) -> str:
    """A commit object (no ref points at it): used to simulate successive merges."""
    args: list[str] = []
    for parent in parents:
        args += ["-p", parent]
    return run(root, "commit-tree", tree, *args, "-m", message)


def commit_all(worktree: Path, message: str) -> str:
    """Commit everything uncommitted in the worktree to its branch (this does use its index)."""
    run(worktree, "add", "-A")
    run(worktree, "commit", "-q", "--no-verify", "-m", message)
    return rev_parse(worktree, "HEAD")


# Files git keeps in the git dir while an operation is under way (what `git status` calls "You are
# in the middle of ..."), and the lock files whose holder would make a merge fail half way.
IN_PROGRESS = (
    ("MERGE_HEAD", "a merge"),
    ("rebase-merge", "a rebase"),
    ("rebase-apply", "a rebase (or git am)"),
    ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ("REVERT_HEAD", "a revert"),
    ("BISECT_LOG", "a bisect"),
)


MERGE_STATE = ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE")


def operation_in_progress(path: Path) -> str | None:
    """What git operation is under way in this checkout (merge, rebase, ...), if any."""
    gdir = git_dir(path)
    return next((what for name, what in IN_PROGRESS if (gdir / name).exists()), None)


def held_locks(path: Path, branches: tuple[str, ...] = ()) -> list[Path]:
    """Lock files held in this checkout's git dir, and on `branches` and packed-refs: whoever
    holds one (a crashed git, an editor's git, another merge) makes the next write fail."""
    return list(held(lock_candidates(git_dir(path), git_common_dir(path), branches)))


def lock_candidates(
    gdir: Path, common: Path, branches: tuple[str, ...] = (), *, shared: bool = True
) -> tuple[Path, ...]:
    """The lock files a write in the checkout whose git dir is `gdir` needs: its index and HEAD,
    `branches`' refs, and (`shared`) packed-refs. Found with no git call: cheap to look at often."""
    candidates = [gdir / "index.lock", gdir / "HEAD.lock"]
    if shared:
        candidates.append(common / "packed-refs.lock")
    candidates += [common / "refs" / "heads" / f"{branch}.lock" for branch in branches]
    return tuple(dict.fromkeys(candidates))


def held(candidates: tuple[Path, ...]) -> tuple[Path, ...]:
    """Those of the lock files that exist now (a stat each)."""
    return tuple(lock for lock in candidates if lock.exists())


@dataclass(frozen=True)
class CheckoutState:
    """What a failed merge must leave as it found it: HEAD, the index, the files, the merge state."""

    head: str
    index: str  # `ls-files --stage`: the index's content, not its stat cache
    status: str  # `status --porcelain`, untracked files included
    merge_state: tuple[tuple[str, bytes | None], ...]

    def differences(self, other: CheckoutState) -> list[str]:
        found = []
        if self.head != other.head:
            found.append(f"HEAD is {other.head[:10]}, was {self.head[:10]}")
        if self.index != other.index:
            found.append("the index differs")
        if self.status != other.status:
            found.append("files in the checkout differ")
        for (name, before), (_, after) in zip(self.merge_state, other.merge_state, strict=True):
            if before != after:
                found.append(f"{name} {'is left over' if before is None else 'changed'}")
        return found


def checkout_state(root: Path) -> CheckoutState:
    gdir = git_dir(root)
    merge_state = tuple(
        (name, (gdir / name).read_bytes() if (gdir / name).is_file() else None) for name in MERGE_STATE
    )
    return CheckoutState(
        head=rev_parse(root, "HEAD"),
        index=run(root, "ls-files", "--stage", "-z", strip=False),
        status=run(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", strip=False),
        merge_state=merge_state,
    )


def _status_paths(status: str) -> set[str]:
    return {entry[3:] for entry in split_z(status) if len(entry) > 3}


def restore_checkout(root: Path, before: CheckoutState, merged: str) -> list[str]:
    """Put the main checkout back as `before` after a failed merge of `merged`; what still differs.

    Everything the merge could have written is known: the files that differ between HEAD and
    `merged`. The preflight made sure none of them had changes or was an untracked file of the
    person's, so each such path that now differs is the merge's half-written output.
    """
    gdir = git_dir(root)
    if (gdir / "MERGE_HEAD").exists() and before.merge_state[0][1] is None:
        ok(root, "merge", "--abort")
    if rev_parse(root, "HEAD") != before.head:
        ok(root, "reset", "--merge", before.head)
    touched = changed_between(root, before.head, merged) | changed_between(root, merged, before.head)
    now = checkout_state(root)
    stray = sorted((_status_paths(now.status) - _status_paths(before.status)) & touched)
    if stray:
        tracked = set(split_z(run(root, "ls-tree", "-r", "-z", "--name-only", before.head, strip=False)))
        back = [p for p in stray if p in tracked]
        gone = [p for p in stray if p not in tracked]
        if back:  # truncated or half-merged files: the committed version again, index and file
            ok(root, "checkout", before.head, "--", *back)
        for rel in gone:  # files the merge began to add, and the folders made for them
            target = root / rel
            if target.is_file() or target.is_symlink():
                with contextlib.suppress(OSError):
                    target.unlink()
                    for folder in target.parents:
                        if folder == root or any(folder.iterdir()):
                            break
                        folder.rmdir()
    for name, content in before.merge_state:
        target = gdir / name
        with contextlib.suppress(OSError):
            if content is None:
                target.unlink(missing_ok=True)
            elif not target.exists() or target.read_bytes() != content:
                target.write_bytes(content)
    return before.differences(checkout_state(root))


def merge_no_ff(root: Path, commit: str, message: str) -> tuple[bool, str]:
    """`git merge --no-ff` in the main checkout. On failure the checkout is put back as it was
    (HEAD, index, files, MERGE_HEAD/MERGE_MSG/AUTO_MERGE); when that is not possible, raises
    ExternalCommandFailed saying what differs and what to run.

    Returns (merged, git's output when it failed).
    """
    before = checkout_state(root)
    try:
        run(root, "merge", "--no-ff", "--no-edit", "-m", message, commit)
        return True, ""
    except ExternalCommandFailed as exc:
        left = restore_checkout(root, before, commit)
        if left:
            raise ExternalCommandFailed(
                f"git merge failed ({exc.message}) and the main checkout {root} could not be put "
                f"back as it was: {'; '.join(left)}. No commit was lost: HEAD was {before.head[:12]}",
                undo_hint(root, before.head),
            ) from None
        return False, exc.message


def undo_hint(root: Path, head: str) -> str:
    """What a person runs when a failed merge could not be undone automatically."""
    return (
        f"once the cause is fixed (a held lock, a full disk): `git -C {root} merge --abort`, then "
        f"`git -C {root} reset --hard {head[:12]}` (the checkout had no uncommitted changes before "
        f"the merge), and `git -C {root} status` to see what is left"
    )


def merge_in_worktree(worktree: Path, ref: str, message: str) -> tuple[bool, str]:
    """`git merge --no-ff ref` in an agent's worktree; on failure abort, leaving it as it was."""
    before = rev_parse(worktree, "HEAD")
    try:
        run(worktree, "merge", "--no-ff", "--no-edit", "-m", message, ref)
        return True, ""
    except ExternalCommandFailed as exc:
        ok(worktree, "merge", "--abort")
        if rev_parse(worktree, "HEAD") != before:
            run(worktree, "reset", "--merge", before)
        return False, exc.message


def fast_forward(worktree: Path, commit: str) -> None:
    """Move a clean worktree's branch forward to `commit` (refuses anything but a fast-forward)."""
    run(worktree, "merge", "--ff-only", "--quiet", commit)
