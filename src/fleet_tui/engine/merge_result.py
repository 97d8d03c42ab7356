"""Verify on the merge result: base's current tip merged with an agent's branch, in a throwaway
worktree that is removed afterwards. A branch that passes on its own can fail once merged with
what base gained meanwhile; this is where that shows, before anything is merged.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from fleet_tui.adapters import git, processes
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.launcher import agent_path

VERIFY_TIMEOUT = 600.0
# Which verify a process belongs to, in its environment and its throwaway worktree's name: the
# merge preflight's (the person waits on it) or the pipeline's gates' (in the background). Cancelling
# one, or finding its processes, must never touch the other.
VERIFY_MARK = "FLEET_TUI_VERIFY"
PURPOSES = ("preflight", "gate")
OUTPUT_LIMIT = 20_000  # characters of verify output kept (the end: where failures are)


def run_command(
    command: str, cwd: Path, env: dict[str, str], timeout: float, cancel: Callable[[], bool] | None = None
) -> tuple[int | None, str]:
    """Run a shell command with the agents' PATH, in a process group of its own (ended whole on a
    timeout): (exit code, or None on a timeout; the end of its output)."""
    full_env = {**os.environ, "PATH": agent_path(), **env}
    return processes.run_command(command, cwd, full_env, timeout, limit=OUTPUT_LIMIT, cancel=cancel)


def verify_merge_result(
    fleet: Fleet,
    name: str,
    base_head: str,
    tip: str,
    tree: str,
    timeout: float = VERIFY_TIMEOUT,
    cancel: Callable[[], bool] | None = None,
    *,
    purpose: str,
) -> tuple[int | None, str]:
    """Run the agent's verify on base's tip merged with `tip` (whose merged tree is `tree`), in a
    throwaway worktree (`fleet-verify-<purpose>-<name>-*`) that is removed afterwards, whatever
    happens. `purpose`: "preflight" or "gate", also in the verify's environment (VERIFY_MARK)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown verify purpose {purpose!r}")
    agent = fleet.agent(name)
    assert agent.verify is not None
    commit = git.commit_tree(fleet.root, tree, (base_head, tip), f"fleet-tui: verify {agent.branch} merged")
    holder = Path(tempfile.mkdtemp(prefix=f"fleet-verify-{purpose}-{name}-"))
    path = holder / name
    try:
        git.add_detached_worktree(fleet.root, path, commit)
        env = {**agent.env, VERIFY_MARK: f"{purpose}:{name}"}
        return run_command(agent.verify, path, env, timeout, cancel)
    finally:
        git.drop_worktree(fleet.root, path)
        if holder.exists() and not any(holder.iterdir()):
            holder.rmdir()
