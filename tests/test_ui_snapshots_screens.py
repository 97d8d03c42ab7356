"""SVG snapshots at 80x24 and 200x50 of the screens that came with agents from the UI, search and
the insight keys: the add form (n), the removal (x), the filter (/), the inbox (w), the timeline
(t); and the diff inspector (enter), which stacks its panels when narrow.

Drawn from the in-memory fleet; the roster screens get a real fleet file in a real repository
(nothing is started). Update with `pytest tests/test_ui_snapshots_screens.py --snapshot-update`
and look at the SVGs (as PNGs: rsvg-convert) before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from memory_fleet import NOW, StaticSource, demo_snapshot
from test_insight_ui import made_up_events

from fleet_tui.engine.fleet import Fleet
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.insight import TimelineScreen
from fleet_tui.ui.screens import DiffScreen
from fleet_tui.ui.widgets import DiffView

SIZES = {"80x24": (80, 24), "200x50": (200, 50)}
FLEET_FILE = """\
# the demo's agents, as the dashboard's roster keys see them
[[agent]]
name = "api"
task = "Add pagination to the /items endpoint."
scope = ["src/api/**"]
preset = "shell"
"""


def make_app(fleet: Fleet | None = None) -> FleetApp:
    source = StaticSource(
        snapshots=[demo_snapshot()], base="main", event_log=made_up_events("api", "docs"), fleet=fleet
    )
    return FleetApp(source, clock=lambda: NOW)


async def loaded(pilot: Any) -> None:
    app: FleetApp = pilot.app
    while app.snapshot is None or not app.table.row_count:
        await pilot.pause(0.02)
    await pilot.pause()


async def press(pilot: Any, *keys: str) -> None:
    await loaded(pilot)
    await pilot.press(*keys)
    await pilot.pause(0.3)


async def timeline(pilot: Any) -> None:
    await press(pilot, "t")
    screen = pilot.app.screen
    while not (isinstance(screen, TimelineScreen) and screen.report is not None):
        await pilot.pause(0.05)
    await pilot.pause()


async def diff(pilot: Any) -> None:
    """The inspector once its file states and the first diff are read (in workers)."""
    await press(pilot, "enter")
    screen = pilot.app.screen
    while not (isinstance(screen, DiffScreen) and screen.states is not None and screen.shown):
        await pilot.pause(0.05)
    view = screen.query_one(DiffView)
    while "·" not in str(view.border_title):
        await pilot.pause(0.05)
    await pilot.pause()


RUN: dict[str, Callable[[Any], Any]] = {
    "add": lambda pilot: press(pilot, "n"),
    "remove": lambda pilot: press(pilot, "x"),
    "filter": lambda pilot: press(pilot, "slash", "d", "o", "c"),
    "inbox": lambda pilot: press(pilot, "w"),
    "timeline": timeline,
    "diff": diff,
}


@pytest.fixture
def fleet(repo: Path) -> Fleet:
    (repo / "fleet.toml").write_text(FLEET_FILE, encoding="utf-8")
    return Fleet.open(repo)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", list(RUN))
def test_screen_at_size(snap_compare: Any, fleet: Fleet, screen: str, size: str) -> None:
    app = make_app(fleet if screen in ("add", "remove") else None)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=RUN[screen])
