"""Every screen's Footer fits the terminal: at 80x24 and 60x20 each key shown is shown whole, the
screen's own keys and `?` first; what is left out, `?` lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers import until
from memory_fleet import NOW, demo_snapshot, demo_source
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from fleet_tui.report import build_report
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.insight import TimelineScreen
from fleet_tui.ui.screens import DiffScreen
from fleet_tui.ui.steer_screens import LogScreen

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
