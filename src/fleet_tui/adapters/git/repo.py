"""The repository: its root and git dirs, branches, refs, and what a ref holds (files, sizes,
history, import lines)."""

from __future__ import annotations

import os
from pathlib import Path

from fleet_tui.adapters.git._cli import ok, require_git, run
from fleet_tui.errors import EnvironmentProblem, ExternalCommandFailed


def repo_root(cwd: Path) -> Path:
    """The top of the main working tree that holds `cwd` (from a linked worktree too)."""
    require_git()
    try:
        common = run(cwd, "rev-parse", "--path-format=absolute", "--git-common-dir")
    except (ExternalCommandFailed, OSError):
        raise EnvironmentProblem(
            f"{cwd} is not inside a git repository",
            "run fleet-tui from your repository, or `git init` one first",
        ) from None
    common_dir = Path(common)
    if common_dir.name == ".git":
        return common_dir.parent
    return Path(run(cwd, "rev-parse", "--show-toplevel"))


def worktree_problem(common_dir: Path, path: Path) -> str | None:
    """Why `path` is not (any more) a linked worktree of the repository whose git dir is
    `common_dir`; None when it is. Read from the `.git` file alone (no git call): once that file
    is gone, git run in the folder would find an enclosing repository and act there instead."""
    marker = path / ".git"
    try:
        if not marker.is_file():
            return f"{path} is no longer a git worktree (its .git file is gone): run `fleet-tui up`"
        gitdir = linked_git_dir(path)
    except OSError as exc:
        return f"cannot read {marker}: {exc.strerror}"
    if gitdir is None:
        return f"{marker} is not a worktree's .git file"
    if not gitdir.exists():
        return f"{path} is not a git repository any more: its .git file points at {gitdir}, which is gone"
    if gitdir.parent != (common_dir / "worktrees").resolve() and gitdir.parent != common_dir / "worktrees":
        return f"{path} is a worktree of another repository ({gitdir}), not of this one"
    return None


def linked_git_dir(path: Path) -> Path | None:
    """The git dir a linked worktree's `.git` file points at (no git call); None when that file
    does not name one. OSError when the file cannot be read."""
    text = (path / ".git").read_text(encoding="utf-8", errors="replace").strip()
    if not text.startswith("gitdir:"):
        return None
    gitdir = Path(text.removeprefix("gitdir:").strip())
    return gitdir if gitdir.is_absolute() else (path / gitdir).resolve()


def git_common_dir(root: Path) -> Path:
    return Path(run(root, "rev-parse", "--path-format=absolute", "--git-common-dir"))


def git_dir(path: Path) -> Path:
    """The git dir of this checkout (a linked worktree has its own under the common dir)."""
    return Path(run(path, "rev-parse", "--path-format=absolute", "--git-dir"))


def current_branch(root: Path) -> str | None:
    try:
        return run(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    except ExternalCommandFailed:
        return None


def branch_exists(root: Path, branch: str) -> bool:
    return ok(root, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}")


def rev_parse(root: Path, ref: str) -> str:
    return run(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def has_commits(root: Path) -> bool:
    return ok(root, "rev-parse", "--verify", "--quiet", "HEAD")


def init_repo(path: Path, branch: str, config: dict[str, str]) -> None:
    """A new repository in `path` on `branch`, with these local config values."""
    run(path, "init", "-q")
    for key, value in config.items():
        run(path, "config", key, value)
    run(path, "symbolic-ref", "HEAD", f"refs/heads/{branch}")  # `init -b` needs git 2.28


def branch_tips(root: Path) -> str:
    """Every branch's tip, one `<sha> <ref>` line each: equal output means no branch moved."""
    return run(root, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/")


def branch_commits(root: Path) -> dict[str, str]:
    """Every local branch and the commit it points at, in one call."""
    out = run(root, "for-each-ref", "--format=%(objectname) %(refname:short)", "refs/heads/")
    tips: dict[str, str] = {}
    for line in out.splitlines():
        commit, _, branch = line.partition(" ")
        if branch:
            tips[branch] = commit
    return tips


def refs_stamp(common_dir: Path) -> tuple[object, ...] | None:
    """How the files behind the local branches look (packed-refs and every loose ref under
    refs/heads). Git moves a ref by renaming a new file over it (a new inode, a new mtime), so equal
    stamps mean equal branch tips, for a few stats instead of a process. None where refs are not
    plain files (the reftable format) or cannot be read: the caller then asks git."""
    heads = common_dir / "refs" / "heads"
    try:
        if (common_dir / "reftable").exists() or not heads.is_dir():
            return None
        try:
            st = (common_dir / "packed-refs").stat()
            packed: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            packed = None
        loose: list[tuple[str, int, int, int]] = []
        folders = [heads]
        while folders:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(Path(entry.path))
                        continue
                    st = entry.stat(follow_symlinks=False)
                    loose.append((entry.path, st.st_ino, st.st_mtime_ns, st.st_size))
    except OSError:
        return None
    return packed, tuple(sorted(loose))


def create_branch(root: Path, branch: str, start: str) -> None:
    run(root, "branch", branch, start)


def delete_branch(root: Path, branch: str) -> None:
    """Delete a branch outright; the caller checked that it is merged, or was told to anyway."""
    run(root, "branch", "-D", branch)


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    return ok(root, "merge-base", "--is-ancestor", ancestor, descendant)


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


def tracked_files(root: Path, ref: str) -> list[str]:
    out = run(root, "ls-tree", "-r", "-z", "--name-only", ref, strip=False)
    return [p for p in out.split("\0") if p]


def tracked_sizes(root: Path, ref: str) -> dict[str, int]:
    """Every tracked file at `ref` with its size in bytes (one `ls-tree -l`; no checkout read)."""
    out = run(root, "ls-tree", "-r", "-l", "-z", ref, strip=False)
    sizes: dict[str, int] = {}
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if path and len(parts) == 4 and parts[1] == "blob" and parts[3].isdigit():
            sizes[path] = int(parts[3])
    return sizes


def commit_files(root: Path, ref: str, limit: int) -> list[tuple[str, ...]]:
    """The files each of the last `limit` non-merge commits of `ref` changed, newest first.

    One `git log --name-only` call: the whole history the coupling analysis needs, without renames
    detection (a rename lists both paths, which is what co-change counting wants anyway)."""
    if limit <= 0:
        return []
    out = run(
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
    out = run(root, "grep", "-I", "-z", "-E", "-e", IMPORT_LINE, ref, "--", strip=False, ok_codes=(0, 1))
    found = []
    prefix = f"{ref}:"
    for line in out.splitlines():
        # -z: "ref:path\0line"; the ref carries a colon of its own
        name, _, text = line.partition("\0")
        found.append((name.removeprefix(prefix), text))
    return found
