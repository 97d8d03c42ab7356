"""Pilot tests of the dashboard on snapshots built in memory: every key and every screen."""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import pytest
from helpers import until
from memory_fleet import NOW, StaticSource, demo_snapshot, demo_source
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, TextArea

from fleet_tui.models import FileChange, FleetSnapshot, Status
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.commands import FleetCommands
from fleet_tui.ui.noticing import attention_reason
from fleet_tui.ui.screens import DiffScreen, HelpScreen, SendScreen, key_rows
from fleet_tui.ui.widgets import AgentDetail, DiffView, PanePreview

SIZE = (140, 40)


def make_app(source: StaticSource | None = None) -> FleetApp:
    return FleetApp(source or demo_source(), clock=lambda: NOW)


async def started(pilot: Any) -> FleetApp:
    app: FleetApp = pilot.app
    await until(pilot, lambda: app.snapshot is not None and app.table.row_count)
    await pilot.pause()
    return app


def with_agent(snapshot: FleetSnapshot, name: str, **changes: Any) -> FleetSnapshot:
    agents = tuple(a.model_copy(update=changes) if a.name == name else a for a in snapshot.agents)
    return snapshot.model_copy(update={"agents": agents})


async def test_main_screen_shows_every_agent_and_the_selected_one() -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        app = await started(pilot)
        table = app.table
        assert [str(k.value) for k in table.rows] == ["api", "docs", "ui", "search"]
        assert table.cell_text("docs", "status").split() == ["●", "waiting", "<1m"]
        assert table.cell_text("ui", "status").split() == ["●", "crashed(1)", "2m"]
        assert table.cell_text("api", "drift") == "1"
        assert table.cell_text("api", "overlap") == "docs"
        assert table.cell_text("api", "lines") == "+12 -3"
        summary = str(app.query_one("#summary").render())
        assert "1 waiting" in summary and "2 drifted" in summary and "1 file in overlap" in summary
        assert "running tests" in str(app.query_one(PanePreview).render())
        assert "src/shared/config.py" in str(app.query_one(AgentDetail).render())
        await pilot.press("down")
        assert app.selected_name == "docs"
        assert "Overwrite the example" in str(app.query_one(PanePreview).render())
        assert "[y/n]" in str(app.query_one(AgentDetail).render())


async def test_pane_preview_keeps_colours() -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        app = await started(pilot)
        text = app.query_one(PanePreview).render()
        styles = {str(span.style) for span in text.spans}
        assert "bold color(6)" in styles and "color(2)" in styles, styles  # cyan, green
        assert "\x1b" not in text.plain


async def test_refresh_keeps_cursor_and_rewrites_only_changed_cells() -> None:
    source = demo_source()
    async with make_app(source).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("down", "down")
        assert app.selected_name == "ui"
        changed = with_agent(app.snapshot, "search", tail=("still queued",))  # type: ignore[arg-type]
        source.push(changed)
        await until(pilot, lambda: app.table.cell_text("search", "last") == "still queued")
        assert app.table.cell_updates == 1
        assert app.selected_name == "ui"
        assert app.table.cursor_row == 2


async def test_diff_inspector_lists_files_and_shows_the_diff(snap_source: None = None) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("d")
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        view = screen.query_one(DiffView)
        files = screen.query_one("#files", DataTable)
        # It opens on the DRIFT file (the one to look at first), then up to the first file.
        assert files.coordinate_to_cell_key(files.cursor_coordinate).row_key.value == "src/shared/config.py"
        await pilot.press("up")
        await until(pilot, lambda: any("paginate" in line for line in view.lines))
        await until(pilot, lambda: screen.states is not None)
        rows = {str(k.value): [str(c) for c in files.get_row(k)] for k in files.rows}
        assert rows["src/api/items.py"][1:] == ["+9 -2", "committed + uncommitted", "in scope"]
        assert rows["src/shared/config.py"][2:] == ["uncommitted", "DRIFT overlap: docs"]
        assert rows["src/api/logo.png"][1:3] == ["binary", "untracked"]
        await pilot.press("down", "down")
        await until(pilot, lambda: view.lines and view.lines[0].startswith("Binary file src/api/logo.png"))
        await pilot.press("escape")
        assert not isinstance(app.screen, DiffScreen)
        assert app.selected_name == "api"


async def test_enter_and_click_open_the_inspector() -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("enter")
        assert isinstance(app.screen, DiffScreen)
        await pilot.press("escape")
        # a click selects a row; a click on the selected row opens it
        await pilot.click("#agents", offset=(4, 3))
        assert app.selected_name == "docs"
        assert not isinstance(app.screen, DiffScreen)
        await pilot.click("#agents", offset=(4, 3))
        assert isinstance(app.screen, DiffScreen)
        assert app.screen.agent.name == "docs"
        await until(pilot, lambda: app.screen.query_one(DiffView).lines)
        await pilot.click("#files", offset=(4, 3))  # border, header, first file, second file
        assert app.screen.shown == "src/shared/config.py"


