"""A huge diff viewed in the inspector is let go of when the inspector closes: the dashboard's memory
goes back to what it was (a 50 MB diff used to keep 137 MB after closing)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from helpers import until
from hypothesis import given
from hypothesis import strategies as st
from memory_fleet import NOW, StaticSource, demo_snapshot
from rich.cells import cell_len

from fleet_tui.models import FileChange
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.difflines import DiffLines
from fleet_tui.ui.screens import DiffScreen
from fleet_tui.ui.widgets import DiffView


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc (Linux)")
async def test_closing_the_inspector_gives_a_50_mb_diff_back() -> None:
    count = 50 * 1024 * 1024 // 48
    body = "".join(f"+line {i:08} some code here = value_{i}\t# c\n" for i in range(count))
    big = "diff --git a/big.py b/big.py\n@@ -0,0 +1 @@\n" + body
    del body
    agents = tuple(
        a.model_copy(update={"files": (FileChange(path="big.py", added=count, removed=0),)})
        if a.name == "api"
        else a
        for a in demo_snapshot().agents
    )
    snapshot = demo_snapshot().model_copy(update={"agents": agents})
    app = FleetApp(StaticSource(snapshots=[snapshot], diffs={("api", "big.py"): big}), clock=lambda: NOW)
    del big  # the source keeps its own copy: that one counts in `before` too
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count)
        app.select_agent("api")
        await pilot.pause(0.3)
        gc.collect()
        before = rss_mb()
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DiffScreen), what="the inspector")
        view = app.screen.query_one(DiffView)
        await until(pilot, lambda: len(view.lines) == count + 2, timeout=60, what="the whole diff")
        assert view.lines[-1].startswith(f"+line {count - 1:08}")
        opened = rss_mb()
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DiffScreen), what="closed")
        await pilot.pause(0.5)
        gc.collect()
        closed = rss_mb()
        assert len(view.lines) == 0, "the closed inspector's view holds no diff"
    assert opened - before > 40, (before, opened)  # the diff was really held while shown
    assert closed - before < 25, f"kept {closed - before:.0f} MB after closing (before {before:.0f} MB)"


@given(st.text(alphabet=st.sampled_from(["a", "é", "漢", "\t", "\n", "\r", " ", "+", "-"]), max_size=200))
def test_diff_lines_are_the_lines_a_person_sees(text: str) -> None:
    lines = DiffLines(text)
    expected = [line.removesuffix("\r").expandtabs(4) for line in text.split("\n")]
    if text.endswith("\n"):
        expected.pop()
    if not text:
        expected = []
    assert list(lines) == expected and len(lines) == len(expected)
    assert [lines[i] for i in range(-len(expected), 0)] == expected
    assert lines[1:3] == expected[1:3]
    assert lines.width() >= max((cell_len(line) for line in expected), default=0)


def test_diff_lines_width_is_in_cells() -> None:
    assert DiffLines("ab\nabcd\n").width() == 4
    assert DiffLines("漢字\nab").width() == 4
    assert DiffLines("\tx").width() == 5
    assert DiffLines("").width() == 0 and len(DiffLines("")) == 0
    with pytest.raises(IndexError):
        DiffLines("a")[1]


def test_a_crlf_diff_shows_no_carriage_returns() -> None:
    assert list(DiffLines("a\r\nb\r\n")) == ["a", "b"]
