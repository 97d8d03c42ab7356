"""The pane preview: the pane's rows folded (never cut) to the panel's width, the bottom in view,
scrolling back through the pane's real tmux history and End back to live."""

from __future__ import annotations

from typing import Any

from helpers import until, wait_for
from memory_fleet import NOW, StaticSource, demo_snapshot
from rich.text import Text
from textual import events

from fleet_tui.engine.actions import up
from fleet_tui.models import FleetSnapshot
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.preview import PanePreview, fold

QUESTION = "Overwrite the example in README.md and every copy of it under docs/examples? [y/n] "


def test_fold_splits_a_row_at_the_width_in_cells() -> None:
    assert [t.plain for t in fold(Text("abcdefgh"), 3)] == ["abc", "def", "gh"]
    assert [t.plain for t in fold(Text("ab"), 3)] == ["ab"]
    assert [t.plain for t in fold(Text("日本語"), 4)] == ["日本", "語"]  # two cells each


def snapshot_with(screen: str, history: str | None = None) -> tuple[FleetSnapshot, StaticSource]:
    snap = demo_snapshot()
    agents = [a.model_copy(update={"screen": screen}) if a.name == "docs" else a for a in snap.agents]
    snap = snap.model_copy(update={"agents": tuple(agents)})
    source = StaticSource([snap], histories={"docs": history} if history is not None else {})
    return snap, source


async def test_a_long_question_is_folded_not_cut_at_80_columns() -> None:
    screen = "\n".join(f"line {i}" for i in range(60)) + "\n" + QUESTION + "\n\n\n"
    _, source = snapshot_with(screen)
    app = FleetApp(source, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.table.row_count == 4, "rows")
        app.select_agent("docs")
        await pilot.pause()
        shown = app.query_one(PanePreview).render().plain
        assert shown.rstrip().endswith("[y/n]"), shown  # the bottom, and the whole of it
        assert "line 59" in shown and "line 1\n" not in shown


async def test_pgup_reads_the_history_and_end_returns_to_live() -> None:
    history = "\n".join(f"old {i}" for i in range(200)) + "\nthe live screen\n"
    _, source = snapshot_with("the live screen\n", history)
    app = FleetApp(source, clock=lambda: NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.table.row_count == 4, "rows")
        app.select_agent("docs")
        preview = app.query_one(PanePreview)
        preview.focus()
        await pilot.press("pageup")
        await until(pilot, lambda: "old 1" in preview.render().plain, "the history")
        assert not preview.live and "history" in str(preview.border_title)
        await pilot.press("home")
        assert "old 0\n" in preview.render().plain + "\n"
        await pilot.press("end")
        assert preview.live and preview.render().plain.strip() == "the live screen"
        # the mouse wheel does the same, without focus
        app.table.focus()
        # (Pilot has no public wheel call: its own mouse-event helper, as its click() uses.)
        await pilot._post_mouse_events([events.MouseScrollUp], preview, offset=(5, 3))
        await until(pilot, lambda: not preview.live and "old" in preview.render().plain, "wheel history")
        app.select_agent("api")  # another agent: its live screen
        await pilot.pause()
        assert preview.live and "running tests" in preview.render().plain


def test_the_tmux_history_of_a_real_pane(make_fleet: Any) -> None:
    fleet = make_fleet(
        [{"name": "alpha", "script": "".join(f"say row {i}\n" for i in range(120)) + "idle\n"}]
    )
    up(fleet)
    pane = wait_for(lambda: fleet.pane_id("alpha"), what="pane")
    wait_for(lambda: "row 119" in fleet.tmux.capture_history(pane, 500), what="the last row")
    history = fleet.tmux.capture_history(pane, 500)
    assert "row 0" in history and history.index("row 0") < history.index("row 119")


async def test_an_unchecked_checkbox_shows_no_mark() -> None:
    from test_ui_snapshots_sizes import PREFLIGHT, MergeShot  # a merge modal with its checkbox
    from textual.widgets import Checkbox

    assert PREFLIGHT.ok
    app = FleetApp(StaticSource([demo_snapshot()]), clock=lambda: NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.table.row_count == 4, "rows")
        app.push_screen(MergeShot("api", "main"))
        await pilot.pause(0.2)
        box = app.screen.query_one(Checkbox)
        off = box.get_component_rich_style("toggle--button")
        assert not box.value and off.color == off.bgcolor  # the X is drawn in its own background
        box.value = True
        await pilot.pause()
        on = box.get_component_rich_style("toggle--button")
        assert on.color != on.bgcolor
