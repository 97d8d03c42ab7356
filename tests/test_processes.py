"""Stopping really stops: the whole process tree of a pane, stubborn background children included."""

from __future__ import annotations

from helpers import wait_for

from fleet_tui.adapters.processes import alive, stop_tree, tree
from fleet_tui.engine.actions import up
from fleet_tui.engine.state import load_state, read_exit


def test_stop_tree_ends_children_that_ignore_sigterm(make_fleet) -> None:
    fleet = make_fleet([{"name": "stubborn", "script": 'orphan\nsay "helper started"\n'}])
    up(fleet)
    pane = wait_for(lambda: next(iter(fleet.tmux.list_panes(fleet.session)), None), what="pane")
    assert pane.pid is not None
    # launcher sh -> fake agent -> background child ignoring SIGTERM
    wait_for(lambda: "helper started" in fleet.tmux.read(fleet.session)[0].screen, what="orphan")
    members = tree(pane.pid)
    assert len(members) >= 3
    result = stop_tree(pane.pid, grace=0.5)
    assert result.killed, "the SIGTERM-ignoring child needed SIGKILL"
    assert not alive(members - {pane.pid}), "every process but the launcher is gone"
    # The spared launcher records the agent's exit code and ends by itself.
    run = load_state(fleet.layout).agent("stubborn").run
    code = wait_for(lambda: read_exit(fleet.layout, "stubborn", run), what="exit code")
    assert code != 0
    wait_for(lambda: not alive({pane.pid}), what="launcher ended")


def test_stop_tree_of_nothing_is_harmless() -> None:
    assert stop_tree(2**22 + 12345, grace=0.1).terminated == ()
