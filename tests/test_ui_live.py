"""The dashboard and its CLI companions on a real fleet: real tmux, real git, the scripted fake agent."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from helpers import FLEET_TUI, fleet_cli, pane_text, until, wait_for

from fleet_tui.adapters.tmux import client_env
from fleet_tui.engine.actions import up
from fleet_tui.engine.state import read_events
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.screens import DiffScreen
from fleet_tui.ui.source import LiveSource
from fleet_tui.ui.widgets import DiffView, PanePreview


async def test_dashboard_shows_drift_when_the_agent_writes_outside_its_scope(
    make_fleet: Any, tmp_path: Path
) -> None:
    cue = tmp_path / "cue"
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "scope": ["src/**"],
                "script": f'write src/ok.py "x = 1\\n"\nwait-file {cue}\nwrite docs/guide.md "changed\\n"\n',
            },
            {"name": "beta", "scope": ["tests/**"], "script": "idle"},
        ],
        idle_after=30,
    )
    up(fleet)
    app = FleetApp(LiveSource(fleet, interval=0.5))
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.snapshot and app.table.row_count == 2, what="first snapshot")
        await until(pilot, lambda: app.table.cell_text("alpha", "files") == "1", what="src/ok.py")
        assert app.table.cell_text("alpha", "drift") == "0"
        assert app.selected_name == "alpha"

        cue.write_text("go", encoding="utf-8")
        await until(pilot, lambda: app.table.cell_text("alpha", "drift") == "1", what="drift cell")
        assert app.table.cell_text("alpha", "files") == "2"
        assert "alpha drifted: docs/guide.md" in app.notices
        await until(pilot, lambda: "docs/guide.md" in str(app.query_one("#detail").render()))

        # the diff inspector reads real git: states and the diff of the drifted file
        await pilot.press("d")
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        await until(pilot, lambda: screen.states is not None, what="file states")
        assert screen.states == {"docs/guide.md": ("uncommitted",), "src/ok.py": ("untracked",)}
        view = screen.query_one(DiffView)
        await until(pilot, lambda: view.lines, what="diff")
        assert "+changed" in view.lines and "-# Guide" in view.lines
        await pilot.press("escape")

        # send: the fake agent echoes what arrives on its stdin
        text = """it's "ok"; echo $(whoami) `id` && exit"""
        await pilot.press("s")
        for char in text:
            await pilot.press(char if char != " " else "space")
        await pilot.press("enter")
        await until(pilot, lambda: f"received: {text}" in pane_text(fleet, "alpha"), what="echo")
        await until(pilot, lambda: "received: it's" in str(app.query_one(PanePreview).render()))


def test_cli_send_is_verbatim_and_errors_are_clear(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}])
    down = fleet_cli(fleet, "send", "alpha", "hello")
    assert down.returncode == 2 and "not up" in down.stderr and "Traceback" not in down.stderr
    up(fleet)
    wait_for(lambda: ">" in pane_text(fleet, "alpha"), what="prompt")
    text = """a 'quoted' "word"; $(rm -rf /) `x` \\n $HOME"""
    sent = fleet_cli(fleet, "send", "alpha", text)
    assert sent.returncode == 0, sent.stderr
    wait_for(lambda: f"received: {text}" in pane_text(fleet, "alpha"), what="argument text")
    piped = fleet_cli(fleet, "send", "alpha", "-", stdin="from stdin; $(x)\n")
    assert piped.returncode == 0, piped.stderr
    wait_for(lambda: "received: from stdin; $(x)" in pane_text(fleet, "alpha"), what="stdin text")
    sends = [e.details["text"] for e in read_events(fleet.layout) if e.event == "send"]
    assert sends == [text, "from stdin; $(x)"], "every send is in the event log"
    unknown = fleet_cli(fleet, "send", "nobody", "hi")
    assert unknown.returncode == 2
    assert "no agent named 'nobody'" in unknown.stderr and "alpha" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    assert fleet_cli(fleet, "attach", "nobody").returncode == 2


def test_attach_zooms_without_toggling_a_zoomed_pane(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}, {"name": "beta", "script": "idle"}])
    up(fleet)
    pane = fleet.pane_id("beta")
    argv = fleet.tmux.attach_argv(fleet.session, pane)
    assert argv[-3:] == ["attach-session", "-t", f"={fleet.session}"]
    prepare = argv[:-3]  # everything but the attach itself, which needs a terminal

    def zoomed() -> str:
        return subprocess.run(
            ["tmux", "-L", fleet.tmux.socket, "display-message", "-p", "-t", pane,
             "#{window_zoomed_flag}#{pane_active}"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip

    for _ in range(2):  # twice: the second time must not unzoom
        subprocess.run(prepare, env=client_env(), check=True, capture_output=True)
        assert zoomed() == "11"


def test_attach_from_the_dashboard_inside_tmux_and_back(make_fleet: Any, person_tmux: str) -> None:
    fleet = make_fleet(
        [
            {"name": "alpha", "script": 'say "ALPHA-SAYS-HELLO"\nidle'},
            {"name": "beta", "script": 'say "BETA-SAYS-HELLO"\nidle'},
        ]
    )
    up(fleet)
    command = f"{FLEET_TUI} -C {fleet.root} -f {fleet.spec.path}"
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    env["TERM"] = "xterm-256color"
    subprocess.run(
        ["tmux", "-L", person_tmux, "-f", "/dev/null", "new-session", "-d", "-s", "person",
         "-x", "140", "-y", "40", command],
        env=env, check=True,
    )  # fmt: skip

    def screen() -> str:
        return subprocess.run(
            ["tmux", "-L", person_tmux, "capture-pane", "-p", "-t", "person"],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip

    def keys(*names: str) -> None:
        subprocess.run(["tmux", "-L", person_tmux, "send-keys", "-t", "person", *names], check=True)

    wait_for(lambda: "BETA-SAYS-HELLO" in screen() or ("beta" in screen() and "base main" in screen()),
             timeout=30, what="dashboard")  # fmt: skip
    keys("Down")
    wait_for(lambda: "beta · pane" in screen(), timeout=20, what="beta selected")
    keys("a")
    # the fleet's own tmux now fills the terminal: beta's pane, zoomed, not the dashboard
    wait_for(lambda: "BETA-SAYS-HELLO" in screen() and "base main" not in screen(), timeout=20,
             what="attached to beta")  # fmt: skip
    assert "ALPHA-SAYS-HELLO" not in screen()  # zoomed: alpha's pane is not visible
    keys("C-b", "d")  # detach the nested client
    wait_for(lambda: "base main" in screen() and "beta · pane" in screen(), timeout=20,
             what="dashboard back with beta selected")  # fmt: skip
    keys("q")
    # q ends the dashboard, and with it the person's session (its only command): it really quit.
    wait_for(
        lambda: subprocess.run(["tmux", "-L", person_tmux, "has-session", "-t", "person"],
                               capture_output=True, check=False).returncode != 0,
        timeout=20, what="the dashboard to quit",
    )  # fmt: skip
    wait_for(lambda: "fleet-tui" not in screen() or "base main" not in screen(), timeout=20, what="quit")
