"""SVG snapshots at 80x24 (the compact layout) and 200x50: the main screen and the steering screens
(kill, restart, merge preflight, merge queue, event log), drawn from data made in memory.

The steering screens normally read the fleet in a worker; here each worker posts a reading built
below instead, so the screen is drawn exactly as it is for a real one. Update with
`pytest tests/test_ui_snapshots_sizes.py --snapshot-update` and look at the SVGs before committing.
"""

from __future__ import annotations

from typing import Any

import pytest
from memory_fleet import NOW
from test_ui_snapshots import loaded, make_app

from fleet_tui.engine.actions.results import Check, Preflight, QueueItem, QueuePlan, Stakes
from fleet_tui.engine.state import Event
from fleet_tui.ui.steer_screens import (
    EventsRead,
    KillScreen,
    LogScreen,
    MergeScreen,
    PreflightRead,
    QueuePlanned,
    QueueScreen,
    RestartScreen,
)

SIZES = {"80x24": (80, 24), "200x50": (200, 50)}

STAKES = Stakes(
    agent="api",
    uncommitted=("src/api/items.py", "src/shared/config.py"),
    commits=(("3f2a9c1d", "paginate items"),),
    phase="running",
    restarts=1,
    max_restarts=2,
    pane_alive=True,
)
PREFLIGHT = Preflight(
    agent="api",
    base="main",
    base_head="9c4e1b7a2f",
    tip="3f2a9c1d5e",
    checks=(
        Check("uncommitted", True, "nothing uncommitted"),
        Check("commits", True, "1 commit not in main"),
        Check("verify", True, "`pytest -q tests/api` passed (exit 0)"),
        Check("conflicts", True, "merges cleanly into main"),
        Check("base", True, "main is checked out and clean"),
    ),
    commits=(("3f2a9c1d", "paginate items"),),
    verify_command="pytest -q tests/api",
    verify_code=0,
    verify_output="....\n4 passed in 0.12s\n",
)
PLAN = QueuePlan(
    base="main",
    base_head="9c4e1b7a2f",
    items=(
        QueueItem("stock", "aa11bb22", 2, 0, (), True),
        QueueItem("report", "cc33dd44", 1, 0, ("pricing",), True),
        QueueItem("pricing", "ee55ff66", 1, 0, ("report",), False, ("inventory/report.py",), True),
    ),
    skipped=(
        ("cli", "waiting for an answer"),
        ("items", "crashed: look at it first, then merge it on its own"),
    ),
)
EVENTS = [
    Event(time=NOW - 300, agent=None, event="up", details={"changes": ["started api", "started docs"]}),
    Event(time=NOW - 240, agent="api", event="started", details={"run": 1}),
    Event(time=NOW - 120, agent="docs", event="status", details={"from": "working", "to": "waiting"}),
    Event(time=NOW - 60, agent="ui", event="status", details={"from": "working", "to": "crashed", "exit": 1}),
    Event(time=NOW - 30, agent="api", event="drift", details={"files": ["src/shared/config.py"]}),
]


class MergeShot(MergeScreen):
    def run_preflight(self) -> None:  # type: ignore[override]
        self.post_message(PreflightRead(self.agent, PREFLIGHT))


class QueueShot(QueueScreen):
    def make_plan(self) -> None:  # type: ignore[override]
        self.post_message(QueuePlanned(PLAN))


class LogShot(LogScreen):
    def read_events(self) -> None:  # type: ignore[override]
        self.post_message(EventsRead(list(reversed(EVENTS))))


SCREENS = {
    "main": None,
    "kill": lambda: KillScreen(STAKES, "main"),
    "restart": lambda: RestartScreen(STAKES, "main"),
    "merge": lambda: MergeShot("api", "main"),
    "queue": lambda: QueueShot("main"),
    "log": lambda: LogShot(["api", "docs", "ui", "search"]),
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_at_size(snap_compare: Any, screen: str, size: str) -> None:
    make = SCREENS[screen]

    async def open_screen(pilot: Any) -> None:
        await loaded(pilot)
        if make is not None:
            pilot.app.push_screen(make())
            await pilot.pause(0.2)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=open_screen)
