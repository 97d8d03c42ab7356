"""Filter, sort and the person's settings: pure rules first, then the dashboard (Pilot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import until
from memory_fleet import NOW, demo_snapshot, demo_source
from textual.theme import BUILTIN_THEMES

from fleet_tui.errors import SpecError
from fleet_tui.models import Status
from fleet_tui.settings import Settings, load_settings, parse_settings, save_setting
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.arrange import arrange, next_sort
from fleet_tui.ui.screens import HelpScreen
from fleet_tui.ui.views import FilterInput, binding_ids, check_settings


def names(agents: list[Any]) -> list[str]:
    return [a.name for a in agents]


def test_filter_matches_name_status_or_file_every_word() -> None:
    agents = demo_snapshot().agents
    assert names(arrange(agents, "", "fleet")) == ["api", "docs", "ui", "search"]
    assert names(arrange(agents, "doc", "fleet")) == ["docs"]
    assert names(arrange(agents, "crashed", "fleet")) == ["ui"]
    assert names(arrange(agents, "config.py", "fleet")) == ["api", "docs"]  # a changed file
    assert names(arrange(agents, "config.py waiting", "fleet")) == ["docs"]  # every word must match
    assert names(arrange(agents, "nothing-like-this", "fleet")) == []


def test_sorts() -> None:
    agents = demo_snapshot().agents
    by_status = arrange(agents, "", "status")
    assert [a.status for a in by_status][:2] == [Status.WAITING, Status.CRASHED]
    assert names(arrange(agents, "", "name")) == ["api", "docs", "search", "ui"]
    changes = arrange(agents, "", "changes")
    assert [a.added + a.removed for a in changes] == sorted(
        (a.added + a.removed for a in agents), reverse=True
    )
    # Attention first, the longest-waiting of them first; the others keep the fleet's order.
    attention = arrange(agents, "", "attention", {"docs", "ui"})
    ui, docs = (next(a for a in agents if a.name == n) for n in ("ui", "docs"))
    first = ["ui", "docs"] if ui.status_since < docs.status_since else ["docs", "ui"]
    assert names(attention) == [*first, "api", "search"]
    assert next_sort("fleet") == "status" and next_sort("changes") == "fleet"


def test_settings_errors_name_the_file_the_key_and_what_is_expected(tmp_path: Path) -> None:
    file = str(tmp_path / "settings.toml")
    cases = {
        'colour = "red"\n': ("colour", "unknown key (expected one of: theme, sort, notify, bell, keymap)"),
        'sort = "size"\n': ("sort", "expected one of: fleet, status, attention, name, changes"),
        "notify = 3\n": ("notify", "valid boolean"),
        '[keymap]\n"steer.kill" = ""\n': ("keymap", "no key given for 'steer.kill'"),
        "theme = \n": ("", "not valid TOML"),
    }
    for text, (where, problem) in cases.items():
        with pytest.raises(SpecError) as info:
            parse_settings(text, file)
        assert info.value.message.startswith(file), info.value.message
        assert where in info.value.message and problem in info.value.message, info.value.message
    with pytest.raises(SpecError, match="unknown theme 'neon'"):
        check_settings(Settings(theme="neon"), file, set(BUILTIN_THEMES), FleetApp)
    with pytest.raises(SpecError, match=r"keymap.steer.nope: no key binding has this id"):
        check_settings(Settings(keymap={"steer.nope": "k"}), file, set(BUILTIN_THEMES), FleetApp)
    assert {"steer.kill", "diff", "roster.add", "view.filter", "diff.back"} <= binding_ids(FleetApp)
    assert load_settings(tmp_path / "none.toml") == Settings()


def test_saving_a_setting_keeps_the_persons_comments(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        '# mine\nsort = "name"  # I like names\n\n[keymap]\n"help" = "f1"  # help on f1\n', encoding="utf-8"
    )
    save_setting("theme", "nord", path)
    text = path.read_text(encoding="utf-8")
    assert "# mine" in text and "# I like names" in text and "# help on f1" in text
    assert load_settings(path) == Settings(theme="nord", sort="name", keymap={"help": "f1"})


def row_names(app: FleetApp) -> list[str]:
    table = app.table
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


async def test_settings_theme_keymap_sort_applied_and_the_palette_theme_saved(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('# my settings\nsort = "name"\n[keymap]\n"help" = "f1"\n', encoding="utf-8")
    settings = load_settings(path)
    settings = settings.model_copy(update={"theme": "nord", "notify": False})
    app = FleetApp(
        demo_source(repeat=True, interval=0.1), clock=lambda: NOW, settings=settings, settings_file=path
    )
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.table.row_count == 4, "rows")
        assert app.theme == "nord" and app.source.notify is False
        assert row_names(app) == ["api", "docs", "search", "ui"]  # sorted by name, and it stays so
        await pilot.pause(0.3)
        assert row_names(app) == ["api", "docs", "search", "ui"]
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        app.theme = "dracula"  # what choosing a theme in the command palette does
        await until(pilot, lambda: 'theme = "dracula"' in path.read_text(encoding="utf-8"), "the theme saved")
        assert "# my settings" in path.read_text(encoding="utf-8")


async def test_slash_filters_and_o_sorts_and_both_are_kept_across_snapshots() -> None:
    source = demo_source(repeat=True, interval=0.1)
    app = FleetApp(source, clock=lambda: NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.table.row_count == 4, "rows")
        await pilot.press("down")  # docs
        assert app.selected_name == "docs"
        await pilot.press("o")  # by status: docs (waiting) first, and still selected
        assert app.sort == "status"
        assert row_names(app)[:2] == ["docs", "ui"] and app.selected_name == "docs"
        assert "by status" in str(app.table.border_title)

        await pilot.press("slash")
        box = app.query_one(FilterInput)
        assert box.display and box.has_focus
        for key in "config":
            await pilot.press(key)
        await pilot.pause()
        assert row_names(app) == ["docs", "api"]  # both changed src/shared/config.py; status order
        await pilot.press("enter")
        assert app.table.has_focus and box.display  # the kept filter stays in sight
        assert "filter “config”: 2 of 4" in str(app.table.border_title)
        await pilot.pause(0.4)  # several more snapshots arrive: the filter and the sort hold
        assert row_names(app) == ["docs", "api"]

        await pilot.press("slash", "escape")
        await pilot.pause()
        assert not box.display and app.filter_text == "" and app.table.row_count == 4
