"""Every screen's Footer fits the terminal: at 80x24 and 60x20 each key shown is shown whole, the
screen's own keys and `?` first; what is left out, `?` lists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import until
from memory_fleet import NOW, StaticSource, agent, demo_snapshot, demo_source
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.widgets._footer import FooterKey

from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import Event
from fleet_tui.models import QueueView, Status
from fleet_tui.report import build_report
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.insight import TimelineScreen
from fleet_tui.ui.roster import AddAgentScreen
from fleet_tui.ui.screens import DiffScreen
from fleet_tui.ui.steer_screens import LogScreen
from fleet_tui.ui.widgets import AgentDetail, PanePreview

SCREENS: dict[str, tuple[Callable[[], Screen[Any]], list[str]]] = {
    # screen, and the keys of its own that must stay in sight
    "log": (lambda: LogScreen(["api", "docs", "ui", "search"]), ["esc", "a"]),
    "diff": (lambda: DiffScreen(demo_snapshot().agents[0]), ["esc", "tab"]),
    "timeline": (
        lambda: TimelineScreen(lambda: build_report([], ["api"], fleet="shop", base="main", now=NOW)),
        ["esc"],
    ),
}


def footer_keys(screen: Screen[Any]) -> list[FooterKey]:
    return [key for footer in screen.query(Footer) for key in footer.query(FooterKey)]


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (200, 50)])
@pytest.mark.parametrize("name", list(SCREENS))
async def test_the_footer_shows_whole_keys_that_fit(name: str, size: tuple[int, int]) -> None:
    make, own = SCREENS[name]
    app = FleetApp(demo_source(), clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count)
        app.push_screen(make())
        await until(
            pilot, lambda: footer_keys(app.screen) and all(k.region.width for k in footer_keys(app.screen))
        )
        keys = footer_keys(app.screen)
        for key in keys:
            region = key.region
            assert region.width and region.right <= size[0], (key.key_display, region)
            # the key's text is drawn whole: key, a space, its description, within its region
            assert len(key.key_display) + 1 + len(key.description) <= region.width, key.description
        displayed = [k.key_display for k in keys]
        for wanted in [*own, "?"]:
            assert wanted in displayed, (wanted, displayed)
        if size[0] == 200:  # a wide terminal leaves nothing out
            assert {"k", "r", "m"} <= set(displayed)


def crowded_source() -> StaticSource:
    """The demo's agents and ten more with long names: the table needs its scrollbar."""
    base = demo_snapshot()
    more = tuple(
        agent(f"inventory-worker-{i:02d}", Status.WORKING, tail=("⠹ Reading inventory/stock.py (13)",))
        for i in range(10)
    )
    return StaticSource(snapshots=[base.model_copy(update={"agents": (*base.agents, *more)})])


@pytest.mark.parametrize("width", [60, 80, 99, 100, 110, 130, 200])
async def test_the_table_never_scrolls_sideways(width: int) -> None:
    """Columns that do not fit beside a readable last line are left out, least telling first:
    agent, status, drift and the last line are always there, every column at 200."""
    app = FleetApp(crowded_source(), clock=lambda: NOW)
    async with app.run_test(size=(width, 30)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count == 14)
        await pilot.pause(0.2)
        table = app.table
        assert table.show_vertical_scrollbar  # 14 rows in under half of 30
        assert table.virtual_size.width <= table.scrollable_content_region.width, (
            table.virtual_size.width, table.scrollable_content_region.width, table.shown
        )  # fmt: skip
        assert {"agent", "status", "drift", "last"} <= set(table.shown)
        assert table.last_width >= 10
        if width == 200:
            assert len(table.shown) == 12


