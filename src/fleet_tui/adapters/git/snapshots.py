"""Snapshots of work: an agent's uncommitted work saved under refs/fleet/snapshots/, listed, found
and restored. Built in a temporary index: the agent's own index, branch and files are left alone
(`restore_files` excepted, which writes the files back)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fleet_tui.adapters.git._cli import ok, run, split_z
from fleet_tui.adapters.git.reading import changed_between
from fleet_tui.adapters.git.repo import rev_parse
from fleet_tui.errors import ExternalCommandFailed

SNAPSHOT_REFS = "refs/fleet/snapshots"


@dataclass(frozen=True)
class WorkSnapshot:
    """One saved state of an agent's uncommitted work: a commit on top of the HEAD it was taken on."""

    ref: str
    name: str  # the last part of the ref: a sortable timestamp
    commit: str
    parent: str
    taken_at: float
    subject: str
    files: tuple[tuple[str, str], ...] = ()  # (A|M|D|T, path) against `parent`


def _with_temp_index(
    worktree: Path, fill: str | None
) -> tuple[tempfile.TemporaryDirectory[str], dict[str, str]]:
    """A temporary index (optionally filled with the tree `fill`) and the env that points at it."""
    holder = tempfile.TemporaryDirectory(prefix="fleet-index-")
    env = {"GIT_INDEX_FILE": str(Path(holder.name) / "index")}
    if fill:
        run(worktree, "read-tree", fill, env=env)
    return holder, env


def _present(worktree: Path, paths: tuple[str, ...]) -> list[str]:
    return [p for p in paths if (worktree / p).is_file() or (worktree / p).is_symlink()]


def work_tree(worktree: Path, also: tuple[str, ...] = ()) -> str:
    """The tree of the worktree as it is now (tracked changes, deletions, untracked files, binary
    too; ignored files are not work), built in a temporary index: the agent's own index is untouched.
    `also`: paths taken even when ignored (those a restore would overwrite).
    """
    holder, env = _with_temp_index(worktree, "HEAD")
    with holder:
        run(worktree, "add", "-A", "--", ".", env=env)
        forced = _present(worktree, also)
        if forced:
            run(worktree, "add", "-f", "--", *forced, env=env)
        # Files the agent staged on purpose although .gitignore matches them are work as well.
        staged = split_z(
            run(worktree, "diff", "--cached", "--name-only", "--diff-filter=A", "-z", "HEAD", strip=False)
        )
        present = [p for p in staged if (worktree / p).exists() or (worktree / p).is_symlink()]
        if present:
            run(worktree, "add", "-f", "--", *present, env=env)
        return run(worktree, "write-tree", env=env)