async def test_a_5000_line_diff_opens_without_freezing(monkeypatch: Any) -> None:
    head = ["diff --git a/big.py b/big.py", "@@ -0,0 +1,5000 @@"]
    big = "\n".join(head + [f"+line {i}" for i in range(5000)])
    snapshot = with_agent(demo_snapshot(), "api", files=(FileChange(path="big.py", added=5000, removed=0),))
    source = StaticSource(snapshots=[snapshot], diffs={("api", "big.py"): big})
    drawn: list[int] = []
    render_line = DiffView.render_line

    def counting(self: DiffView, y: int) -> Any:
        drawn.append(self.scroll_offset.y + y)
        return render_line(self, y)

    monkeypatch.setattr(DiffView, "render_line", counting)
    async with make_app(source).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        t0 = time.perf_counter()
        await pilot.press("d")
        view = app.screen.query_one(DiffView)
        await until(pilot, lambda: len(view.lines) == 5002)
        await pilot.pause()
        opened = time.perf_counter() - t0
        assert opened < 3.0, opened
        assert view.virtual_size.height == 5002
        assert drawn and max(drawn) < 100  # only the visible lines were drawn, not 5,000
        view.focus()
        await pilot.press("end")
        await until(pilot, lambda: view.scroll_y >= 5002 - view.scrollable_content_region.height)
        await pilot.pause()
        assert max(drawn) == 5001


async def test_keys_that_do_not_apply_are_dimmed_and_do_nothing() -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        app = await started(pilot)
        assert app.active_bindings["s"].enabled
        await pilot.press("down", "down", "down")  # search: queued, no files
        assert app.selected_name == "search"
        bindings = app.active_bindings
        assert not bindings["s"].enabled and not bindings["d"].enabled
        assert bindings["a"].enabled  # its pane exists
        await pilot.press("s", "d")
        assert app.screen is app.screen_stack[0]
        await pilot.press("up")  # ui: crashed, so nothing reads what is sent
        assert not app.active_bindings["s"].enabled


async def test_help_lists_every_key_including_later_ones() -> None:
    class WithLater(FleetApp):
        BINDINGS: ClassVar[list[BindingType]] = [
            *FleetApp.BINDINGS,
            Binding("z", "zap", "Zap", id="later.zap"),
        ]

        def action_zap(self) -> None:
            pass

    assert not any(b.key == "z" for b in FleetApp.BINDINGS if isinstance(b, Binding))  # really later
    app = WithLater(demo_source(), clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        listed = {(key, does) for _, key, does, _ in key_rows(app)}
        for key, does in [
            ("d", "Diff"),
            ("a", "Attach"),
            ("s", "Send"),
            ("?", "Keys"),
            ("k", "Kill"),
            ("z", "Zap"),
        ]:
            assert (key, does) in listed
        assert ("esc", "Back") in listed and ("^t", "Multi-line") in listed
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_send_pastes_text_verbatim() -> None:
    source = demo_source()
    text = """it's "fine"; echo $(whoami) && rm -rf / `x`"""
    async with make_app(source).run_test(size=SIZE) as pilot:
        app = await started(pilot)
        await pilot.press("down", "s")
        assert isinstance(app.screen, SendScreen)
        app.screen.query_one(Input).value = text
        await pilot.press("enter")
        await until(pilot, lambda: source.sent)
        assert source.sent == [("docs", text)]
        # multi-line mode: enter makes a new line, ctrl+s sends
        await pilot.press("s", "ctrl+t")
        area = app.screen.query_one(TextArea)
        assert area.has_focus
        await pilot.press("y", "enter", "n", "o")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(source.sent) == 2)
        assert source.sent[1] == ("docs", "y\nno")
        await pilot.press("s", "escape")
        assert app.screen is app.screen_stack[0]
        assert len(source.sent) == 2


async def test_attach_hands_over_and_comes_back_with_the_same_selection(monkeypatch: Any) -> None:
    calls: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,1,0")
    app = make_app()

    def client(argv: list[str], env: dict[str, str]) -> int:
        calls.append((argv, env))
        return 0

    app.run_client = client  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("down", "down", "a")
        await until(pilot, lambda: calls)
        argv, env = calls[0]
        assert argv == ["true", "ui"]
        assert "TMUX" not in env
        assert app.selected_name == "ui"
        assert app.screen is app.screen_stack[0]


