"""Textual/Rich markup in data (file names, pane text, tasks, commands, sent text) is shown as text."""

from __future__ import annotations

from typing import Any

from helpers import fleet_cli, until, wait_for
from textual.widgets import DataTable, Input, Static

from fleet_tui.engine import actions
from fleet_tui.models import Status
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.screens import DiffScreen, SendScreen
from fleet_tui.ui.source import LiveSource
from fleet_tui.ui.steer_screens import KillScreen, LogScreen, MergeScreen
from fleet_tui.ui.widgets import AgentDetail, PanePreview

SIZE = (160, 50)
TASK = "[Bold]x marks the spot [/] and [red]this[/red]"
VERIFY = "echo '[/] verify [b]out' && true"
FILE = "docs/[/]zz.txt"
SENT = "[/] sent [bold]text"


def shown(widget: Any) -> str:
    return str(widget.render())


def title(widget: Any) -> str:
    return str(getattr(widget, "_border_title", None) or widget.border_title)


async def test_markup_in_every_kind_of_data_is_text_and_never_a_crash(make_fleet: Any) -> None:
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "task": TASK,
                "verify": VERIFY,
                "script": f'write "{FILE}" "x\\n"\nwrite "src/[b]a.py" "y\\n"\n'
                'say "[/] pane [red]line"\nidle\n',
            }
        ]
    )
    actions.up(fleet)
    app = FleetApp(LiveSource(fleet, interval=0.3))
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot,
            lambda: (
                app.snapshot is not None
                and app.snapshot.agent("alpha").status == Status.IDLE
                and FILE in app.snapshot.agent("alpha").drift
            ),
            what="alpha idle with its drifted file",
        )
        await pilot.pause(0.3)
        detail = shown(app.query_one(AgentDetail))
        assert "[Bold]x marks the spot [/]" in detail, detail
        assert FILE in detail
        await until(pilot, lambda: "[/] pane [red]line" in shown(app.query_one(PanePreview)), what="pane")

        # the diff inspector: the file list and the diff's title
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DiffScreen), what="diff screen")
        screen = app.screen
        files = screen.query_one("#files", DataTable)
        await until(pilot, lambda: files.row_count >= 2, what="files listed")
        assert FILE in {str(k.value) for k in files.rows}
        for _ in range(files.row_count):
            await pilot.press("down")
            await pilot.pause(0.1)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DiffScreen), what="back")

        # sending text with markup: the notice and the event log show it as it is
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SendScreen), what="send screen")
        app.screen.query_one(Input).value = SENT
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, SendScreen), what="sent")
        await until(pilot, lambda: any(SENT in str(n.message) for n in app._notifications), what="notice")
        await pilot.pause(0.5)

        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogScreen), what="log")
        table = app.screen.query_one("#log-table", DataTable)
        await until(pilot, lambda: table.row_count > 0, what="events")
        cells = [str(c) for k in table.rows for c in table.get_row(k)]
        assert any(SENT in c for c in cells), cells
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, LogScreen), what="back from log")

        # the merge preflight runs the verify, whose command and output both carry markup
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MergeScreen), what="merge modal")
        merge: MergeScreen = app.screen  # type: ignore[assignment]
        await until(pilot, lambda: merge.preflight is not None, what="preflight")
        await pilot.pause(0.2)
        output = merge.query_one("#verify-output", Static)
        assert "[/] verify [b]out" in shown(output)
        assert VERIFY in title(output)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, MergeScreen), what="back from merge")

        # the kill confirmation lists the uncommitted files by name
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, KillScreen), what="kill modal")
        await pilot.pause(0.2)
        assert FILE in shown(app.screen.query_one("#kill-stakes", Static))
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.is_running


def test_the_cli_prints_markup_in_data_as_text(make_fleet: Any) -> None:
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "scope": ["src/**", "[/]nothing"],
                "script": f'write "{FILE}" "x\\n"\nsay done\nidle\n',
            }
        ]
    )
    plan = fleet_cli(fleet, "plan")
    assert plan.returncode == 0 and "'[/]nothing'" in plan.stderr, plan.stderr
    actions.up(fleet)
    wait_for(
        lambda: FILE in fleet_cli(fleet, "status", "--sample", "0").stdout, what="the drifted file in status"
    )
    unknown = fleet_cli(fleet, "send", "x[/]y", "hi")
    assert unknown.returncode == 2 and "no agent named 'x[/]y'" in unknown.stderr, unknown.stderr
    for result in (plan, unknown):
        assert "Traceback" not in result.stderr
