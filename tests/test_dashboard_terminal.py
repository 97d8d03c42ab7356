"""The real dashboard in a real terminal: `fleet-tui` running in a tmux pane at a small size, read
back with `capture-pane` as a person would see it (Pilot's headless screen laid the compact
summary out right where a real terminal did not)."""

from __future__ import annotations

import shlex
from typing import Any

from helpers import FLEET_TUI, wait_for

from fleet_tui.engine import actions, supervisor
from fleet_tui.engine.fleet import Fleet


def screen_of(pane: Any) -> list[str]:
    return [str(line) for line in pane.cmd("capture-pane", "-p").stdout]


def test_a_narrow_dashboard_shows_its_whole_summary_and_the_compact_layout(
    make_fleet: Any, server: Any
) -> None:
    fleet: Fleet = make_fleet(
        [
            {"name": "busy", "script": "work 600 building"},
            {"name": "quiet", "script": "say ready\nidle"},
            {"name": "done", "script": "exit 0"},
            {"name": "crasher", "script": "exit 3"},
            {"name": "drifter", "script": 'write docs/extra.md "x\\n"\nidle'},
        ]
    )
    actions.up(fleet)
    # The fleet's supervisor has settled before the dashboard opens (as when a person reopens it):
    # its very first picture is complete, so the summary is drawn long from the start.
    supervisor.start(fleet)

    def settled() -> bool:
        snapshot = supervisor.published(fleet.layout)
        if snapshot is None:
            return False
        statuses = {a.status.value for a in snapshot.agents}
        return {"exited", "crashed"} <= statuses and any(a.drift for a in snapshot.agents)

    wait_for(settled, timeout=40, what="the supervisor's picture to settle")
    # Without COLUMNS and LINES, which this tmux server's panes inherit (80x24): Textual would take
    # them for the terminal's size, as shutil.get_terminal_size does.
    dashboard = [FLEET_TUI, "-C", str(fleet.root), "-f", str(fleet.spec.path)]
    command = shlex.join(["env", "-u", "COLUMNS", "-u", "LINES", *dashboard])
    # A terminal 60 columns by 20 rows, on the test's own tmux server: sized first, then the
    # dashboard started in it (it reads its size once it runs, as in a person's terminal).
    session = server.new_session(session_name="person", window_command="sleep 600", x=60, y=20)
    session.set_option("status", "off")
    pane = session.active_window.active_pane
    pane.cmd("respawn-pane", "-k", command)

    def drawn() -> list[str] | None:
        """The screen once the picture has settled: every agent read, the drift seen."""
        lines = screen_of(pane)
        top = next((i for i, line in enumerate(lines) if line.startswith("╭─ agents")), None)
        summary = " ".join(lines[: top or 0])
        settled = all(words in summary for words in ("1 exited", "1 crashed", "1 drifted"))
        return lines if top is not None and settled and "reading" not in summary else None

    try:
        lines = wait_for(drawn, timeout=40, what="the dashboard drawn with every agent read")
    except AssertionError:
        size = pane.cmd("display", "-p", "#{pane_width}x#{pane_height}").stdout
        raise AssertionError(f"{size} {len(screen_of(pane))}\n" + "\n".join(screen_of(pane))) from None
    top = next(i for i, line in enumerate(lines) if line.startswith("╭─ agents"))
    summary = " ".join(lines[:top])
    assert top >= 2, lines  # the summary wraps onto a second row, not cut to one
    for words in ("base main", "1 working", "2 idle", "1 exited", "1 crashed", "1 drifted"):
        assert words in summary, (words, lines)
    assert "0 waiting" not in summary  # compact: counts of zero are left out
    assert not any("││" in line for line in lines), lines  # no detail panel beside the preview
