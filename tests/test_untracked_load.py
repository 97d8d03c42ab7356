"""A worktree with tens of thousands of untracked files costs the fleet little: it is not re-read at
every file event (paced by what its reading costs), nor by the resync as often as the others, and
the files' line counts are not read again while they stay as they were. Real git, real tmux."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from helpers import wait_snapshot
from memory_fleet import demo_snapshot

from fleet_tui.adapters.git import count_new_file
from fleet_tui.engine import actions
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.monitor.pacing import EXPENSIVE_READ, READ_BACKOFF, ReadPacer
from fleet_tui.engine.state import write_atomic
from fleet_tui.engine.supervisor.control import SnapshotReader
from fleet_tui.models import FileChange, FleetSnapshot


def many_untracked(worktree: Path, count: int) -> None:
    for i in range(count):
        path = worktree / "build-out" / f"d{i // 500}" / f"gen{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{i}\n")


def test_a_worktree_of_20000_untracked_files_is_not_re_read_at_every_event(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}])
    actions.up(fleet)
    worktree = fleet.layout.worktree("alpha")
    many_untracked(worktree, 20_000)
    monitor = Monitor(fleet)
    try:
        first = monitor.tick()
        assert len(first.agent("alpha").files) == 20_000
        reads = monitor.git_reads
        # a burst of changes, each marking the agent dirty as a file event does
        started = time.monotonic()
        for i in range(20):
            (worktree / f"burst{i}.txt").write_text("x\n")
            monitor.mark_dirty(["alpha"])
            monitor.tick(panes=False)
        burst = time.monotonic() - started
        # one reading takes well over EXPENSIVE_READ: it waits READ_BACKOFF times that in between
        assert monitor.git_reads - reads <= 1 + burst / READ_BACKOFF / EXPENSIVE_READ / 4, (
            f"{monitor.git_reads - reads} readings of one expensive worktree in {burst:.1f} s"
        )
        # the changes still show, once its pause is over
        snap = wait_snapshot(
            monitor, lambda s: len(s.agent("alpha").files) == 20_020, timeout=30, what="the burst's files"
        )
        assert "burst19.txt" in {f.path for f in snap.agent("alpha").files}
    finally:
        monitor.close()


def test_cheap_worktrees_are_read_at_every_event() -> None:
    pacer = ReadPacer()
    pacer.timed("cheap", EXPENSIVE_READ / 10)
    pacer.timed("costly", 0.5)
    now, later = pacer.split(["cheap", "costly"])
    assert now == {"cheap"} and later == {"costly"}
    assert pacer.resync_after("cheap", 60) == 60 and pacer.resync_after("costly", 60) == 100


def test_a_files_line_count_follows_its_content(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("a\nb\n")
    assert count_new_file(path) == (2, 0)
    assert count_new_file(path) == (2, 0)  # remembered
    path.write_text("a\nb\nc\nd\n")
    assert count_new_file(path) == (4, 0)
    path.write_bytes(b"\0bin")
    assert count_new_file(path) == (None, None)
    path.unlink()
    path.symlink_to(tmp_path)
    assert count_new_file(path) == (1, 0)


def test_the_published_snapshot_is_read_again_only_for_the_agents_that_changed(make_fleet: Any) -> None:
    """The dashboard follows the supervisor's snapshot.json: an agent with 20,000 files that did
    not change is not validated again at every publish (another agent's output changing)."""
    fleet = make_fleet([{"name": "alpha", "script": "idle"}, {"name": "beta", "script": "idle"}])
    files = tuple(
        FileChange(path=f"build-out/gen{i}.txt", added=1, removed=0, untracked=True) for i in range(20_000)
    )
    snapshot = demo_snapshot()
    agents = (
        snapshot.agents[0].model_copy(update={"name": "alpha", "files": files}),
        snapshot.agents[1].model_copy(update={"name": "beta", "tail": ("one",)}),
    )
    snapshot = snapshot.model_copy(update={"agents": agents})
    reader = SnapshotReader(fleet.layout)
    fleet.layout.state_dir.mkdir(parents=True, exist_ok=True)

    def publish(shot: FleetSnapshot) -> FleetSnapshot:
        write_atomic(fleet.layout.snapshot_file, shot.model_dump_json(by_alias=True))
        read, new = reader.read()
        assert new and read is not None
        return read

    first = publish(snapshot)
    assert first == snapshot
    moved = agents[1].model_copy(update={"tail": ("one", "two")})
    second = publish(snapshot.model_copy(update={"agents": (agents[0], moved), "taken_at": 5.0}))
    assert second.agents[0] is first.agents[0], "alpha did not change: the very same model"
    assert second.agents[1].tail == ("one", "two") and second.taken_at == 5.0
    fleet.layout.snapshot_file.write_text("{ damaged")
    assert reader.read() == (second, False)
