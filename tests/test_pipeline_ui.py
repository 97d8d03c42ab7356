"""The pipeline in the dashboard: gates and ready in the table, drift accepted with one key."""

from __future__ import annotations

from pathlib import Path

from conftest import git
from test_steer_ui import SIZE, ready, text_of, until
from textual.widgets import Button, Input

from fleet_tui.engine.actions import up
from fleet_tui.engine.state import load_state, read_events
from fleet_tui.models import Status
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.source import LiveSource
from fleet_tui.ui.steer_screens import MergeScreen, RestartScreen


async def test_ready_is_shown_and_drift_is_accepted_with_one_key_in_the_preflight(
    make_fleet, repo: Path
) -> None:
    fleet = make_fleet(
        [
            {"name": "api", "script": 'write src/api.py "x\\n"\ncommit "api"\nidle\n'},
            {"name": "docs", "scope": ["docs/**"],
             "script": 'write README.md "hijacked\\n"\ncommit "docs"\nidle\n'},
        ]
    )  # fmt: skip
    up(fleet)
    async with FleetApp(LiveSource(fleet, interval=0.3)).run_test(size=SIZE) as pilot:
        app = await ready(pilot, api=Status.READY)
        assert any("api is ready to merge" in n for n in app.notices)
        await until(pilot, lambda: app.snapshot.agent("docs").gates, what="docs gates")
        docs = app.snapshot.agent("docs")
        assert docs.status != Status.READY
        assert [g.ok for g in docs.gates if g.name == "drift"] == [False]

        app.select_agent("docs")
        await pilot.pause()
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MergeScreen), what="merge modal")
        screen: MergeScreen = app.screen  # type: ignore[assignment]
        await until(pilot, lambda: screen.preflight is not None, what="preflight")
        assert "DRIFT: 1 file outside its scope would come along: README.md" in text_of(
            screen, "#merge-checks"
        )
        assert screen.query_one("#merge-yes", Button).disabled
        assert screen.query_one("#merge-accept-drift", Button).display
        await pilot.press("a")
        await until(pilot, lambda: not screen.query_one("#merge-yes", Button).disabled, what="mergeable")
        assert "warn" in text_of(screen, "#merge-checks") and "drift accepted" in text_of(
            screen, "#merge-checks"
        )
        await pilot.press("enter")
        await until(pilot, lambda: load_state(fleet.layout).agent("docs").phase == "merged", what="merged")
    assert (repo / "README.md").read_text(encoding="utf-8") == "hijacked\n"
    assert [e.details["files"] for e in read_events(fleet.layout) if e.event == "drift-accepted"] == [
        ["README.md"]
    ]
    assert git(repo, "log", "-1", "--format=%s", "main").startswith("Merge fleet/docs")


async def test_the_restart_modal_asks_for_a_note_for_the_fresh_agent(make_fleet) -> None:
    fleet = make_fleet([{"name": "api", "script": "idle\n== restart ==\nshow-handoff\nidle\n"}])
    up(fleet)
    async with FleetApp(LiveSource(fleet, interval=0.3)).run_test(size=SIZE) as pilot:
        app = await ready(pilot, api=Status.IDLE)
        app.select_agent("api")
        await pilot.pause()
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestartScreen), what="restart modal")
        app.screen.query_one("#restart-note", Input).value = "try the other endpoint"
        await pilot.click("#restart-yes")
        await until(pilot, lambda: fleet.layout.handoff_file("api").exists(), what="handoff")
    handoff = fleet.layout.handoff_file("api").read_text(encoding="utf-8")
    assert "## A note from the person who runs this fleet\n\ntry the other endpoint\n" in handoff
