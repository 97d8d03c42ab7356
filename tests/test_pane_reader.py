"""PaneReader: an idle session costs one listing, and new output is never missed."""

from __future__ import annotations

import time
from pathlib import Path

from helpers import wait_for

from fleet_tui.adapters.tmux import PaneReader, Tmux
from fleet_tui.engine.actions import up


def test_idle_panes_are_not_captured_again_but_new_output_is(make_fleet, tmp_path: Path) -> None:
    cue = tmp_path / "go"
    fleet = make_fleet(
        [
            {"name": "quiet", "script": 'say "quiet and ready"\n'},
            {
                "name": "later",
                "script": f'say "later and ready"\nwait-file {cue}\nsay "new output after the cue"\n',
            },
        ],
        panes_per_window=1,  # window activity is per window: one pane each keeps them apart
    )
    up(fleet)
    reader = PaneReader(fleet.tmux, fleet.session)

    def screens() -> dict[str, str]:
        return {p.agent: p.screen for p in reader.read()}

    wait_for(lambda: all("ready" in s for s in screens().values()) and len(screens()) == 2, what="ready")
    time.sleep(1.2)  # window activity has a one-second grain: let the last output fall behind
    screens()
    screens()  # panes that changed last time are captured once more ahead of the listing ("hot")
    before = reader.captures
    for _ in range(3):
        assert "later and ready" in screens()["later"]
    assert reader.captures == before, "nothing changed, so no screen was captured again"

    cue.touch()
    wait_for(lambda: "new output after the cue" in screens()["later"], what="new output", timeout=20)
    assert "quiet and ready" in screens()["quiet"]


def test_a_vanished_pane_is_dropped_not_an_error(make_fleet) -> None:
    fleet = make_fleet([{"name": "a", "script": "say hi\n"}, {"name": "b", "script": "say hi\n"}])
    up(fleet)
    reader = PaneReader(fleet.tmux, fleet.session)
    wait_for(lambda: len(reader.read()) == 2, what="two panes")
    fleet.tmux._cmd("kill-pane", "-t", fleet.pane_id("b"))
    assert [p.agent for p in reader.read()] == ["a"]
    fleet.down()
    assert reader.read() == []


def test_a_fleet_of_250_panes_reads(server) -> None:
    """tmux refuses one command line past ~16 KB: a read of many panes is split across calls."""
    tmux = Tmux(server.socket_name)
    session = "many"
    count = 250
    # Cheap panes: `cat` waits on its terminal and prints nothing; a marker line tells them apart.
    tmux._cmd("new-session", "-d", "-s", session, "-x", "80", "-y", "5", "sh", "-c", "echo pane-0; exec cat")
    for start in range(1, count, 50):
        tmux._cmd(
            *tmux._chain(
                [
                    ("new-window", "-d", "-t", f"={session}:", "sh", "-c", f"echo pane-{i}; exec cat")
                    for i in range(start, min(count, start + 50))
                ]
            )
        )
    reader = PaneReader(tmux, session)

    def marked() -> int:
        return sum(1 for pane in reader.read() if pane.screen.startswith("pane-"))

    wait_for(lambda: marked() == count, what=f"{count} screens read", timeout=60)
    started = time.process_time()
    panes = reader.read()
    assert len(panes) == count
    assert {p.screen.splitlines()[0] for p in panes} == {f"pane-{i}" for i in range(count)}
    assert time.process_time() - started < 2.0, "an idle read of 250 panes costs about one listing"
