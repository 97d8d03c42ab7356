"""The one module that talks to git. Returns the project's models and plain values.

Reading never touches an agent's index or files: no staging, no stash, and GIT_OPTIONAL_LOCKS=0
so git does not even refresh the index opportunistically.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # a missing git is reported by require_git()

import git
from git.exc import GitCommandNotFound

from fleet_tui.errors import EnvironmentProblem, ExternalCommandFailed
from fleet_tui.models import FileChange, WorktreeReading

READ_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
BINARY_SNIFF = 8000  # git looks for a NUL byte in this many leading bytes


def require_git() -> None:
    if shutil.which("git") is None:
        raise EnvironmentProblem(
            "git is not installed (or not on PATH)",
            "install it, e.g. `sudo apt-get install git` or `brew install git`, then try again",
        )


def run(
    cwd: Path | str,
    *args: str,
    env: dict[str, str] | None = None,
    strip: bool = True,
    ok_codes: tuple[int, ...] = (0,),
) -> str:
    """Run one git command in `cwd` and return its standard output."""
    try:
        code, out, err = git.Git(str(cwd)).execute(
            ["git", *args],
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


def ok(cwd: Path | str, *args: str) -> bool:
    """True when the git command succeeds (for yes/no questions like `merge-base --is-ancestor`)."""
    try:
        run(cwd, *args)
    except ExternalCommandFailed:
        return False
    return True


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


def git_common_dir(root: Path) -> Path:
    return Path(run(root, "rev-parse", "--path-format=absolute", "--git-common-dir"))


def current_branch(root: Path) -> str | None:
    try:
        return run(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    except ExternalCommandFailed:
        return None


def branch_exists(root: Path, branch: str) -> bool:
    return ok(root, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}")


def rev_parse(root: Path, ref: str) -> str:
    return run(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def create_branch(root: Path, branch: str, start: str) -> None:
    run(root, "branch", branch, start)


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


def add_worktree(root: Path, path: Path, branch: str) -> None:
    run(root, "worktree", "add", str(path), branch)


def prune_worktrees(root: Path) -> None:
    run(root, "worktree", "prune")


def tracked_files(root: Path, ref: str) -> list[str]:
    out = run(root, "ls-tree", "-r", "-z", "--name-only", ref, strip=False)
    return [p for p in out.split("\0") if p]


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


def is_clean(path: Path) -> bool:
    """No staged, unstaged or untracked changes (ignored files do not count)."""
    return run(path, "status", "--porcelain", "--untracked-files=normal") == ""


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


def commits_since(path: Path, base: str) -> list[tuple[str, str]]:
    """(short hash, subject) of the commits on HEAD not in base, newest first."""
    out = run(path, "log", "--format=%h%x00%s", f"{base}..HEAD")
    return [tuple(line.split("\0", 1)) for line in out.splitlines() if "\0" in line]  # type: ignore[misc]
