"""The one module that talks to git. Returns the project's models and plain values.

Reading never touches an agent's index or files: no staging, no stash, and GIT_OPTIONAL_LOCKS=0
so git does not even refresh the index opportunistically.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # a missing git is reported by require_git()

import git
from git.exc import GitCommandNotFound

from fleet_tui.errors import EnvironmentProblem, ExternalCommandFailed
from fleet_tui.models import FileChange, WorktreeReading

# `git diff` ignores GIT_OPTIONAL_LOCKS: when files are stat-dirty it takes index.lock and rewrites
# the agent's index ("refresh_index_quietly"), which can make the agent's own `git add` fail.
# diff.autoRefreshIndex=false stops that; numstat still leaves stat-only changes out.
READ_ENV = {
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "diff.autoRefreshIndex",
    "GIT_CONFIG_VALUE_0": "false",
}
INDEX_CLOCK_MARGIN = 0.05  # seconds; see refresh_indexes
BINARY_SNIFF = 8000  # git looks for a NUL byte in this many leading bytes


def require_git() -> None:
    if shutil.which("git") is None:
        raise EnvironmentProblem(
            "git is not installed (or not on PATH)",
            "install it, e.g. `sudo apt-get install git` or `brew install git`, then try again",
        )


def _run(
    cwd: Path | str,
    *args: str,
    env: dict[str, str] | None = None,
    strip: bool = True,
    ok_codes: tuple[int, ...] = (0,),
) -> str:
    """Run one git command in `cwd` and return its standard output."""
    folder = str(cwd)
    if not folder:
        raise ExternalCommandFailed(f"git {' '.join(args[:2])} failed: no folder to run it in")
    try:
        # `-C` and a fixed "/" as GitPython's own folder: GitPython expands `$VAR` and `~` in its
        # working dir and, when that folder does not exist, silently runs git in the current
        # one, so a repository under a folder named `$HOME-x` would have had git act elsewhere.
        code, out, err = git.Git("/").execute(
            ["git", "-C", folder, *args],
            env={**READ_ENV, **(env or {})},
            strip_newline_in_stdout=strip,
            with_extended_output=True,
            with_exceptions=False,
        )
    except GitCommandNotFound:
        require_git()
        raise
    if code not in ok_codes:
        raise ExternalCommandFailed(f"git {' '.join(args[:2])} failed: {str(err).strip()}")
    return str(out)


def _ok(cwd: Path | str, *args: str) -> bool:
    """True when the git command succeeds (for yes/no questions like `merge-base --is-ancestor`)."""
    try:
        _run(cwd, *args)
    except ExternalCommandFailed:
        return False
    return True


def repo_root(cwd: Path) -> Path:
    """The top of the main working tree that holds `cwd` (from a linked worktree too)."""
    require_git()
    try:
        common = _run(cwd, "rev-parse", "--path-format=absolute", "--git-common-dir")
    except (ExternalCommandFailed, OSError):
        raise EnvironmentProblem(
            f"{cwd} is not inside a git repository",
            "run fleet-tui from your repository, or `git init` one first",
        ) from None
    common_dir = Path(common)
    if common_dir.name == ".git":
        return common_dir.parent
    return Path(_run(cwd, "rev-parse", "--show-toplevel"))


def worktree_problem(common_dir: Path, path: Path) -> str | None:
    """Why `path` is not (any more) a linked worktree of the repository whose git dir is
    `common_dir`; None when it is. Read from the `.git` file alone (no git call): once that file
    is gone, git run in the folder would find an enclosing repository and act there instead."""
    marker = path / ".git"
    try:
        if not marker.is_file():
            return f"{path} is no longer a git worktree (its .git file is gone): run `fleet-tui up`"
        text = marker.read_text(encoding="utf-8", errors="replace").strip()
    except OSError as exc:
        return f"cannot read {marker}: {exc.strerror}"
    gitdir = Path(text.removeprefix("gitdir:").strip()) if text.startswith("gitdir:") else None
    if gitdir is None:
        return f"{marker} is not a worktree's .git file"
    if not gitdir.is_absolute():
        gitdir = (path / gitdir).resolve()
    if not gitdir.exists():
        return f"{path} is not a git repository any more: its .git file points at {gitdir}, which is gone"
    if gitdir.parent != (common_dir / "worktrees").resolve() and gitdir.parent != common_dir / "worktrees":
        return f"{path} is a worktree of another repository ({gitdir}), not of this one"
    return None


def git_common_dir(root: Path) -> Path:
    return Path(_run(root, "rev-parse", "--path-format=absolute", "--git-common-dir"))


def current_branch(root: Path) -> str | None:
    try:
        return _run(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    except ExternalCommandFailed:
        return None


def branch_exists(root: Path, branch: str) -> bool:
    return _ok(root, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}")


def rev_parse(root: Path, ref: str) -> str:
    return _run(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def has_commits(root: Path) -> bool:
    return _ok(root, "rev-parse", "--verify", "--quiet", "HEAD")


def init_repo(path: Path, branch: str, config: dict[str, str]) -> None:
    """A new repository in `path` on `branch`, with these local config values."""
    _run(path, "init", "-q")
    for key, value in config.items():
        _run(path, "config", key, value)
    _run(path, "symbolic-ref", "HEAD", f"refs/heads/{branch}")  # `init -b` needs git 2.28


def branch_tips(root: Path) -> str:
    """Every branch's tip, one `<sha> <ref>` line each: equal output means no branch moved."""
    return _run(root, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/")


def create_branch(root: Path, branch: str, start: str) -> None:
    _run(root, "branch", branch, start)


def worktrees(root: Path) -> dict[Path, str | None]:
    """Registered worktrees: path -> branch (None when detached)."""
    out = _run(root, "worktree", "list", "--porcelain")
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
    _run(root, "worktree", "add", *(["--force"] if missing_ok else []), str(path), branch)


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
        _run(path, "update-index", "-q", "--refresh", ok_codes=(0, 1))


def tracked_files(root: Path, ref: str) -> list[str]:
    out = _run(root, "ls-tree", "-r", "-z", "--name-only", ref, strip=False)
    return [p for p in out.split("\0") if p]


def tracked_sizes(root: Path, ref: str) -> dict[str, int]:
    """Every tracked file at `ref` with its size in bytes (one `ls-tree -l`; no checkout read)."""
    out = _run(root, "ls-tree", "-r", "-l", "-z", ref, strip=False)
    sizes: dict[str, int] = {}
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if path and len(parts) == 4 and parts[1] == "blob" and parts[3].isdigit():
            sizes[path] = int(parts[3])
    return sizes


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    return _ok(root, "merge-base", "--is-ancestor", ancestor, descendant)


def exclude_path(root: Path, pattern: str) -> bool:
    """Add `pattern` to .git/info/exclude unless present; True when it was added."""
    exclude = git_common_dir(root) / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    existing = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
    if pattern in existing:
        return False
    with exclude.open("a", encoding="utf-8") as fh:
        if existing and existing[-1] != "":
            fh.write("\n")
        fh.write(f"{pattern}\n")
    return True


def is_clean(path: Path) -> bool:
    """No staged, unstaged or untracked changes (ignored files do not count)."""
    return _run(path, "status", "--porcelain", "--untracked-files=normal") == ""


# -- reading a worktree ---------------------------------------------------------------------------


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


def count_new_file(path: Path) -> tuple[int | None, int | None]:
    """(added, removed) as `git diff --numstat` shows a new file; added is None if binary."""
    if path.is_symlink():
        return 1, 0
    try:
        data = path.read_bytes()
    except OSError:
        return 0, 0
    if b"\0" in data[:BINARY_SNIFF]:
        return None, None
    lines = data.count(b"\n")
    if data and not data.endswith(b"\n"):
        lines += 1
    return lines, 0


def untracked_files(path: Path) -> list[str]:
    out = _run(path, "ls-files", "--others", "--exclude-standard", "-z", strip=False)
    return [p for p in out.split("\0") if p and not p.endswith("/")]


def read_worktree(path: Path, base: str) -> WorktreeReading:
    """Every change of the worktree against its merge-base with `base`, and commits ahead."""
    try:
        numstat = _run(path, "diff", "--numstat", "-z", "--merge-base", base, strip=False)
        files = parse_numstat_z(numstat)
        for rel in untracked_files(path):
            added, removed = count_new_file(path / rel)
            files.append(FileChange(path=rel, added=added, removed=removed, untracked=True))
        ahead = int(_run(path, "rev-list", "--count", f"{base}..HEAD") or 0)
    except (ExternalCommandFailed, OSError) as exc:
        return WorktreeReading(error=str(exc))
    files.sort(key=lambda f: f.path)
    return WorktreeReading(files=tuple(files), commits_ahead=ahead)


def diff_text(path: Path, base: str, file: str, *, untracked: bool = False) -> str:
    """The unified diff of one file against the merge-base (untracked: against nothing)."""
    if untracked:  # `diff --no-index` exits 1 when the files differ
        return _run(path, "diff", "--no-index", "--", os.devnull, file, ok_codes=(0, 1))
    return _run(path, "diff", "--merge-base", base, "--", file)


def file_states(path: Path, base: str) -> dict[str, tuple[str, ...]]:
    """Where each changed file's change lives: "committed" (on the branch since the merge-base),
    "uncommitted" (differs from HEAD, staged or not), "untracked"; a file can be both of the first two.
    Read only, like `read_worktree`."""
    committed = _run(
        path, "diff", "--name-only", "-z", "--no-renames", "--merge-base", base, "HEAD", strip=False
    )
    uncommitted = _run(path, "diff", "--name-only", "-z", "--no-renames", "HEAD", strip=False)
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
    out = _run(path, "log", "--format=%h%x00%s", f"{base}..HEAD")
    return [Commit(*line.split("\0", 1)) for line in out.splitlines() if "\0" in line]


# -- steering: snapshots of work, merge-tree, merge, restore (engine/actions/) ----------------
# Everything here leaves an agent's index, branch and files alone unless its name says otherwise
# (`commit_all`, `restore_files`, `merge_no_ff`): snapshots are built in a temporary index.

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


@dataclass(frozen=True)
class MergeCheck:
    """What `git merge-tree --write-tree` says about merging `theirs` into `ours`."""

    clean: bool
    tree: str
    conflicts: tuple[str, ...]


def _split_z(out: str) -> list[str]:
    return [p for p in out.split("\0") if p]


def _with_temp_index(
    worktree: Path, fill: str | None
) -> tuple[tempfile.TemporaryDirectory[str], dict[str, str]]:
    """A temporary index (optionally filled with the tree `fill`) and the env that points at it."""
    holder = tempfile.TemporaryDirectory(prefix="fleet-index-")
    env = {"GIT_INDEX_FILE": str(Path(holder.name) / "index")}
    if fill:
        _run(worktree, "read-tree", fill, env=env)
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
        _run(worktree, "add", "-A", "--", ".", env=env)
        forced = _present(worktree, also)
        if forced:
            _run(worktree, "add", "-f", "--", *forced, env=env)
        # Files the agent staged on purpose although .gitignore matches them are work as well.
        staged = _split_z(
            _run(worktree, "diff", "--cached", "--name-only", "--diff-filter=A", "-z", "HEAD", strip=False)
        )
        present = [p for p in staged if (worktree / p).exists() or (worktree / p).is_symlink()]
        if present:
            _run(worktree, "add", "-f", "--", *present, env=env)
        return _run(worktree, "write-tree", env=env)


def work_commit(worktree: Path, message: str, also: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """A dangling commit of the worktree's uncommitted work on top of HEAD: (commit, HEAD).
    None when there is nothing uncommitted. No ref is written."""
    head = rev_parse(worktree, "HEAD")
    tree = work_tree(worktree, also)
    if tree == _run(worktree, "rev-parse", f"{head}^{{tree}}"):
        return None
    return _run(worktree, "commit-tree", tree, "-p", head, "-m", message), head


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
        return _run(worktree, "rev-parse", f"{ref}^{{tree}}")

    if newest and newest.parent == head and tree_of(newest.commit) == tree_of(commit):
        return None
    stamp = time.time() if when is None else when
    base_name = time.strftime("%Y%m%d-%H%M%S", time.gmtime(stamp)) + f"-{int(stamp * 1e6) % 1_000_000:06d}"
    for attempt in range(100):
        name = base_name if attempt == 0 else f"{base_name}-{attempt}"
        ref = f"{SNAPSHOT_REFS}/{agent}/{name}"
        # The empty old value makes update-ref refuse to overwrite an existing snapshot.
        if _ok(worktree, "update-ref", "-m", message, ref, commit, ""):
            return snapshot_info(worktree, ref)
    raise ExternalCommandFailed(f"could not write a snapshot ref for {agent}")


def snapshot_files(cwd: Path, commit: str) -> tuple[tuple[str, str], ...]:
    """(status, path) of what a snapshot changed against the HEAD it was taken on."""
    out = _run(
        cwd, "diff-tree", "-r", "--no-renames", "--name-status", "-z", f"{commit}^", commit, strip=False
    )
    tokens = _split_z(out)
    return tuple((tokens[i][0], tokens[i + 1]) for i in range(0, len(tokens) - 1, 2))


def snapshot_info(cwd: Path, ref: str, *, with_files: bool = True) -> WorkSnapshot:
    fmt = "%(objectname)%00%(creatordate:unix)%00%(subject)"
    line = _run(cwd, "for-each-ref", f"--format={fmt}", ref)
    commit, when, subject = line.split("\0", 2)
    parent = rev_parse(cwd, f"{commit}^")
    files = snapshot_files(cwd, commit) if with_files else ()
    return WorkSnapshot(ref, ref.rsplit("/", 1)[-1], commit, parent, float(when), subject, files)


def list_snapshots(cwd: Path, agent: str, *, with_files: bool = True) -> list[WorkSnapshot]:
    """An agent's snapshots, newest first."""
    out = _run(cwd, "for-each-ref", "--format=%(refname)", f"{SNAPSHOT_REFS}/{agent}/")
    refs = sorted(out.splitlines(), key=lambda r: r.rsplit("/", 1)[-1], reverse=True)
    return [snapshot_info(cwd, r, with_files=with_files) for r in refs if r]


def find_snapshot(cwd: Path, agent: str, name: str) -> WorkSnapshot | None:
    """A snapshot by its name, its full ref, or a unique prefix of either its name or commit."""
    snapshots = list_snapshots(cwd, agent, with_files=False)
    exact = [s for s in snapshots if name in (s.name, s.ref, s.commit)]
    found = exact or [s for s in snapshots if s.name.startswith(name) or s.commit.startswith(name)]
    return snapshot_info(cwd, found[0].ref) if len(found) == 1 else None


def changed_between(cwd: Path, old: str, new: str, paths: tuple[str, ...] = ()) -> set[str]:
    """Paths whose content or mode differs between two trees (or commits)."""
    out = _run(
        cwd, "diff-tree", "-r", "--no-renames", "--name-only", "-z", old, new, "--", *paths, strip=False
    )
    return set(_split_z(out))


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
            _run(worktree, "checkout-index", "-f", "--", *written, env=env)
    return sorted(deleted + written)


def uncommitted_files(worktree: Path) -> list[str]:
    """Modified, deleted, staged and untracked files (ignored ones excepted), read only."""
    out = _run(
        worktree, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", strip=False
    )
    return sorted({entry[3:] for entry in _split_z(out) if len(entry) > 3})


def merge_check(root: Path, ours: str, theirs: str) -> MergeCheck:
    """Would merging `theirs` into `ours` conflict? Writes objects only, never a ref or a file."""
    out = _run(
        root, "merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs,
        strip=False, ok_codes=(0, 1),
    )  # fmt: skip
    tokens = _split_z(out)
    if not tokens:
        raise ExternalCommandFailed(f"git merge-tree gave no result for {ours} and {theirs}")
    return MergeCheck(clean=len(tokens) == 1, tree=tokens[0], conflicts=tuple(dict.fromkeys(tokens[1:])))


def commit_tree(root: Path, tree: str, parents: tuple[str, ...], message: str) -> str:
    """A commit object (no ref points at it): used to simulate successive merges."""
    args: list[str] = []
    for parent in parents:
        args += ["-p", parent]
    return _run(root, "commit-tree", tree, *args, "-m", message)


def commit_all(worktree: Path, message: str) -> str:
    """Commit everything uncommitted in the worktree to its branch (this does use its index)."""
    _run(worktree, "add", "-A")
    _run(worktree, "commit", "-q", "--no-verify", "-m", message)
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


def git_dir(path: Path) -> Path:
    """The git dir of this checkout (a linked worktree has its own under the common dir)."""
    return Path(_run(path, "rev-parse", "--path-format=absolute", "--git-dir"))


def operation_in_progress(path: Path) -> str | None:
    """What git operation is under way in this checkout (merge, rebase, ...), if any."""
    gdir = git_dir(path)
    return next((what for name, what in IN_PROGRESS if (gdir / name).exists()), None)


def held_locks(path: Path, branches: tuple[str, ...] = ()) -> list[Path]:
    """Lock files held in this checkout's git dir, and on `branches` and packed-refs: whoever
    holds one (a crashed git, an editor's git, another merge) makes the next write fail."""
    gdir, common = git_dir(path), git_common_dir(path)
    candidates = [gdir / "index.lock", gdir / "HEAD.lock", common / "packed-refs.lock"]
    candidates += [common / "refs" / "heads" / f"{branch}.lock" for branch in branches]
    return [lock for lock in dict.fromkeys(candidates) if lock.exists()]


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
        index=_run(root, "ls-files", "--stage", "-z", strip=False),
        status=_run(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", strip=False),
        merge_state=merge_state,
    )


def _status_paths(status: str) -> set[str]:
    return {entry[3:] for entry in _split_z(status) if len(entry) > 3}


def restore_checkout(root: Path, before: CheckoutState, merged: str) -> list[str]:
    """Put the main checkout back as `before` after a failed merge of `merged`; what still differs.

    Everything the merge could have written is known: the files that differ between HEAD and
    `merged`. The preflight made sure none of them had changes or was an untracked file of the
    person's, so each such path that now differs is the merge's half-written output.
    """
    gdir = git_dir(root)
    if (gdir / "MERGE_HEAD").exists() and before.merge_state[0][1] is None:
        _ok(root, "merge", "--abort")
    if rev_parse(root, "HEAD") != before.head:
        _ok(root, "reset", "--merge", before.head)
    touched = changed_between(root, before.head, merged) | changed_between(root, merged, before.head)
    now = checkout_state(root)
    stray = sorted((_status_paths(now.status) - _status_paths(before.status)) & touched)
    if stray:
        tracked = set(_split_z(_run(root, "ls-tree", "-r", "-z", "--name-only", before.head, strip=False)))
        back = [p for p in stray if p in tracked]
        gone = [p for p in stray if p not in tracked]
        if back:  # truncated or half-merged files: the committed version again, index and file
            _ok(root, "checkout", before.head, "--", *back)
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
        _run(root, "merge", "--no-ff", "--no-edit", "-m", message, commit)
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


def ignored_files(worktree: Path) -> list[str]:
    """Gitignored files and folders in the worktree (a folder of them as one `name/`): what
    `git worktree remove` deletes without a word, and what no snapshot holds."""
    out = _run(
        worktree, "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z", strip=False
    )
    return sorted(_split_z(out))


def remove_worktree(root: Path, path: Path, *, force: bool = False) -> None:
    """Remove a worktree; `force` also when it has changes (the caller snapshotted them first)."""
    _run(root, "worktree", "remove", *(["--force"] if force else []), str(path))


def delete_branch(root: Path, branch: str) -> None:
    """Delete a branch outright; the caller checked that it is merged, or was told to anyway."""
    _run(root, "branch", "-D", branch)


def commit_files(root: Path, ref: str, limit: int) -> list[tuple[str, ...]]:
    """The files each of the last `limit` non-merge commits of `ref` changed, newest first.

    One `git log --name-only` call: the whole history the coupling analysis needs, without renames
    detection (a rename lists both paths, which is what co-change counting wants anyway)."""
    if limit <= 0:
        return []
    out = _run(
        root,
        "log",
        f"-n{limit}",
        "--no-merges",
        "--no-renames",
        "--format=%x1e",
        "--name-only",
        "-z",
        ref,
        "--",
        strip=False,
    )
    commits = []
    for chunk in out.split("\x1e")[1:]:
        commits.append(tuple(p for p in chunk.lstrip("\0\n").split("\0") if p and p != "\n"))
    return commits


IMPORT_LINE = r"^\s*(import|from)\s|require\(|import\("


def import_lines(root: Path, ref: str) -> list[tuple[str, str]]:
    """(path, line) of every line in `ref` that looks like an import (Python, JS/TS), one `git grep`."""
    out = _run(root, "grep", "-I", "-z", "-E", "-e", IMPORT_LINE, ref, "--", strip=False, ok_codes=(0, 1))
    found = []
    prefix = f"{ref}:"
    for line in out.splitlines():
        # -z: "ref:path\0line"; the ref carries a colon of its own
        name, _, text = line.partition("\0")
        found.append((name.removeprefix(prefix), text))
    return found


# -- the pipeline (engine/pipeline.py): verify on a merge result, reviewers, sync ---------------------


def branch_commits(root: Path) -> dict[str, str]:
    """Every local branch and the commit it points at, in one call."""
    out = _run(root, "for-each-ref", "--format=%(objectname) %(refname:short)", "refs/heads/")
    tips: dict[str, str] = {}
    for line in out.splitlines():
        commit, _, branch = line.partition(" ")
        if branch:
            tips[branch] = commit
    return tips


def add_detached_worktree(root: Path, path: Path, commit: str) -> None:
    """A throwaway worktree at `commit`, on no branch (for verify on a merge result)."""
    _run(root, "worktree", "add", "--detach", "--quiet", str(path), commit)


def drop_worktree(root: Path, path: Path) -> None:
    """Remove a throwaway worktree, whatever it holds, and forget it."""
    _ok(root, "worktree", "remove", "--force", "--force", str(path))
    shutil.rmtree(path, ignore_errors=True)
    _ok(root, "worktree", "prune")


def diff_since_merge_base(root: Path, base: str, tip: str) -> str:
    """What `tip` changed since it left `base` (the three-dot diff a reviewer reads)."""
    return _run(root, "diff", "--no-color", f"{base}...{tip}", strip=False)


def reset_worktree(worktree: Path, commit: str) -> None:
    """Point a worktree (and its branch) at `commit`, tracked files as there. Snapshot first:
    this drops uncommitted changes to tracked files (used for a reviewer's throwaway worktree)."""
    _run(worktree, "reset", "--quiet", "--hard", commit)


def merge_in_worktree(worktree: Path, ref: str, message: str) -> tuple[bool, str]:
    """`git merge --no-ff ref` in an agent's worktree; on failure abort, leaving it as it was."""
    before = rev_parse(worktree, "HEAD")
    try:
        _run(worktree, "merge", "--no-ff", "--no-edit", "-m", message, ref)
        return True, ""
    except ExternalCommandFailed as exc:
        _ok(worktree, "merge", "--abort")
        if rev_parse(worktree, "HEAD") != before:
            _run(worktree, "reset", "--merge", before)
        return False, exc.message


def fast_forward(worktree: Path, commit: str) -> None:
    """Move a clean worktree's branch forward to `commit` (refuses anything but a fast-forward)."""
    _run(worktree, "merge", "--ff-only", "--quiet", commit)
