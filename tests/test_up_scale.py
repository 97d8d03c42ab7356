"""`up` at scale: fresh worktrees are cheap to read from the start, and a no-op `up` stays linear."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from conftest import git

from fleet_tui.adapters import git as git_adapter
from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import Monitor, core


def racy_entries(worktree: Path) -> list[str]:
    """Index entries git must re-read to trust: modified in the second the index was written, or later."""
    index = Path(worktree, git(worktree, "rev-parse", "--git-path", "index").strip())
    written = math.floor(index.stat().st_mtime)
    return [
        rel
        for rel in git(worktree, "ls-files").splitlines()
        if math.floor((worktree / rel).stat().st_mtime) >= written
    ]


def test_up_refreshes_each_new_worktree_index_before_its_agent_starts(make_fleet: Any) -> None:
    fleet: Fleet = make_fleet([{"name": n} for n in ("a1", "a2", "a3")])
    up(fleet)
    for name in ("a1", "a2", "a3"):
        assert racy_entries(fleet.layout.worktree(name)) == [], name


def test_up_with_nothing_to_do_lists_worktrees_once(make_fleet: Any, monkeypatch: Any) -> None:
    fleet: Fleet = make_fleet([{"name": f"a{i}"} for i in range(12)])
    up(fleet)
    calls: list[Path] = []
    listed = git_adapter.worktrees

    def counting(root: Path) -> dict[Path, str | None]:
        calls.append(root)
        return listed(root)

    monkeypatch.setattr(git_adapter, "worktrees", counting)
    report = up(fleet)
    assert report.changes == []
    assert len(calls) <= 2, f"`git worktree list` ran {len(calls)} times for 12 agents"


def test_the_safety_net_re_reads_every_worktree_within_its_cycle(make_fleet: Any) -> None:
    """While file events arrive, the rolling resync still re-reads each worktree, oldest first:
    with 6 agents, each at least every max(RESYNC_AFTER, 6 x RESYNC_GAP) + RESYNC_GAP seconds (a
    reading comes due between two resync steps)."""
    fleet: Fleet = make_fleet([{"name": f"a{i}"} for i in range(6)])
    up(fleet)
    now = [1000.0]
    monitor = Monitor(fleet, clock=lambda: now[0])
    monitor.watcher.watching = True  # as when file events arrive
    # Ordinary worktrees: under load a reading's wall time can make one look expensive, which the
    # resync then leaves longer (tested on its own); here every reading counts as cheap.
    pacer = monitor.pacer
    timed = type(pacer).timed
    pacer.timed = lambda name, seconds: timed(pacer, name, 0.0)  # type: ignore[method-assign]
    try:
        monitor.tick(panes=False)  # the first reading of every worktree
        first = monitor.git_reads
        cycle = max(core.RESYNC_AFTER, 6 * core.RESYNC_GAP) + core.RESYNC_GAP
        for _ in range(int(cycle * 2)):  # a tick a second for two cycles
            now[0] += 1.0
            monitor.tick(panes=False)
        assert all(now[0] - monitor._read_at[a.name] <= cycle for a in fleet.agents), monitor._read_at
        assert monitor.git_reads - first <= 2 * cycle / core.RESYNC_GAP + 1
    finally:
        monitor.close()


def test_worktrees_are_made_a_few_at_a_time_and_one_failure_is_said_for_its_agent(
    make_fleet: Any, repo: Path, tmp_path: Path
) -> None:
    """Checkouts run in parallel: one that git refuses (its branch is checked out elsewhere) is
    named with git's reason after every other one was tried; no agent starts; the next `up`,
    once it is fixed, makes only what was missing."""
    from fleet_tui.errors import EnvironmentProblem

    names = ["a1", "a2", "a3", "a4", "a5", "a6"]
    fleet: Fleet = make_fleet([{"name": n} for n in names])
    git(repo, "branch", "fleet/a4")
    elsewhere = tmp_path / "elsewhere"
    git(repo, "worktree", "add", "-q", str(elsewhere), "fleet/a4")
    try:
        up(fleet)
    except EnvironmentProblem as exc:
        assert "a4" in exc.message and "already" in exc.message, exc.message
    else:
        raise AssertionError("up made a worktree of a branch checked out elsewhere")
    for name in names:
        assert fleet.layout.worktree(name).exists() is (name != "a4"), name
    assert not fleet.tmux.session_exists(fleet.session)  # nothing started
    heads = {
        name: git(fleet.layout.worktree(name), "branch", "--show-current").strip()
        for name in names
        if name != "a4"
    }
    assert heads == {n: f"fleet/{n}" for n in names if n != "a4"}
    git(repo, "worktree", "remove", str(elsewhere))
    report = up(fleet)
    made = [line for line in report.changes if line.startswith("created worktree")]
    assert made == [f"created worktree {fleet.layout.worktree('a4')} on fleet/a4"]
    assert all(racy_entries(fleet.layout.worktree(n)) == [] for n in names)
