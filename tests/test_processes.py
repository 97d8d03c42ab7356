"""Stopping really stops: the whole process tree of a pane, stubborn background children included."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path

from helpers import wait_for

from fleet_tui.adapters import processes
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


def test_a_command_that_times_out_takes_its_whole_process_group_with_it(tmp_path: Path) -> None:
    marker = f"{secrets.randbelow(10**6) + 10**6}"  # a sleep nobody else runs
    started = time.monotonic()
    code, output = processes.run_command(
        f"echo started; sleep {marker} & sleep {marker}; echo never", tmp_path, dict(os.environ), 0.5
    )
    assert code is None and "started" in output and "never" not in output
    assert "timed out after 0.5 s" in output
    assert time.monotonic() - started < 10  # the background sleep did not keep the output pipe open
    assert not running_with(marker), "a child of the timed-out command is still running"


def test_a_command_that_finishes_gives_its_code_and_the_end_of_its_output(tmp_path: Path) -> None:
    code, output = processes.run_command("printf 'abcdef'; exit 3", tmp_path, dict(os.environ), 10, limit=3)
    assert (code, output) == (3, "def")


def running_with(word: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and word in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(proc.name)
    return found