async def test_attention_highlights_notifies_rings_once_and_clears_on_select() -> None:
    source = demo_source()
    app = make_app(source)
    bells: list[float] = []
    app.bell = lambda: bells.append(time.monotonic())  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert app.notices == []  # conditions present at start are highlighted, not announced
        assert "docs" in app.attention and app.table.cell_text("docs", "agent") == "! docs"
        first = app.snapshot
        assert first is not None
        turned = with_agent(first, "search", status=Status.WAITING, status_since=NOW)
        turned = with_agent(turned, "api", status=Status.CRASHED, exit_code=3)
        source.push(turned)
        await until(pilot, lambda: len(app.notices) == 2)
        assert app.notices == ["api crashed (exit 3)", "search is waiting for an answer"]
        assert len(bells) == 1
        assert app.table.cell_text("search", "agent") == "! search"
        assert len(app._notifications) >= 2
        await pilot.press("down", "down", "down")
        assert "search" not in app.attention
        assert app.table.cell_text("search", "agent") == "  search"
        source.push(turned)  # the same state again: nothing new
        await pilot.pause(0.3)
        assert len(bells) == 1


async def test_bell_and_notify_can_be_turned_off() -> None:
    source = demo_source(bell=False, notify=False)
    app = make_app(source)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        source.push(with_agent(app.snapshot, "search", status=Status.WAITING))  # type: ignore[arg-type]
        await until(pilot, lambda: app.notices)
        await pilot.pause(0.2)
        assert bells == [] and not app._notifications
        assert "search" in app.attention


def test_attention_reason_transitions() -> None:
    snap = demo_snapshot()
    api = snap.agent("api")
    assert api is not None
    assert attention_reason(api, api) is None
    assert attention_reason(api.model_copy(update={"drift": ()}), api) == "drifted: src/shared/config.py"
    waiting = api.model_copy(update={"status": Status.WAITING})
    assert attention_reason(api, waiting) == "is waiting for an answer"
    assert attention_reason(waiting, waiting) is None


@pytest.mark.parametrize("what", ["diff", "send", "attach", "file_states", "run"])
async def test_failures_are_notices_not_crashes(what: str) -> None:
    source = demo_source(fail={what})
    app = make_app(source)
    app.run_client = lambda argv, env: 0  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        if what == "run":
            await until(pilot, lambda: app._notifications)
            assert "run failed on purpose" in str(next(iter(app._notifications)).message)
            return
        await started(pilot)
        if what in ("diff", "file_states"):
            await pilot.press("d")
        elif what == "send":
            await pilot.press("down", "s")
            app.screen.query_one(Input).value = "y"
            await pilot.press("enter")
        else:
            await pilot.press("a")
        await until(pilot, lambda: app._notifications)
        assert f"{what} failed on purpose" in str(list(app._notifications)[-1].message)
        assert app.is_running


async def test_command_palette_runs_actions_and_selects_agents() -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        app = await started(pilot)
        names = [name for name, _, _ in FleetCommands(app.screen).commands()]
        assert "Diff api" in names and "Send api" in names and "Select agent ui" in names
        await pilot.press("ctrl+p")
        await pilot.press(*"select agent search")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: app.selected_name == "search")
        names = [name for name, _, _ in FleetCommands(app.screen).commands()]
        assert not any(n.startswith(("Diff", "Send")) for n in names)  # they do not apply to search


async def test_quit_key_stops_the_monitor_thread() -> None:
    source = demo_source(repeat=True)
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("q")
        # Still inside the test: only the key can have ended the app (leaving the block would too).
        deadline = time.monotonic() + 10
        while app.is_running and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert not app.is_running, "q did not quit"
    assert app._stop.is_set()
    assert source.stopped.wait(5), "the monitor thread is still running"


async def test_a_key_moves_the_cursor_while_readings_take_3s() -> None:
    """Never freezes: every reading (and every diff) takes 3 s in a worker thread. A key event (as
    the terminal driver posts it) moves the cursor at once, readings and a diff under way.

    "At once" is a bound a UI that waited on a reading cannot meet (it would take up to 3 s) but a
    loaded 2-core machine always can; how fast keys really are is the benchmark's figure, not this."""
    source = demo_source(read_delay=3.0, repeat=True, interval=0.0)
    async with make_app(source).run_test(size=SIZE) as pilot:
        app = await started(pilot)  # the first reading arrives after 2 s
        await pilot.press("d")  # a diff read (2 s) is under way as well
        await pilot.press("escape")
        assert any(w.name == "monitor" and w.is_running for w in app.workers)
        latencies = []
        for key, expected in [("down", 1), ("down", 2), ("up", 1), ("up", 0)] * 2:
            t0 = time.perf_counter()
            app.post_message(events.Key(key, None))
            while app.table.cursor_row != expected and time.perf_counter() - t0 < 5:
                await asyncio.sleep(0.0005)
            latencies.append(time.perf_counter() - t0)
            await pilot.pause(0.2)
        assert max(latencies) < 1.0, latencies
        assert app.snapshot is not None and app.is_running


def test_durations_keep_seconds_only_while_they_matter() -> None:
    from fleet_tui.ui.format import duration

    assert [duration(s) for s in (None, 42, 125, 599, 600, 1505, 7440, 3 * 86400 + 7200)] == [
        "-", "42s", "2m05s", "9m59s", "10m", "25m", "2h04m", "3d02h"
    ]  # fmt: skip
