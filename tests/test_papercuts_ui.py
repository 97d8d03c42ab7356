"""Small things a person notices: the inspector opens on the DRIFT file, Home/End in the table,
a dimmed key says why, the log keeps its cursor and marks cut details, drift is an event, and an
acknowledged attention stays acknowledged when the dashboard is opened again."""

from __future__ import annotations

from typing import Any

from helpers import until, wait_snapshot
from memory_fleet import NOW, StaticSource, demo_snapshot, demo_source
from textual.widgets import DataTable

from fleet_tui.engine.actions import up
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.state import Event, read_events
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.screens import DiffScreen
from fleet_tui.ui.steer_screens import EventsRead, LogScreen


def notices(app: FleetApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_inspector_opens_on_the_first_drift_file_and_home_end_move_in_the_table() -> None:
    app = FleetApp(demo_source(), clock=lambda: NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.table.row_count == 4, "rows")
        await pilot.press("end")
        assert app.selected_name == "search"
        await pilot.press("home")
        assert app.selected_name == "api"
        await pilot.press("d")
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        files = screen.query_one("#files", DataTable)
        row = files.coordinate_to_cell_key(files.cursor_coordinate).row_key.value
        assert row == "src/shared/config.py"  # api's DRIFT file, not its first (in scope) one


async def test_a_dimmed_key_says_why() -> None:
    app = FleetApp(demo_source(), clock=lambda: NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.table.row_count == 4, "rows")
        await pilot.press("k")  # no live fleet behind these snapshots
        await pilot.pause()
        assert any("no fleet is open" in n for n in notices(app)), notices(app)
        await pilot.press("end")  # search: queued, no files
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, DiffScreen)
        assert any("d: search has no changed files" in n for n in notices(app)), notices(app)


class Log(LogScreen):
    def read_events(self) -> None:  # type: ignore[override]
        pass  # the test posts the readings itself


async def test_the_log_keeps_its_cursor_across_refreshes_and_marks_cut_details() -> None:
    events = [Event(time=NOW - i, agent="api", event="status", details={"n": i}) for i in range(5)]
    long = Event(time=NOW - 10, agent="api", event="up", details={"changes": ["a change " * 30]})
    app = FleetApp(demo_source(), clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.table.row_count == 4, "rows")
        log = Log(["api"])
        app.push_screen(log)
        await pilot.pause()
        log.post_message(EventsRead([*events, long]))
        await pilot.pause()
        table = log.query_one("#log-table", DataTable)
        table.move_cursor(row=2)
        picked = table.get_row_at(2)
        newer = Event(time=NOW + 1, agent="api", event="status", details={"n": "new"})
        log.post_message(EventsRead([newer, *events, long]))  # newest first: one more on top
        await pilot.pause()
        assert table.row_count == 7 and table.get_row_at(table.cursor_row) == picked
        last = str(table.get_row_at(6)[3])
        assert last.endswith("…") and len(last) < 80


async def test_acknowledged_attention_stays_acknowledged_when_reopened() -> None:
    source = StaticSource([demo_snapshot()])
    app = FleetApp(source, clock=lambda: NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.table.row_count == 4, "rows")
        assert {"docs", "ui"} <= set(app.attention)
        app.select_agent("docs")  # the person looked at docs' question
        await until(pilot, lambda: "docs" in source.acks, "the acknowledgement kept")
    again = FleetApp(StaticSource([demo_snapshot()], acks=dict(source.acks)), clock=lambda: NOW)
    async with again.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: again.table.row_count == 4, "rows")
        assert "docs" not in again.attention and "ui" in again.attention
    # A new question (a later status_since) is news again.
    later = demo_snapshot()
    agents = tuple(a.model_copy(update={"status_since": a.status_since + 60}) for a in later.agents)
    fresh = FleetApp(StaticSource([later.model_copy(update={"agents": agents})], acks=dict(source.acks)))
    async with fresh.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: fresh.table.row_count == 4, "rows")
        assert "docs" in fresh.attention


def test_new_drift_is_an_event(make_fleet: Any, tmp_path: Any) -> None:
    cue = tmp_path / "cue"
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "scope": ["src/**"],
                "script": f'wait-file {cue}\nwrite docs/x.md "out\\n"\nidle\n',
            }
        ]
    )
    up(fleet)
    monitor = Monitor(fleet, log_changes=True)
    try:
        wait_snapshot(monitor, lambda s: s.agents[0].pane_id is not None, what="first look")
        cue.write_text("go", encoding="utf-8")
        wait_snapshot(monitor, lambda s: "docs/x.md" in s.agents[0].drift, what="drift")
    finally:
        monitor.close()
    drift = [e for e in read_events(fleet.layout) if e.event == "drift"]
    assert len(drift) == 1 and drift[0].agent == "alpha" and drift[0].details["files"] == ["docs/x.md"]
