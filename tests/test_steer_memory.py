"""The steering keys and their screens on the in-memory fleet (no tmux, no git): Pilot tests of what
each key offers and does, and SVG snapshots of the modals.

Update the SVGs after a deliberate change with `pytest tests/test_steer_memory.py --snapshot-update`,
then look at them in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers import until
from memory_fleet import NOW, StaticSource, demo_source
from textual.widgets import Button, DataTable, Static

from fleet_tui.engine.actions import Check, Preflight, QueueItem, QueuePlan
from fleet_tui.engine.state import Event
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.steer_screens import (
    KillScreen,
    LogScreen,
    MergeScreen,
    QueueScreen,
    RestartScreen,
    ResultScreen,
)

SIZE = (140, 40)
EVENTS = [
    Event(time=NOW - 60, agent="api", event="started", details={"run": 1}),
    Event(time=NOW - 30, agent="ui", event="restart", details={"attempt": 1, "reason": "it crashed"}),
    Event(time=NOW - 10, agent=None, event="up", details={"changes": ["started docs"]}),
]
QUEUE = QueuePlan(
    "main",
    "b" * 40,
    (
        QueueItem("api", "a" * 40, 1, 0, (), True),
        QueueItem("docs", "d" * 40, 2, 1, ("api",), False, ("src/shared/config.py",)),
    ),
    (("search", "queued: its dependencies are not merged"),),
)


def steerable(**kwargs: Any) -> StaticSource:
    return demo_source(base="main", event_log=list(EVENTS), queue_plan=QUEUE, **kwargs)


async def loaded(pilot: Any) -> FleetApp:
    app: FleetApp = pilot.app
    await until(pilot, lambda: app.snapshot is not None and app.table.row_count, "the first snapshot")
    await pilot.pause()
    return app


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_the_engine_decides_which_keys_apply_and_says_why() -> None:
    source = steerable()
    async with FleetApp(source, clock=lambda: NOW).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        app.select_agent("search")  # queued: it can be killed, not restarted or merged
        await pilot.pause()
        assert app.check_action("kill", ()) is True
        assert app.check_action("restart", ()) is None and app.check_action("merge", ()) is None
        app.action_restart()  # as the palette would: refused with the engine's reason, nothing done
        await pilot.pause()
        assert source.steered == []
        assert any("queued: it starts by itself" in str(n.message) for n in app._notifications)
    closed = demo_source()  # no fleet open: no steering key applies
    async with FleetApp(closed, clock=lambda: NOW).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        assert app.check_action("kill", ()) is None and app.check_action("log", ()) is None


async def test_kill_asks_with_the_stakes_then_kills() -> None:
    source = steerable()
    async with FleetApp(source, clock=lambda: NOW).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        app.select_agent("api")
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, KillScreen), "the kill confirmation")
        stakes = text_of(app.screen, "#kill-stakes")
        assert "3 uncommitted files" in stakes and "1 commit not in main" in stakes
        await pilot.press("escape")  # cancel: nothing happens
        await until(pilot, lambda: not isinstance(app.screen, KillScreen))
        assert source.steered == []
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, KillScreen))
        await pilot.press("y")
        await until(pilot, lambda: source.steered == [("kill", "api")], "the kill")
        await until(pilot, lambda: any("killed api" in str(n.message) for n in app._notifications))


async def test_restart_passes_the_reason_and_a_failure_becomes_a_notice() -> None:
    source = steerable()
    async with FleetApp(source, clock=lambda: NOW).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        app.select_agent("ui")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestartScreen), "the restart confirmation")
        await pilot.press(*"flaky", "enter")
        await until(pilot, lambda: source.steered and source.steered[0][:2] == ("restart", "ui"), "restart")
        assert "flaky" in source.steered[0][2]
        source.fail.add("restart")
        await until(pilot, lambda: not isinstance(app.screen, RestartScreen))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestartScreen))
        await pilot.press("enter")
        # The worker's failure is handled in one place: a notice with the error's hint, no crash.
        await until(
            pilot,
            lambda: any("restart failed on purpose" in str(n.message) for n in app._notifications),
            "the failure notice",
        )
        assert any("the test asked restart to fail" in str(n.message) for n in app._notifications)


async def test_merge_shows_the_preflight_then_a_refusal_in_full() -> None:
    source = steerable(refuse={"api"})
    async with FleetApp(source, clock=lambda: NOW).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        app.select_agent("api")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MergeScreen), "the merge modal")
        modal = app.screen
        await until(pilot, lambda: modal.preflight is not None, "the preflight")
        assert "merges cleanly into main" in text_of(modal, "#merge-checks")
        assert modal.query_one("#merge-yes", Button).has_focus  # every check passed: enter merges
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ResultScreen), "the refusal")
        assert "conflicts in a.py" in text_of(app.screen, "#result-body")
        assert ("merge", "api") in source.steered


async def test_a_failed_preflight_is_said_in_the_modal_and_merge_stays_off() -> None:
    source = steerable(fail={"preflight"})
    async with FleetApp(source, clock=lambda: NOW).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        app.select_agent("api")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MergeScreen))
        modal = app.screen
        await until(pilot, lambda: "preflight failed" in text_of(modal, "#merge-checks"), "the failure")
        assert "preflight failed on purpose" in text_of(modal, "#merge-checks")
        assert modal.query_one("#merge-yes", Button).disabled


async def test_merge_queue_plan_then_run_and_the_log() -> None:
    source = steerable()
    async with FleetApp(source, clock=lambda: NOW).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen), "the queue plan")
        modal = app.screen
        await until(pilot, lambda: modal.plan is not None, "the plan")
        plan = text_of(modal, "#queue-plan")
        assert "1. api: 1 commit, overlaps nobody: merges cleanly" in plan
        assert "CONFLICT in src/shared/config.py" in plan and "skipped search" in plan
        await pilot.click("#queue-yes")
        await until(pilot, lambda: ("queue", "api", "docs") in source.steered, "the queue run")

        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogScreen), "the log")
        table = app.screen.query_one("#log-table", DataTable)
        await until(pilot, lambda: table.row_count == 3, "the events")
        assert [str(table.get_row_at(i)[2]) for i in range(3)] == ["up", "restart", "started"]  # newest first


# -- SVG snapshots ------------------------------------------------------------------------------------


def open_on(agent: str | None, key: str, ready: Callable[[Any], bool]) -> Callable[[Any], Any]:
    async def run_before(pilot: Any) -> None:
        app = await loaded(pilot)
        if agent:
            app.select_agent(agent)
        await pilot.press(key)
        await until(pilot, lambda: ready(app.screen), f"the screen of {key}")
        await pilot.pause()

    return run_before


def test_kill_modal(snap_compare: Any) -> None:
    """Kill api: its three uncommitted files and one commit at stake, Kill / Cancel."""
    app = FleetApp(steerable(), clock=lambda: NOW)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=open_on("api", "k", lambda s: isinstance(s, KillScreen))
    )


def test_merge_modal_after_the_preflight(snap_compare: Any) -> None:
    """Merge api: a preflight with a failing verify (output shown), Merge disabled."""
    failing = Preflight(
        "api",
        "main",
        "b" * 40,
        "a" * 40,
        (
            Check("uncommitted", True, "no uncommitted work"),
            Check("commits", True, "1 commit not in main"),
            Check("scope", True, "note: 1 file outside its scope come along: src/shared/config.py"),
            Check("conflicts", True, "merges cleanly into main"),
            Check("verify", False, "`pytest -q` failed (exit 1)"),
        ),
        verify_command="pytest -q",
        verify_code=1,
        verify_output="F.\nFAILED test_items.py::test_page_two - assert 50 == 20\n1 failed, 1 passed",
    )
    app = FleetApp(steerable(preflights={"api": failing}), clock=lambda: NOW)
    ready = lambda s: isinstance(s, MergeScreen) and s.preflight is not None  # noqa: E731
    assert snap_compare(app, terminal_size=SIZE, run_before=open_on("api", "m", ready))


def test_merge_queue_modal(snap_compare: Any) -> None:
    """The queue plan: api merges cleanly, docs conflicts after it, search skipped; Run / Cancel."""
    app = FleetApp(steerable(), clock=lambda: NOW)
    ready = lambda s: isinstance(s, QueueScreen) and s.plan is not None  # noqa: E731
    assert snap_compare(app, terminal_size=SIZE, run_before=open_on(None, "M", ready))
