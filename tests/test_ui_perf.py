"""The dashboard at scale: memory stays flat under cursor use, and an idle fleet is not redrawn."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest
from memory_fleet import NOW, StaticSource, agent
from textual import events
from textual.widget import Widget
from textual.widgets._footer import FooterKey

from fleet_tui.models import FleetSnapshot, Status
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.messages import SnapshotArrived


def fleet_of(count: int, now: float = NOW) -> FleetSnapshot:
    # Every other agent has no pane, so which keys apply changes on every cursor move.
    agents = tuple(
        agent(
            f"a{i:03d}",
            Status.IDLE,
            pane_id=f"%{i}" if i % 2 else None,
            status_since=now - 5 - i,
            started_at=now - 30 - i,
            screen="ready\n",
            tail=("ready",),
        )
        for i in range(count)
    )
    return FleetSnapshot(
        fleet="big", repo="/tmp/big", base="main", session="big", socket="x",
        session_alive=True, taken_at=now, agents=agents, overlaps=(),
    )  # fmt: skip


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_memory_stays_flat_over_500_cursor_moves() -> None:
    """Each Footer rebuild used to keep its old key widgets alive (~0.25 MB a move, unbounded)."""
    app = FleetApp(StaticSource(snapshots=[fleet_of(20)]), clock=lambda: NOW)
    async with app.run_test(size=(200, 50)) as pilot:
        while app.table.row_count < 20:
            await pilot.pause(0.02)

        async def moves(count: int) -> tuple[int, float]:
            for i in range(count):
                row = app.table.cursor_row
                # down the table and back up; each move is handled before the next key
                app.post_message(events.Key("down" if i % 38 < 19 else "up", None))
                while app.table.cursor_row == row:
                    await asyncio.sleep(0.001)
            await pilot.pause()
            gc.collect()
            return sum(isinstance(o, FooterKey) for o in gc.get_objects()), rss_mb()

        keys_50, rss_50 = await moves(38)
        keys_500, rss_500 = await moves(456)  # 13 more trips down and up
        footer_keys = len(app.screen.query(FooterKey))
        assert keys_500 == keys_50 <= footer_keys + 30, (keys_50, keys_500, footer_keys)
        assert rss_500 - rss_50 < 8, f"RSS grew {rss_500 - rss_50:.1f} MB over 456 more cursor moves"
        watchers: dict[str, list[Any]] = getattr(app.screen.query_one("FleetFooter"), "__watchers", {})
        assert all(len(entries) <= footer_keys for entries in watchers.values())


async def test_footer_dims_the_keys_of_each_selected_agent() -> None:
    """The Footer dims in place on a cursor move: what it shows still follows the selection."""
    app = FleetApp(StaticSource(snapshots=[fleet_of(4)]), clock=lambda: NOW)
    async with app.run_test(size=(200, 50)) as pilot:
        while app.table.row_count < 4:
            await pilot.pause(0.02)
        for expected in (0, 1, 2, 3, 2, 1):
            if app.table.cursor_row != expected:
                await pilot.press("down" if app.table.cursor_row < expected else "up")
            await pilot.pause()
            attach = next(k for k in app.screen.query(FooterKey) if k.action == "attach")
            has_pane = expected % 2 == 1
            assert attach.has_class("-disabled") is not has_pane, (expected, attach.classes)


async def test_ticking_ages_repaint_the_table_at_most_once_per_step() -> None:
    """A young, idle fleet: over a minute of snapshots (one a second), rows change only when an age
    turns over, all together at a clock step, not every second."""
    now = [NOW]
    snapshot = fleet_of(40)
    source = StaticSource(snapshots=[snapshot])
    app = FleetApp(source, clock=lambda: now[0])
    async with app.run_test(size=(200, 50)) as pilot:
        while app.table.row_count < 40:
            await pilot.pause(0.02)
        changed = 0
        for second in range(1, 61):
            now[0] = NOW + second
            pushed = snapshot.model_copy(update={"taken_at": now[0]})
            source.push(pushed)
            while app.snapshot is not pushed:
                await pilot.pause(0.01)
            changed += app.table.cell_updates > 0
        assert changed <= 7, f"the table changed at {changed} of 60 snapshots"
        assert app.table.cell_text("a000", "status").split() == ["●", "idle", "1m"]  # 5 s, then a minute on


async def test_an_unchanged_snapshot_repaints_nothing(monkeypatch: Any) -> None:
    """The monitor publishes every second: the same fleet again must not repaint any widget
    (setting an equal border title or summary used to repaint three panels and the screen)."""
    snapshot = fleet_of(30)
    source = StaticSource(snapshots=[snapshot])
    app = FleetApp(source, clock=lambda: NOW)
    async with app.run_test(size=(200, 50)) as pilot:
        while app.table.row_count < 30:
            await pilot.pause(0.02)
        await pilot.pause()
        repainted: list[str] = []
        refresh = Widget.refresh

        def counting(self: Widget, *args: Any, **kwargs: Any) -> Any:
            repainted.append(type(self).__name__)
            return refresh(self, *args, **kwargs)

        monkeypatch.setattr(Widget, "refresh", counting)
        for _ in range(5):
            again = snapshot.model_copy(update={"taken_at": NOW})
            source.push(again)
            while app.snapshot is not again:
                await pilot.pause(0.01)
        await pilot.pause()
        assert repainted == [], repainted


async def test_a_heartbeat_only_snapshot_leaves_the_table_alone(monkeypatch: Any) -> None:
    """The supervisor's heartbeat re-sends the same agents every second or two: the dashboard then
    updates at most its summary (walking the table, the panels and the keys for 100 agents was
    most of an idle dashboard's CPU), until the table's clock steps and the ages may turn over."""
    from fleet_tui.ui.format import TABLE_CLOCK_STEP
    from fleet_tui.ui.widgets import AgentTable

    now = [NOW - NOW % TABLE_CLOCK_STEP]
    snapshot = fleet_of(100, now=now[0])
    source = StaticSource(snapshots=[snapshot])
    app = FleetApp(source, clock=lambda: now[0])
    async with app.run_test(size=(200, 50)) as pilot:
        while app.table.row_count < 100:
            await pilot.pause(0.02)
        await pilot.pause(0.3)  # the first layout's own redraws (the last column's width) are done
        syncs: list[float] = []
        sync = AgentTable.sync

        def counting(self: AgentTable, agents: Any, at: float, attention: set[str]) -> None:
            syncs.append(at)
            sync(self, agents, at, attention)

        monkeypatch.setattr(AgentTable, "sync", counting)

        async def heartbeat(at: float) -> None:
            now[0] = at
            again = snapshot.model_copy(update={"taken_at": at})
            source.push(again)
            while app.snapshot is not again:
                await pilot.pause(0.01)

        for second in range(1, int(TABLE_CLOCK_STEP)):
            await heartbeat(snapshot.taken_at + second * 0.9)
        assert syncs == []
        await heartbeat(snapshot.taken_at + TABLE_CLOCK_STEP)  # the step turns: ages are drawn again
        assert len(syncs) == 1
        changed = snapshot.agents[0].model_copy(update={"status": Status.WAITING})
        moved = snapshot.model_copy(update={"agents": (changed, *snapshot.agents[1:]), "taken_at": now[0]})
        source.push(moved)
        while app.snapshot is not moved:
            await pilot.pause(0.01)
        assert len(syncs) == 2  # a real change is drawn at once


async def test_the_real_dashboard_freezes_its_heap_once_after_its_first_full_picture(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full garbage collection of the dashboard's whole heap once stalled a key by 0.4 s; after
    the first full picture the dashboard freezes what it holds, once (freezing again and again would
    keep garbage forever). Tests' apps leave it off: many share one process."""
    freezes: list[int] = []
    real_freeze = gc.freeze

    def freeze() -> None:
        freezes.append(1)
        real_freeze()

    monkeypatch.setattr(gc, "freeze", freeze)
    pending = fleet_of(5).model_copy(
        update={"agents": tuple(a.model_copy(update={"git_pending": True}) for a in fleet_of(5).agents)}
    )
    app = FleetApp(StaticSource(snapshots=[pending]), clock=lambda: NOW)
    app.settle_heap = True
    try:
        async with app.run_test(size=(200, 50)) as pilot:
            while app.table.row_count < 5:
                await pilot.pause(0.02)
            await pilot.pause(0.1)
            assert freezes == []  # the first picture, before git: not yet
            for later in (0, 60, 120):
                app.post_message(SnapshotArrived(fleet_of(5, NOW + later)))
                await pilot.pause(0.1)
            assert freezes == [1] and gc.get_freeze_count() > 0  # once, after the full picture
    finally:
        gc.unfreeze()
    plain = FleetApp(StaticSource(snapshots=[fleet_of(5)]), clock=lambda: NOW)
    async with plain.run_test(size=(200, 50)) as pilot:
        while plain.table.row_count < 5:
            await pilot.pause(0.02)
        await pilot.pause(0.1)
    assert freezes == [1]  # a test's app leaves the heap alone
