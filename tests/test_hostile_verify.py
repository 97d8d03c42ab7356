"""A hanging verify can be cancelled, never outlives its timeout, and leaves no process behind."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import git, write_files
from helpers import FLEET_TUI, until, wait_for

from fleet_tui.adapters import git as gitad
from fleet_tui.adapters import processes
from fleet_tui.engine import actions
from fleet_tui.engine.merge_result import VERIFY_MARK, verify_merge_result
from fleet_tui.models import Status
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.source import LiveSource
from fleet_tui.ui.steer_screens import MergeScreen

# The shell's child in the background, and a grandchild in the foreground: all must end. Only
# they carry the mark (the agent's own processes must not be counted).
HANGING = "VERIFY_MARK={mark} sleep 300 & VERIFY_MARK={mark} sh -c 'sleep 300'"


def hanging_fleet(make_fleet: Any) -> tuple[Any, str]:
    mark = secrets.token_hex(6)
    fleet = make_fleet([{"name": "alpha", "script": "idle", "verify": HANGING.format(mark=mark)}])
    actions.up(fleet)
    wt = fleet.layout.worktree("alpha")
    write_files(wt, {"src/a.py": "A = 1\n"})
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", "work")
    return fleet, mark


def verify_processes(mark: str, cwd: Path | None = None) -> set[int]:
    """The hanging verify's processes; with `cwd`, only those running there (the preflight runs
    the verify in the worktree, the background gates in a throwaway one)."""
    found = processes.with_env("VERIFY_MARK", mark)
    if cwd is None:
        return found
    here = set()
    for pid in found:
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")) == cwd:
                here.add(pid)
        except OSError:
            pass
    return here


def test_verify_timeout_ends_the_whole_process_group(make_fleet: Any) -> None:
    fleet, mark = hanging_fleet(make_fleet)
    started = time.monotonic()
    result = subprocess.run(
        [FLEET_TUI, "-C", str(fleet.root), "-f", str(fleet.spec.path), "merge", "alpha", "--yes",
         "--verify-timeout", "1"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1 and "timed out" in result.stderr, result.stdout + result.stderr
    assert time.monotonic() - started < 30
    assert verify_processes(mark) == set(), "no verify process outlives the timeout"


def preflight_processes(mark: str) -> set[int]:
    """The merge preflight's verify processes, told from the background gates' running the very same
    command by the mark fleet-tui puts in each verify's environment."""
    return verify_processes(mark) & processes.with_env(VERIFY_MARK, "preflight:alpha")


def test_the_preflights_verify_is_told_from_the_gates(make_fleet: Any) -> None:
    fleet, mark = hanging_fleet(make_fleet)
    tip = git(fleet.layout.worktree("alpha"), "rev-parse", "HEAD").strip()
    base_head = git(fleet.root, "rev-parse", "main").strip()
    tree = gitad.merge_check(fleet.root, base_head, tip).tree
    seen: dict[str, tuple[set[int], list[str]]] = {}

    def run(purpose: str) -> None:
        def cancel() -> bool:  # looks once the verify runs, then ends it
            pids = verify_processes(mark) & processes.with_env(VERIFY_MARK, f"{purpose}:alpha")
            if not pids:
                return False
            cwds = [os.readlink(f"/proc/{pid}/cwd") for pid in pids]
            seen[purpose] = (pids, cwds)
            return True

        with pytest.raises(processes.Cancelled):
            verify_merge_result(fleet, "alpha", base_head, tip, tree, 60, cancel, purpose=purpose)

    run("preflight")
    run("gate")
    assert seen["preflight"][0].isdisjoint(seen["gate"][0])
    assert all("/fleet-verify-preflight-alpha-" in cwd for cwd in seen["preflight"][1]), seen
    assert all("/fleet-verify-gate-alpha-" in cwd for cwd in seen["gate"][1]), seen
    assert verify_processes(mark) == set()


async def test_escape_cancels_a_hanging_verify_and_quit_does_not_wait(make_fleet: Any) -> None:
    fleet, mark = hanging_fleet(make_fleet)
    app = FleetApp(LiveSource(fleet, interval=0.3))
    async with app.run_test(size=(150, 45)) as pilot:
        await until(
            pilot,
            lambda: (
                app.snapshot is not None
                and (alpha := app.snapshot.agent("alpha")) is not None
                and alpha.status == Status.IDLE
                and alpha.commits_ahead  # its worktree read: there is something to merge
            ),
            what="alpha idle with its commit",
        )
        app.select_agent("alpha")
        await pilot.pause()
        # The background gates may be running the same verify meanwhile (on the merge result, in a
        # throwaway worktree of their own): the preflight's processes are told apart by their mark.
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MergeScreen), what="merge modal")
        await until(pilot, lambda: preflight_processes(mark), what="the preflight's verify running")
        group = preflight_processes(mark)
        assert len(group) >= 3, "the shell, its background child and its foreground grandchild"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, MergeScreen), what="cancelled")
        # the whole process group ends, not only the shell
        await until(pilot, lambda: not processes.alive(group), timeout=10, what="verify ended")
        assert not preflight_processes(mark)
        # quitting while verifies run (the preflight's, the background gates'): the app ends at
        # once and takes them with it
        await pilot.press("m")
        await until(pilot, lambda: preflight_processes(mark), what="the verify running again")
        started = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - started < 15
    wait_for(lambda: not verify_processes(mark), timeout=10, what="no verify process left at quit")
