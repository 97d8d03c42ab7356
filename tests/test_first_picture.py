"""The fleet's first picture comes from tmux alone, at once; git's figures follow a moment later,
and what they show is not news (no drift event, no notice) just because it arrived second."""

from __future__ import annotations

import threading
from typing import Any

from helpers import wait_for
from memory_fleet import NOW, StaticSource, agent

from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.state import read_events
from fleet_tui.models import FleetSnapshot, Status
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.format import row_cells, summary_text


def test_the_first_snapshot_comes_before_git_and_its_drift_is_not_news(make_fleet: Any) -> None:
    fleet: Fleet = make_fleet(
        [
            {"name": "alpha", "script": 'write docs/outside.md "drift"\nsay "ready"\nidle'},
            {"name": "beta", "script": 'say "ready"\nidle'},
        ]
    )
    up(fleet)
    probe = Monitor(fleet)  # both settled and alpha's drift on disk, as a dashboard opened later finds it

    def settled() -> bool:
        probe.mark_dirty()  # no file watching in one-off ticks: read git every time
        snap = probe.tick()
        return all(a.status == Status.IDLE for a in snap.agents) and bool(snap.agents[0].drift)

    try:
        wait_for(settled, timeout=30, what="both idle, alpha drifted")
    finally:
        probe.close()
    seen: list[FleetSnapshot] = []
    stop = threading.Event()
    monitor = Monitor(fleet, log_changes=True)  # as the supervisor's
    feed = threading.Thread(target=monitor.run, args=(seen.append, stop), daemon=True)
    feed.start()
    try:
        wait_for(lambda: any(not a.git_pending for s in seen for a in s.agents), what="git's figures")
    finally:
        stop.set()
        monitor.wake()
        feed.join(timeout=10)
    first, full = seen[0], next(s for s in seen if not any(a.git_pending for a in s.agents))
    assert all(a.git_pending for a in first.agents), "the first picture waited for git"
    assert {a.name: a.status for a in first.agents} == {"alpha": Status.IDLE, "beta": Status.IDLE}
    assert first.agent("alpha").drift == ()  # type: ignore[union-attr]
    assert full.agent("alpha").drift == ("docs/outside.md",)  # type: ignore[union-attr]
    # It drifted before this monitor started: the figures arriving second do not make it news.
    assert not [e for e in read_events(fleet.layout) if e.event == "drift"]


def pictures(pending: bool) -> FleetSnapshot:
    drift = () if pending else ("docs/outside.md",)
    agents = (agent("alpha", Status.IDLE, drift=drift, git_pending=pending), agent("beta", Status.IDLE))
    return FleetSnapshot(
        fleet="f", repo="/tmp/f", base="main", session="f", socket="x",
        session_alive=True, taken_at=NOW, agents=agents, overlaps=(),
    )  # fmt: skip


def test_unread_figures_show_as_pending_not_as_zero() -> None:
    snapshot = pictures(pending=True)
    alpha = snapshot.agents[0]
    cells = [c.plain for c in row_cells(alpha, NOW, attention=False)]
    assert cells[3:8] == ["…"] * 5  # files, +/-, drift, overlap, ahead
    assert cells[1].startswith("● idle")
    assert "reading the worktrees…" in summary_text(snapshot, NOW).plain
    assert "reading the worktrees…" not in summary_text(pictures(pending=False), NOW).plain


async def test_drift_in_the_first_full_picture_is_marked_not_announced() -> None:
    source = StaticSource(snapshots=[pictures(pending=True)])
    app = FleetApp(source, clock=lambda: NOW)
    async with app.run_test(size=(200, 50)) as pilot:
        while app.table.row_count < 2:
            await pilot.pause(0.02)
        full = pictures(pending=False)
        source.push(full)
        while app.snapshot is not full:
            await pilot.pause(0.01)
        assert app.attention.get("alpha", "").startswith("drifted")
        assert app.notices == []  # it was there before the dashboard opened
        later = full.model_copy(
            update={
                "agents": (
                    full.agents[0].model_copy(update={"drift": ("docs/outside.md", "x.md")}),
                    full.agents[1],
                )
            }
        )
        source.push(later)
        while app.snapshot is not later:
            await pilot.pause(0.01)
        assert app.notices == ["alpha drifted: x.md"]