async def test_the_compact_summary_leaves_out_counts_of_zero_and_is_shown_whole() -> None:
    base = demo_snapshot()
    queue = QueueView(pending=("later",), active=("api", "docs", "ui"), max_agents=3)
    app = FleetApp(StaticSource(snapshots=[base.model_copy(update={"queue": queue})]), clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count)
        await pilot.pause(0.2)
        summary = app.query_one("#summary", Static)
        text = str(summary.render())
        assert "1 waiting" in text and "0 idle" not in text and "0 done" not in text
        assert "queue (max 3): 1 pending · 3 active" in text
        assert 80 < len(text) <= 160 and summary.size.height == 2  # the rows it needs, not one
        await pilot.resize_terminal(200, 50)
        await pilot.pause(0.2)
        assert "0 idle" in str(summary.render()) and summary.size.height == 1


async def test_the_table_shrinks_and_grows_with_the_filter() -> None:
    app = FleetApp(demo_source(), clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count == 4)
        await pilot.pause(0.2)
        assert app.table.outer_size.height == 7  # border, header, four rows
        await pilot.press("slash", "d", "o", "c")
        await until(pilot, lambda: app.table.row_count == 1)
        await until(pilot, lambda: app.table.outer_size.height == 4)  # border, header, one row
        await pilot.press("escape")
        await until(pilot, lambda: app.table.row_count == 4 and app.table.outer_size.height == 7)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_add_form_keeps_its_buttons_in_sight_on_a_small_terminal(
    repo: Path, size: tuple[int, int]
) -> None:
    (repo / "fleet.toml").write_text(
        '[[agent]]\nname = "api"\ntask = "t"\nscope = ["src/**"]\npreset = "shell"\n', encoding="utf-8"
    )
    source = StaticSource(snapshots=[demo_snapshot()], base="main", fleet=Fleet.open(repo))
    app = FleetApp(source, clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, AddAgentScreen))
        await pilot.pause(0.2)
        for button in ("#add-yes", "#add-no"):
            region = app.screen.query_one(button).region
            assert region.height and region.bottom <= size[1] - 1, (button, region)  # above the Footer


async def test_a_resize_while_another_screen_is_open_changes_the_dashboards_layout_too() -> None:
    app = FleetApp(demo_source(), clock=lambda: NOW)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count)
        detail, preview = app.query_one(AgentDetail), app.query_one(PanePreview)
        assert detail.display and detail.region.width
        for width, compact in ((80, True), (200, False)):
            app.push_screen(LogScreen(["api"]))
            await pilot.pause(0.2)
            await pilot.resize_terminal(width, 24 if compact else 50)
            await pilot.pause(0.2)
            app.pop_screen()
            await pilot.pause(0.3)
            assert detail.display is not compact and bool(detail.region.width) is not compact, width
            assert (preview.region.width == width) is compact  # the preview takes the whole width


@pytest.mark.parametrize("size", [(60, 20), (200, 50)])
async def test_the_diff_inspector_stacks_its_panels_on_a_narrow_terminal(size: tuple[int, int]) -> None:
    app = FleetApp(demo_source(), clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DiffScreen))
        await pilot.pause(0.3)
        files, diff = app.screen.query_one("#files").region, app.screen.query_one("#diff").region
        header = str(app.screen.query_one("#diff-header", Static).render())
        assert "3 files" in header and "1 commit ahead" in header  # api's, in plain words
        if size[0] < 100:  # the list above the diff, both the whole width
            assert files.width == diff.width == size[0] and diff.y >= files.bottom, (files, diff)
        else:  # side by side
            assert diff.x >= files.right and files.y == diff.y, (files, diff)


async def test_the_event_log_keeps_room_for_details_on_a_narrow_terminal() -> None:
    events = [
        Event(time=NOW - 60, agent="inventory-report", event="review-started", details={"doer": "x" * 80}),
    ]
    source = StaticSource(snapshots=[demo_snapshot()], base="main", event_log=events)
    app = FleetApp(source, clock=lambda: NOW)
    async with app.run_test(size=(60, 20)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.events)
        await pilot.pause(0.2)
        table = app.screen.query_one("#log-table", DataTable)
        row = [str(cell) for cell in table.get_row_at(0)]
        assert len(row[0]) == 8 and row[0].count(":") == 2  # the time of day only
        assert row[3].startswith("doer=xxx") and row[3].endswith("…")
        assert table.virtual_size.width <= table.scrollable_content_region.width
