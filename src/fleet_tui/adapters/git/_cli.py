"""Running git: the one place GitPython is imported, and the environment every call gets.

Package-private: the rest of the package calls `run` and `ok`; nothing outside composes git arguments.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # a missing git is reported by require_git()

import git
from git.exc import GitCommandNotFound

from fleet_tui.errors import EnvironmentProblem, ExternalCommandFailed

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


def ok(cwd: Path | str, *args: str) -> bool:
    """True when the git command succeeds (for yes/no questions like `merge-base --is-ancestor`)."""
    try:
        run(cwd, *args)
    except ExternalCommandFailed:
        return False
    return True


def split_z(out: str) -> list[str]:
    return [p for p in out.split("\0") if p]