def work_commit(worktree: Path, message: str, also: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """A dangling commit of the worktree's uncommitted work on top of HEAD: (commit, HEAD).
    None when there is nothing uncommitted. No ref is written."""
    head = rev_parse(worktree, "HEAD")
    tree = work_tree(worktree, also)
    if tree == run(worktree, "rev-parse", f"{head}^{{tree}}"):
        return None
    return run(worktree, "commit-tree", tree, "-p", head, "-m", message), head


def save_snapshot(
    worktree: Path, agent: str, message: str, *, when: float | None = None, also: tuple[str, ...] = ()
) -> WorkSnapshot | None:
    """Save the worktree's uncommitted work under refs/fleet/snapshots/<agent>/<timestamp>.

    None when there is nothing uncommitted, or when the newest snapshot already holds exactly this.
    """
    made = work_commit(worktree, message, also)
    if made is None:
        return None
    commit, head = made
    newest = next(iter(list_snapshots(worktree, agent, with_files=False)), None)

    def tree_of(ref: str) -> str:
        return run(worktree, "rev-parse", f"{ref}^{{tree}}")

    if newest and newest.parent == head and tree_of(newest.commit) == tree_of(commit):
        return None
    stamp = time.time() if when is None else when
    base_name = time.strftime("%Y%m%d-%H%M%S", time.gmtime(stamp)) + f"-{int(stamp * 1e6) % 1_000_000:06d}"
    for attempt in range(100):
        name = base_name if attempt == 0 else f"{base_name}-{attempt}"
        ref = f"{SNAPSHOT_REFS}/{agent}/{name}"
        # The empty old value makes update-ref refuse to overwrite an existing snapshot.
        if ok(worktree, "update-ref", "-m", message, ref, commit, ""):
            return snapshot_info(worktree, ref)
    raise ExternalCommandFailed(f"could not write a snapshot ref for {agent}")


def snapshot_files(cwd: Path, commit: str) -> tuple[tuple[str, str], ...]:
    """(status, path) of what a snapshot changed against the HEAD it was taken on."""
    out = run(
        cwd, "diff-tree", "-r", "--no-renames", "--name-status", "-z", f"{commit}^", commit, strip=False
    )
    tokens = split_z(out)
    return tuple((tokens[i][0], tokens[i + 1]) for i in range(0, len(tokens) - 1, 2))


def snapshot_info(cwd: Path, ref: str, *, with_files: bool = True) -> WorkSnapshot:
    fmt = "%(objectname)%00%(creatordate:unix)%00%(subject)"
    line = run(cwd, "for-each-ref", f"--format={fmt}", ref)
    commit, when, subject = line.split("\0", 2)
    parent = rev_parse(cwd, f"{commit}^")
    files = snapshot_files(cwd, commit) if with_files else ()
    return WorkSnapshot(ref, ref.rsplit("/", 1)[-1], commit, parent, float(when), subject, files)


def list_snapshots(cwd: Path, agent: str, *, with_files: bool = True) -> list[WorkSnapshot]:
    """An agent's snapshots, newest first."""
    out = run(cwd, "for-each-ref", "--format=%(refname)", f"{SNAPSHOT_REFS}/{agent}/")
    refs = sorted(out.splitlines(), key=lambda r: r.rsplit("/", 1)[-1], reverse=True)
    return [snapshot_info(cwd, r, with_files=with_files) for r in refs if r]


def find_snapshot(cwd: Path, agent: str, name: str) -> WorkSnapshot | None:
    """A snapshot by its name, its full ref, or a unique prefix of either its name or commit."""
    snapshots = list_snapshots(cwd, agent, with_files=False)
    exact = [s for s in snapshots if name in (s.name, s.ref, s.commit)]
    found = exact or [s for s in snapshots if s.name.startswith(name) or s.commit.startswith(name)]
    return snapshot_info(cwd, found[0].ref) if len(found) == 1 else None


def restore_conflicts(worktree: Path, snapshot: WorkSnapshot) -> list[str]:
    """Files a restore would overwrite although they hold uncommitted changes that differ from the
    snapshot's version (newer work than the snapshot)."""
    involved = tuple(p for _, p in snapshot.files)
    if not involved:
        return []
    # Ignored files count too: a file the snapshot has that is now gitignored is still someone's
    # newer content, and the restore would overwrite it.
    current = work_tree(worktree, also=involved)
    uncommitted = changed_between(worktree, "HEAD", current, involved)
    differs = changed_between(worktree, current, snapshot.commit, involved)
    return sorted(uncommitted & differs)


def restore_files(worktree: Path, snapshot: WorkSnapshot) -> list[str]:
    """Bring a snapshot's files back into the worktree (its index untouched); returns what changed."""
    involved = tuple(p for _, p in snapshot.files)
    if not involved:
        return []
    wanted = changed_between(worktree, work_tree(worktree, also=involved), snapshot.commit, involved)
    deleted = sorted(p for s, p in snapshot.files if s == "D" and p in wanted)
    written = sorted(p for s, p in snapshot.files if s != "D" and p in wanted)
    for rel in deleted:
        target = worktree / rel
        if target.is_symlink() or target.is_file():
            target.unlink()
    if written:
        holder, env = _with_temp_index(worktree, snapshot.commit)
        with holder:
            # A file where the snapshot wants a folder, or the reverse, must go first.
            for rel in written:
                target = worktree / rel
                if target.is_dir() and not target.is_symlink():
                    raise ExternalCommandFailed(f"{target} is a folder; the snapshot has a file there")
            run(worktree, "checkout-index", "-f", "--", *written, env=env)
    return sorted(deleted + written)
