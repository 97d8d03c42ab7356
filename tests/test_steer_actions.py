"""Kill and restart on real tmux and git with the scripted fake agent."""

from __future__ import annotations

import json

import pytest
from helpers import files_of, pane_of, screen_of, wait_for, wait_snapshot

from fleet_tui.adapters import git as gitad
from fleet_tui.adapters import processes
from fleet_tui.engine import actions
from fleet_tui.engine.actions import up
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.state import load_state, read_events
from fleet_tui.errors import ActionRefused
from fleet_tui.models import Status


def test_kill_ends_whole_tree_keeps_work_and_is_harmless_twice(make_fleet) -> None:
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "script": 'write src/new.py "x = 1\\n"\nbinary src/blob.bin 300\norphan\nsay ready\nidle\n',
            }
        ]
    )
    up(fleet)
    wait_for(lambda: "ready" in screen_of(fleet, "alpha"), what="alpha ready")
    pane = pane_of(fleet, "alpha")
    tree = processes.tree(pane.pid)
    assert len(tree) >= 3, tree  # launcher, fake agent, its orphan
    worktree = fleet.layout.worktree("alpha")
    before = files_of(worktree)

    outcome = actions.kill(fleet, "alpha", grace=1.0)

    assert outcome.changed and "killed alpha" in outcome.message
    wait_for(lambda: not processes.alive(tree), timeout=10, what="the whole tree gone")
    assert files_of(worktree) == before
    assert outcome.snapshot is not None
    assert {p for _, p in outcome.snapshot.files} == {"src/new.py", "src/blob.bin"}
    assert load_state(fleet.layout).agent("alpha").phase == "killed"
    dead = wait_for(lambda: pane_of(fleet, "alpha").dead, what="pane dead")
    assert dead  # the pane is still there, readable
    snap = wait_snapshot(Monitor(fleet), lambda s: s.agents[0].status == Status.KILLED)
    assert "ready" in "\n".join(snap.agents[0].tail)

    again = actions.kill(fleet, "alpha", grace=1.0)
    assert not again.changed
    assert "already killed" in again.message
    assert again.snapshot is None  # same work as the newest snapshot: no duplicate
    events = [e.event for e in read_events(fleet.layout) if e.agent == "alpha"]
    assert events.count("kill") == 2 and "snapshot" in events


def test_kill_a_crashed_agent_is_harmless(make_fleet) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "say about to crash\ncrash\n"}])
    up(fleet)
    monitor = Monitor(fleet)
    wait_snapshot(monitor, lambda s: s.agents[0].status == Status.CRASHED, what="crashed")
    outcome = actions.kill(fleet, "alpha", grace=1.0)
    assert not outcome.changed
    assert "not running" in outcome.message
    assert load_state(fleet.layout).agent("alpha").phase == "killed"


def history_of(server, pane_id: str) -> str:
    return "\n".join(server.cmd("capture-pane", "-p", "-J", "-S", "-", "-t", pane_id).stdout)


