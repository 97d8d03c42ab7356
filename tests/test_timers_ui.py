"""The agent table's clocks: one clock per state, cells that keep their width as they tick, and a
runtime that stops once the agent's process has ended (exited, crashed, killed, merged)."""

from __future__ import annotations

from typing import Any

from helpers import until
from memory_fleet import NOW, StaticSource, agent
from textual.widgets import DataTable

from fleet_tui.models import FleetSnapshot, GateResult, Status
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.format import age, gate_lines, runtime


def fleet(*agents: Any) -> FleetSnapshot:
    return FleetSnapshot(
        fleet="clocks", repo="/tmp/clocks", base="main", session="clocks", socket="x",
        session_alive=True, taken_at=NOW, agents=agents, overlaps=(),
    )  # fmt: skip


def clocks_fleet() -> FleetSnapshot:
    return fleet(
        # Working since it started: the status's age is its runtime too.
        agent("busy", Status.WORKING, started_at=NOW - 61, status_since=NOW - 59),
        # Idle for the last 3 minutes of a 9-minute run: two different clocks.
        agent("quiet", Status.IDLE, started_at=NOW - 540, status_since=NOW - 180),
        # Ran 10 minutes, merged 2 minutes ago; exited after 4 minutes; killed after 7.
        agent("landed", Status.MERGED, started_at=NOW - 720, status_since=NOW - 120),
        agent("done", Status.EXITED, exit_code=0, started_at=NOW - 300, status_since=NOW - 60),
        agent("stopped", Status.KILLED, started_at=NOW - 480, status_since=NOW - 60),
        agent("later", Status.QUEUED, started_at=None, status_since=NOW - 30),
    )


async def table_at(pilot: Any, source: StaticSource, now: list[float], at: float) -> DataTable[Any]:
    """Move the clock to `at`, publish the same fleet again, wait for the table to be drawn at it."""
    app: FleetApp = pilot.app
    now[0] = at
    pushed = source.snapshots[0].model_copy(update={"taken_at": at})
    source.push(pushed)
    await until(pilot, lambda: app.snapshot is pushed)
    await pilot.pause()
    return app.table


def shown(app: FleetApp, name: str, column: str) -> str:
    return " ".join(app.table.cell_text(name, column).split())


async def test_one_clock_per_state_and_runtimes_that_stop() -> None:
    now = [NOW]
    source = StaticSource(snapshots=[clocks_fleet()])
    app = FleetApp(source, clock=lambda: now[0])
    async with app.run_test(size=(200, 30)) as pilot:
        await until(pilot, lambda: app.table.row_count == 6)
        assert shown(app, "busy", "status") == "● working <1m"
        assert shown(app, "busy", "runtime") == ""  # not a second, near-equal clock
        assert (shown(app, "quiet", "status"), shown(app, "quiet", "runtime")) == ("● idle 3m", "9m")
        assert shown(app, "landed", "runtime") == "10m"
        assert (shown(app, "done", "runtime"), shown(app, "stopped", "runtime")) == ("4m", "7m")
        assert shown(app, "later", "runtime") == "-"

        await table_at(pilot, source, now, NOW + 3 * 3600)  # three hours on
        assert shown(app, "landed", "status") == "● merged 3h02m"  # merged that long ago...
        assert shown(app, "landed", "runtime") == "10m"  # ...after a 10-minute run: stopped
        assert (shown(app, "done", "runtime"), shown(app, "stopped", "runtime")) == ("4m", "7m")
        assert shown(app, "quiet", "runtime") == "3h09m"  # still running: its clock goes on
        assert shown(app, "busy", "status") == "● working 3h00m" and shown(app, "busy", "runtime") == ""


def offsets(table: DataTable[Any]) -> list[int]:
    """Where each column starts, in cells."""
    starts, x = [], 0
    for column in table.ordered_columns:
        starts.append(x)
        x += column.get_render_width(table)
    return starts


async def test_columns_do_not_shift_as_the_clocks_tick() -> None:
    """From under a minute to days old, through every width an age can have ('<1m', '9m', '10m',
    '1h00m', '1d00h', '10d'): every column starts where it started."""
    now = [NOW]
    source = StaticSource(snapshots=[clocks_fleet()])
    app = FleetApp(source, clock=lambda: now[0])
    async with app.run_test(size=(200, 30)) as pilot:
        await until(pilot, lambda: app.table.row_count == 6)
        first = offsets(app.table)
        widths = {name: len(app.table.cell_text(name, "status")) for name in ("busy", "quiet", "landed")}
        for later in (60, 8 * 60, 9 * 60, 50 * 60, 3600, 9 * 3600, 86400, 10 * 86400, 100 * 86400):
            table = await table_at(pilot, source, now, NOW + later)
            assert offsets(table) == first, f"columns moved {later} s on"
            for name, width in widths.items():
                assert len(table.cell_text(name, "status")) == width, (later, table.cell_text(name, "status"))
        assert shown(app, "busy", "status") == "● working 100d"


async def test_a_status_that_changes_keeps_the_columns_in_place() -> None:
    """working -> crashed(1) -> merged: the status cell keeps its width, so nothing moves."""
    now = [NOW]
    busy = agent("busy", Status.WORKING, started_at=NOW - 61, status_since=NOW - 59)
    source = StaticSource(snapshots=[fleet(busy, agent("other", Status.IDLE))])
    app = FleetApp(source, clock=lambda: now[0])
    async with app.run_test(size=(200, 30)) as pilot:
        await until(pilot, lambda: app.table.row_count == 2)
        first = offsets(app.table)
        for changes in (
            {"status": Status.CRASHED, "exit_code": 1, "status_since": NOW},
            {"status": Status.MERGED, "exit_code": None, "status_since": NOW},
        ):
            pushed = fleet(busy.model_copy(update=changes), agent("other", Status.IDLE))
            source.push(pushed)
            await until(pilot, lambda pushed=pushed: app.snapshot is pushed)  # type: ignore[misc]
            await pilot.pause()
            assert offsets(app.table) == first, changes


def test_ages_fit_the_clock_width_and_runtime_stops_at_the_end() -> None:
    for seconds in (0, 59, 60, 599, 600, 3599, 3600, 86399, 86400, 9 * 86400, 10 * 86400, 999 * 86400):
        assert len(age(seconds)) <= 5, (seconds, age(seconds))
    ended = agent("x", Status.CRASHED, exit_code=1, started_at=NOW - 100, status_since=NOW - 40)
    assert runtime(ended, NOW) == runtime(ended, NOW + 10_000) == 60
    running = ended.model_copy(update={"status": Status.IDLE})
    assert runtime(running, NOW + 10_000) == 10_100


def test_gate_ages_in_the_detail_panel_tick_in_minutes() -> None:
    gates = (
        GateResult(name="verify", ok=True, detail="passed", checked_at=NOW - 5),
        GateResult(name="review", ok=None, detail="not reviewed yet", checked_at=NOW - 65),
    )
    ready = agent("x", Status.READY, gates=gates)
    lines = [detail for _, _, detail in gate_lines(ready, NOW)]
    assert lines == ["passed (<1m ago)", "not reviewed yet (1m ago)"]
    assert gate_lines(ready, NOW + 30) == gate_lines(ready, NOW)  # the same panel half a minute on
