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
    with 6 agents, each at least every max(RESYNC_AFTER, 6 x RESYNC_GAP) seconds."""
    fleet: Fleet = make_fleet([{"name": f"a{i}"} for i in range(6)])
    up(fleet)
    now = [1000.0]
    monitor = Monitor(fleet, clock=lambda: now[0])
    monitor.watcher.watching = True  # as when file events arrive
    try:
        monitor.tick(panes=False)  # the first reading of every worktree
        first = monitor.git_reads
        cycle = max(core.RESYNC_AFTER, 6 * core.RESYNC_GAP)
        for _ in range(int(cycle * 2)):  # a tick a second for two cycles
            now[0] += 1.0
            monitor.tick(panes=False)
        assert all(now[0] - monitor._read_at[a.name] <= cycle for a in fleet.agents), monitor._read_at
        assert monitor.git_reads - first <= 2 * cycle / core.RESYNC_GAP + 1
    finally:
        monitor.close()