def test_restart_gives_a_handoff_and_keeps_files(make_fleet, server) -> None:
    script = (
        'write src/app.py "def main():\\n    return 2\\n"\n'
        'commit "make main return 2"\n'
        'write src/extra.py "E = 1\\n"\n'
        'write docs/guide.md "drifted\\n"\n'
        "say first run done\nidle\n"
        "== restart ==\n"
        "show-handoff\nsay second run\nidle\n"
    )
    fleet = make_fleet([{"name": "alpha", "script": script, "max_restarts": 1}])
    up(fleet)
    wait_for(lambda: "first run done" in screen_of(fleet, "alpha"), what="first run")
    worktree = fleet.layout.worktree("alpha")
    before = files_of(worktree)

    outcome = actions.restart(fleet, "alpha", reason="testing the handoff")

    assert "attempt 1" in outcome.message
    handoff = fleet.layout.handoff_file("alpha").read_text(encoding="utf-8")
    assert "make main return 2" in handoff
    assert "src/app.py" in handoff and "src/extra.py" in handoff
    assert "DRIFT: `docs/guide.md`" in handoff
    assert "testing the handoff" in handoff and "restart 1 of 1" in handoff
    assert "first run done" in handoff  # the old pane's last lines
    # The handoff is not in the worktree nor in its diff.
    assert not any("handoff" in p for p in gitad.uncommitted_files(worktree))
    pane_id = pane_of(fleet, "alpha").pane_id
    wait_for(lambda: "second run" in history_of(server, pane_id), what="second run")
    seen = history_of(server, pane_id)
    assert "Handoff received" in seen and "make main return 2" in seen and "src/extra.py" in seen
    assert "first run done\n" not in seen.split("Handoff received")[0]  # the old screen was cleared
    assert files_of(worktree) == before
    record = load_state(fleet.layout).agent("alpha")
    assert (record.restarts, record.run, record.phase) == (1, 2, "running")

    # Past max_restarts: refused, marked as needing a person, nothing restarted.
    with pytest.raises(ActionRefused, match="max_restarts"):
        actions.restart(fleet, "alpha")
    record = load_state(fleet.layout).agent("alpha")
    assert record.needs_human and record.restarts == 1 and record.run == 2
    forced = actions.restart(fleet, "alpha", force=True, reason="a person insists")
    assert "past max_restarts" in forced.message
    record = load_state(fleet.layout).agent("alpha")
    assert (record.restarts, record.run, record.needs_human) == (2, 3, False)
    assert "a person insists" in fleet.layout.handoff_file("alpha").read_text(encoding="utf-8")
    restarts = [e for e in read_events(fleet.layout) if e.event == "restart"]
    assert [e.details["attempt"] for e in restarts] == [1, 2]
    json.dumps([e.model_dump() for e in restarts])  # every event stays plain JSON


def test_auto_restart_policy_restarts_a_crash_within_the_cap(make_fleet) -> None:
    fleet = make_fleet(
        [
            {
                "name": "alpha",
                "script": "crash\n== restart ==\ncrash\n",
                "restart_on": ["crashed"],
                "max_restarts": 1,
            }
        ]
    )
    up(fleet)
    monitor = Monitor(fleet)
    snap = wait_snapshot(monitor, lambda s: s.agents[0].status == Status.CRASHED, what="crashed")
    assert actions.auto_restart(fleet, snap, now=snap.agents[0].status_since + 1) == []  # backoff
    done = actions.auto_restart(fleet, snap, now=snap.agents[0].status_since + 1000)
    assert len(done) == 1 and "restarted alpha" in done[0]
    snap = wait_snapshot(
        monitor,
        lambda s: s.agents[0].status == Status.CRASHED and s.agents[0].restarts == 1,
        what="crashed again",
    )
    done = actions.auto_restart(fleet, snap, now=snap.agents[0].status_since + 10_000)
    assert "needs a person" in done[0]
    assert load_state(fleet.layout).agent("alpha").needs_human


def test_kill_without_polite_keys_needs_sigkill_for_an_orphan_ignoring_sigterm(make_fleet) -> None:
    from fleet_tui.engine.fleet import Fleet

    made = make_fleet([{"name": "alpha", "script": "orphan\nsay ready\nidle\n"}])
    # No exit keys: the orphan is not ended by the pane's interrupt, only by the signals.
    with made.spec.path.open("a", encoding="utf-8") as fh:
        fh.write("\n[preset.shell]\nexit_keys = []\n")
    fleet = Fleet.open(made.root, made.spec.path)
    assert fleet.agent("alpha").preset.exit_keys == ()
    up(fleet)
    wait_for(lambda: "ready" in screen_of(fleet, "alpha"), what="alpha ready")
    tree = processes.tree(pane_of(fleet, "alpha").pid)
    assert len(tree) >= 3, tree

    outcome = actions.kill(fleet, "alpha", grace=0.5)

    assert "needed SIGKILL" in outcome.message
    assert not processes.alive(tree)
    kill_event = [e for e in read_events(fleet.layout) if e.event == "kill"][-1]
    assert kill_event.details["sigkill"] >= 1
