"""SVG snapshots of every screen: fixed size, fixed clock, snapshot data built in memory (no tmux).

Update after a deliberate change with `pytest tests/test_ui_snapshots.py --snapshot-update`, then look
at the SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

from typing import Any

from memory_fleet import NOW, demo_source
from textual.widgets import Input

from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.screens import DiffScreen
from fleet_tui.ui.widgets import DiffView

SIZE = (140, 40)


def make_app() -> FleetApp:
    return FleetApp(demo_source(), clock=lambda: NOW)


async def loaded(pilot: Any) -> None:
    app: FleetApp = pilot.app
    while app.snapshot is None or not app.table.row_count:
        await pilot.pause(0.02)
    await pilot.pause()


def test_main_screen(snap_compare: Any) -> None:
    """Four agents: api working with drift and overlap (selected), docs waiting and ui crashed (both
    highlighted for attention), search queued; api's pane in colour and its drifted/overlapping files."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=loaded)


def test_diff_inspector(snap_compare: Any) -> None:
    """api's files: in scope / DRIFT + overlap with docs, committed+uncommitted / untracked, a binary
    file; the diff of src/api/items.py coloured."""

    async def open_diff(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("d")
        screen = pilot.app.screen
        assert isinstance(screen, DiffScreen)
        while not screen.query_one(DiffView).lines or screen.states is None:
            await pilot.pause(0.02)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_diff)


def test_help_screen(snap_compare: Any) -> None:
    """Every key, by where it works."""

    async def open_help(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_help)


def test_send_input(snap_compare: Any) -> None:
    """The send input for docs (waiting on a y/n question), with an answer typed."""

    async def open_send(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("down", "s")
        pilot.app.screen.query_one(Input).value = "y, and keep the old example as well"
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_send)
