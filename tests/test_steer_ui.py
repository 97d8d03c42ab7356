"""Pilot tests of the steering keys and their screens on a real small fleet (tmux, git, fake agents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import git
from helpers import until
from textual.widgets import Button, DataTable, Select, Static

from fleet_tui.engine.actions import up
from fleet_tui.engine.state import load_state
from fleet_tui.models import Status
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.commands import FleetCommands
from fleet_tui.ui.source import LiveSource
from fleet_tui.ui.steer_screens import (
    KillScreen,
    LogScreen,
    MergeScreen,
    QueueScreen,
    RestartScreen,
    ResultScreen,
)

SIZE = (150, 45)


def status_of(app: FleetApp, name: str) -> Status | None:
    agent = app.snapshot.agent(name) if app.snapshot else None
    return agent.status if agent else None


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def ready(pilot: Any, **wanted: Status) -> FleetApp:
    app: FleetApp = pilot.app
    await until(
        pilot,
        lambda: app.snapshot is not None and all(status_of(app, n) == s for n, s in wanted.items()),
        what=f"statuses {wanted}",
    )
    return app


async def test_kill_restart_past_the_cap_and_the_log(make_fleet) -> None:
    fleet = make_fleet(
        [
            {"name": "alpha", "max_restarts": 1, "script": 'write src/a.py "work\\n"\nsay ready\nidle\n'},
            {"name": "beta", "script": "idle\n"},
        ]
    )
    up(fleet)
    async with FleetApp(LiveSource(fleet, interval=0.3)).run_test(size=SIZE) as pilot:
        app = await ready(pilot, alpha=Status.IDLE, beta=Status.IDLE)
        await until(pilot, lambda: app.snapshot.agent("alpha").files, what="alpha's file")
        app.select_agent("alpha")
        await pilot.pause()
        assert app.check_action("kill", ()) is True
        assert app.check_action("merge", ()) is True  # it has work

        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, KillScreen), what="kill confirmation")
        stakes = text_of(app.screen, "#kill-stakes")
        assert "1 uncommitted file (src/a.py)" in stakes and "no commits" in stakes
        await pilot.press("y")
        await until(pilot, lambda: load_state(fleet.layout).agent("alpha").phase == "killed", what="killed")
        await ready(pilot, alpha=Status.KILLED)
        assert app.check_action("kill", ()) is None  # dimmed: nothing left to kill
        assert app.check_action("restart", ()) is True
        # The palette and the help screen follow the Footer: no Kill for a killed agent.
        assert not app.applies("kill") and app.applies("restart")
        names = [name for name, _, _ in FleetCommands(app.screen).commands()]
        assert "Restart alpha" in names and not any(n.startswith("Kill") for n in names)

        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestartScreen), what="restart confirmation")
        assert not app.screen.query("#restart-cap")
        await pilot.press("enter")  # the reason input is focused: enter confirms
        await until(pilot, lambda: load_state(fleet.layout).agent("alpha").restarts == 1, what="restart 1")

        await until(pilot, lambda: not isinstance(app.screen, RestartScreen))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestartScreen), what="second confirmation")
        assert "max_restarts = 1" in text_of(app.screen, "#restart-cap")
        assert str(app.screen.query_one("#restart-yes", Button).label) == "Restart past the limit"
        await pilot.click("#restart-yes")
        await until(pilot, lambda: load_state(fleet.layout).agent("alpha").restarts == 2, what="restart 2")

        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogScreen), what="log screen")
        log: LogScreen = app.screen  # type: ignore[assignment]
        table = log.query_one("#log-table", DataTable)
        await until(pilot, lambda: table.row_count > 3, what="events")
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]  # cells are Text
        assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)  # newest first
        actions = [(r[1], r[2]) for r in rows if r[2] != "status"]  # the monitor logs status changes too
        assert actions[0] == ("alpha", "restart") and ("alpha", "kill") in actions
        log.query_one("#log-agent", Select).value = "beta"
        await until(pilot, lambda: all(str(table.get_row_at(i)[1]) == "beta" for i in range(table.row_count)))
        assert table.row_count >= 1
        await pilot.press("a")
        await until(
            pilot, lambda: any(str(table.get_row_at(i)[1]) == "alpha" for i in range(table.row_count))
        )
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, LogScreen))


async def test_merge_preflight_modal_and_the_merge_queue(make_fleet, repo: Path) -> None:
    fleet = make_fleet(
        [
            {"name": "beta", "script": 'write src/b.py "b\\n"\ncommit "b"\nidle\n'},
            {
                "name": "gamma",
                "verify": "echo verify says no; exit 1",
                "max_rounds": 0,  # no automatic retry of the failing verify: the person decides
                "script": 'write src/g.py "g\\n"\ncommit "g"\nidle\n',
            },
        ]
    )
    up(fleet)
    async with FleetApp(LiveSource(fleet, interval=0.3)).run_test(size=SIZE) as pilot:
        # beta's gates all pass (no verify): ready; gamma's verify fails: it stays idle.
        app = await ready(pilot, beta=Status.READY, gamma=Status.IDLE)
        await until(pilot, lambda: all(a.commits_ahead for a in app.snapshot.agents), what="commits")
        head = git(repo, "rev-parse", "main")

        app.select_agent("gamma")
        await pilot.pause()
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MergeScreen), what="merge modal")
        screen: MergeScreen = app.screen  # type: ignore[assignment]
        await until(pilot, lambda: screen.preflight is not None, what="preflight")
        assert "FAIL" in text_of(screen, "#merge-checks") and "verify" in text_of(screen, "#merge-checks")
        assert "verify says no" in text_of(screen, "#verify-output")
        assert screen.query_one("#merge-yes", Button).disabled
        assert screen.focused is screen.query_one("#merge-no", Button), "a refused merge keeps Cancel"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, MergeScreen))
        assert git(repo, "rev-parse", "main") == head

        app.select_agent("beta")
        await pilot.pause()
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MergeScreen), what="merge modal")
        screen = app.screen  # type: ignore[assignment]
        await until(pilot, lambda: not screen.query_one("#merge-yes", Button).disabled, what="mergeable")
        assert "merges cleanly into main" in text_of(screen, "#merge-checks")
        assert screen.focused is screen.query_one("#merge-yes", Button), "all checks passed: enter merges"
        await pilot.press("enter")
        await until(pilot, lambda: load_state(fleet.layout).agent("beta").phase == "merged", what="merged")
        assert git(repo, "log", "-1", "--format=%s", "main").startswith("Merge fleet/beta")
        await ready(pilot, beta=Status.MERGED)
        assert app.check_action("merge", ()) is None  # dimmed for a merged agent

        # Under load gamma can still read as just starting here: the queue rightly skips it then.
        settled = (Status.STARTING, Status.WORKING, Status.WAITING)
        await until(pilot, lambda: status_of(app, "gamma") not in settled, what="gamma settled")
        head = git(repo, "rev-parse", "main")
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen), what="queue plan")
        queue: QueueScreen = app.screen  # type: ignore[assignment]
        await until(pilot, lambda: queue.plan is not None, what="plan")
        plan_text = text_of(queue, "#queue-plan")
        assert "1. gamma" in plan_text and "skipped beta: already merged" in plan_text
        await pilot.click("#queue-yes")
        await until(pilot, lambda: isinstance(app.screen, ResultScreen), what="queue result")
        assert "stopped at gamma" in app.screen.title_text
        assert "verify" in text_of(app.screen, "#result-body")
        assert git(repo, "rev-parse", "main") == head
