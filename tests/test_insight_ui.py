"""The attention queue and the timeline screen: Pilot tests, and the pure parts underneath."""

from __future__ import annotations

from helpers import until
from memory_fleet import NOW, StaticSource, demo_snapshot, demo_source
from textual.widgets import OptionList, Static

from fleet_tui.attention import attention_queue, reasons_of
from fleet_tui.engine.state import Event
from fleet_tui.models import Status
from fleet_tui.report import build_report
from fleet_tui.timeline import rows
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.insight import AttentionScreen, TimelineScreen, timeline_text

SIZE = (140, 40)
T0 = NOW - 120  # the made-up history ends at the dashboard's clock


def test_queue_is_who_needs_the_person_oldest_first() -> None:
    snapshot = demo_snapshot()
    needs = attention_queue(snapshot)
    expected = sorted(
        (a.status_since, a.name)
        for a in snapshot.agents
        if a.status in (Status.WAITING, Status.CRASHED) or a.drift
    )
    assert [n.agent for n in needs] == [name for _, name in expected] == ["ui", "api", "docs"]
    assert needs[0].reasons == ("crashed (exit 1)",) and needs[0].waited(NOW) == 125
    assert needs[2].reasons[0] == "waiting for an answer" and "drifted" in needs[2].reasons[1]
    done = snapshot.agents[0].model_copy(update={"status": Status.EXITED, "drift": (), "commits_ahead": 2})
    assert reasons_of(done) == ["ready to merge: 2 commits"]
    one = done.model_copy(update={"commits_ahead": 1, "drift": ("a.py",), "status": Status.WAITING})
    assert reasons_of(one) == ["waiting for an answer", "drifted: 1 file outside its scope"]
    gated = done.model_copy(update={"status": Status.READY})
    assert reasons_of(gated) == ["ready to merge: every gate passed"]
    assert reasons_of(snapshot.agents[3]) == []  # queued: nothing to do for the person


async def test_attention_key_lists_the_queue_and_jumps_to_the_chosen_agent() -> None:
    app = FleetApp(demo_source(), clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.table.row_count)
        assert app.selected_name == "api"
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, AttentionScreen))
        options = app.screen.query_one(OptionList)
        lines = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert [line.split()[1] for line in lines] == ["ui", "api", "docs"]
        assert lines[0].split()[0] == "2m05s" and "crashed (exit 1)" in lines[0]
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: not isinstance(app.screen, AttentionScreen))
        assert app.selected_name == "docs"
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, AttentionScreen))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AttentionScreen))
        assert app.selected_name == "docs"


def made_up_events(first: str = "alpha", second: str = "beta") -> list[Event]:
    """A small history: the first agent works, waits 30 s, is merged; the second crashes and is
    restarted."""
    lines = [
        (0, first, "started", {"run": 1}),
        (0, second, "started", {"run": 1}),
        (10, first, "status", {"status": "working", "previous": "starting"}),
        (10, second, "status", {"status": "working", "previous": "starting"}),
        (40, first, "status", {"status": "waiting", "previous": "working"}),
        (50, second, "status", {"status": "crashed", "previous": "working"}),
        (70, first, "status", {"status": "working", "previous": "waiting"}),
        (80, second, "restart", {"attempt": 1, "reason": "crashed"}),
        (90, second, "status", {"status": "working", "previous": "crashed"}),
        (100, first, "merged", {"commit": "abc"}),
    ]
    return [
        Event(time=T0 + at, agent=agent, event=event, details=details) for at, agent, event, details in lines
    ]


def test_timeline_cells_follow_the_statuses() -> None:
    report = build_report(made_up_events(), ["alpha", "beta"], fleet="f", base="main", now=T0 + 120)
    alpha, beta = report.agents
    assert (alpha.working, alpha.waiting, alpha.merged_at) == (60.0, 30.0, T0 + 100)
    assert (beta.working, beta.crashed, len(beta.restarts)) == (70.0, 30.0, 1)  # 40 + 30 after the restart
    cols = dict(rows(report, 12))  # 10 s per column over 0..120 s
    assert [s for s, _ in cols["alpha"]] == ["starting"] + ["working"] * 3 + ["waiting"] * 3 + [
        "working"
    ] * 3 + ["merged"] * 2
    assert [g for _, g in cols["alpha"]][4] == "?" and [g for _, g in cols["alpha"]][10] == "M"
    assert [s for s, _ in cols["beta"]][5:9] == ["crashed", "crashed", "crashed", "starting"]
    assert [g for _, g in cols["beta"]][5] == "X" and [g for _, g in cols["beta"]][8] == "R"
    text = timeline_text(report, 60).plain.splitlines()
    assert text[0].startswith("time") and text[1].startswith("alpha") and text[2].startswith("beta")
    assert text[1].rstrip().endswith("M" + "─" * 7)  # merged: a thin line after the mark


async def test_timeline_key_draws_every_agent() -> None:
    source = StaticSource(snapshots=[demo_snapshot()], base="main", event_log=made_up_events("api", "docs"))
    app = FleetApp(source, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.report is not None)
        drawn = str(app.screen.query_one("#timeline", Static).render()).splitlines()
        assert [line.split()[0] for line in drawn[1:5]] == ["api", "docs", "ui", "search"]
        assert "M" in drawn[1] and "R" in drawn[2] and "X" in drawn[2]
        assert drawn[3].strip() == "ui" and drawn[4].strip() == "search"  # no events: nothing drawn
        head = str(app.screen.query_one("#timeline-head", Static).render())
        assert "wall 2m00s · working 2m10s" in head and "waiting for you 30s" in head
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TimelineScreen))


async def test_timeline_without_a_fleet_says_so() -> None:
    app = FleetApp(demo_source(), clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, TimelineScreen)
