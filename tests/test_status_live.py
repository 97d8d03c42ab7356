"""Live status through the Monitor, with the fake agent in real tmux panes and real git worktrees."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from conftest import git, write_files
from helpers import wait_for, wait_snapshot

from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import Monitor, cadence
from fleet_tui.engine.state import load_state
from fleet_tui.models import AgentSnapshot, FleetSnapshot, Status


def agent_in(snapshot: FleetSnapshot, name: str) -> AgentSnapshot:
    found = snapshot.agent(name)
    assert found is not None
    return found


def wait_status(monitor: Monitor, name: str, status: Status, timeout: float = 30) -> AgentSnapshot:
    snap = wait_snapshot(
        monitor, lambda s: agent_in(s, name).status == status, timeout=timeout, what=f"{name} {status}"
    )
    return agent_in(snap, name)


def test_working_idle_waiting_answered_exited(make_fleet: Any, server: Any, tmp_path: Path) -> None:
    cue = tmp_path / "cues"
    cue.mkdir()
    script = "\n".join(
        [
            f"wait-file {cue / 'go0'}",
            "work 3 building the parser",
            f"wait-file {cue / 'go1'}",
            'ask "Apply the change?"',
            "say answered-and-going-on",
            f"wait-file {cue / 'go2'}",
            "exit 0",
        ]
    )
    fleet: Fleet = make_fleet([{"name": "flow", "script": script}], idle_after=2)
    up(fleet)
    monitor = Monitor(fleet)
    try:
        first = agent_in(monitor.tick(), "flow")
        assert first.status == Status.STARTING, (first.status, first.status_reason, first.tail)
        assert first.status_reason == "started, no output yet"

        (cue / "go0").touch()
        working = wait_status(monitor, "flow", Status.WORKING)
        assert working.status_reason == "output changing"
        assert working.status_since >= first.status_since

        idle = wait_status(monitor, "flow", Status.IDLE)
        assert idle.status_reason.startswith("no output for ")
        assert "building the parser" in idle.last_line

        (cue / "go1").touch()
        waiting = wait_status(monitor, "flow", Status.WAITING)
        assert waiting.status_reason == "question on screen"
        assert waiting.status_evidence == "Apply the change? [y/n]"
        assert waiting.status_rule

        pane = fleet.pane_id("flow")
        assert pane
        server.cmd("send-keys", "-t", pane, "y", "Enter")
        answered = wait_snapshot(
            monitor,
            lambda s: (
                "answered-and-going-on" in agent_in(s, "flow").tail
                and agent_in(s, "flow").status != Status.WAITING
            ),  # once the new status held (status_hold)
            what="the answer to be taken",
        )
        assert "  ok, going ahead" in agent_in(answered, "flow").tail

        (cue / "go2").touch()
        exited = wait_status(monitor, "flow", Status.EXITED)
        assert exited.status_reason == "exit code 0"
        assert exited.exit_code == 0
    finally:
        monitor.close()


def test_crashes_carry_their_exit_code(make_fleet: Any) -> None:
    fleet: Fleet = make_fleet(
        [
            {"name": "three", "script": "say about to fail\nexit 3"},
            {"name": "boom", "script": "say about to crash\ncrash on cue"},
            {"name": "fine", "script": "exit 0"},
        ]
    )
    up(fleet)
    monitor = Monitor(fleet)
    try:
        snap = wait_snapshot(
            monitor,
            lambda s: all(a.status in (Status.CRASHED, Status.EXITED) for a in s.agents),
            what="every agent to end",
        )
    finally:
        monitor.close()
    three, boom, fine = (agent_in(snap, n) for n in ("three", "boom", "fine"))
    assert (three.status, three.status_reason, three.exit_code) == (Status.CRASHED, "exit code 3", 3)
    assert (boom.status, boom.status_reason, boom.exit_code) == (Status.CRASHED, "exit code 1", 1)
    assert any("RuntimeError: on cue" in line for line in boom.tail)
    assert not any(line.startswith("Pane is dead") for a in snap.agents for line in a.tail)
    assert boom.last_line.startswith("RuntimeError"), "tmux's dead-pane notice is not the agent's last line"
    assert (fine.status, fine.status_reason, fine.exit_code) == (Status.EXITED, "exit code 0", 0)


def test_queued_until_the_dependency_is_merged_by_hand(make_fleet: Any, server: Any, repo: Path) -> None:
    fleet: Fleet = make_fleet(
        [
            {"name": "first", "script": "idle"},
            {"name": "later", "depends_on": ["first"], "script": "say LATER-RUNNING"},
        ]
    )
    report = up(fleet)
    assert "queued later: waiting for first" in report.changes
    pane = fleet.pane_id("later")
    assert pane
    message = "[fleet-tui] later is queued: waiting for first to be merged into main."
    wait_for(
        lambda: message in "\n".join(server.cmd("capture-pane", "-p", "-J", "-t", pane).stdout),
        what="the queued pane to say what it waits for",
    )
    monitor = Monitor(fleet)
    try:
        later = agent_in(monitor.tick(), "later")
        assert (later.status, later.status_reason, later.waiting_for) == (
            Status.QUEUED,
            "waiting for first",
            ("first",),
        )
        # work on the branch that is not merged yet starts nothing
        first_tree = fleet.layout.worktree("first")
        write_files(first_tree, {"src/feature.py": "FEATURE = True\n"})
        git(first_tree, "add", "-A")
        git(first_tree, "commit", "-qm", "feature")
        assert fleet.start_ready() == []
        assert agent_in(monitor.tick(), "later").status == Status.QUEUED

        git(repo, "merge", "--no-ff", "-q", "-m", "merge first", "fleet/first")
        assert fleet.unmet_dependencies(fleet.agent("later")) == []
        ready = agent_in(monitor.tick(), "later")
        assert (ready.status, ready.status_reason) == (Status.QUEUED, "dependencies merged: ready to start")
        assert fleet.start_ready() == ["started later: its dependencies are merged"]
        assert load_state(fleet.layout).agents["later"].phase == "running"
        assert fleet.pane_id("later") == pane  # same pane, new process
        running = wait_snapshot(
            monitor, lambda s: "LATER-RUNNING" in agent_in(s, "later").tail, what="later to run"
        )
        assert agent_in(running, "later").status not in (Status.QUEUED, Status.MISSING)
        assert agent_in(running, "later").waiting_for == ()
        assert fleet.start_ready() == []  # started once only
    finally:
        monitor.close()


def test_drift_and_overlap_in_the_snapshot(make_fleet: Any) -> None:
    fleet: Fleet = make_fleet(
        [
            {
                "name": "api",
                "scope": ["src/**"],
                "script": (
                    'write src/app.py "changed by api\\n"\n'
                    'write docs/guide.md "api was here\\n"\nsay API-DONE'
                ),
            },
            {
                "name": "docs",
                "scope": ["docs/**"],
                "script": (
                    'append docs/guide.md "more words\\n"\n'
                    "rename src/util.py docs/util.md\n"
                    'commit "move util into docs"\n'
                    "say DOCS-DONE"
                ),
            },
            {"name": "quiet", "scope": ["tests/**"], "script": "idle"},
        ]
    )
    up(fleet)
    monitor = Monitor(fleet)
    try:
        snap = wait_snapshot(
            monitor,
            lambda s: "API-DONE" in agent_in(s, "api").tail and "DOCS-DONE" in agent_in(s, "docs").tail,
            what="both agents to finish their edits",
        )
        snap = monitor.tick()
    finally:
        monitor.close()
    api, docs, quiet = (agent_in(snap, n) for n in ("api", "docs", "quiet"))
    assert api.drift == ("docs/guide.md",)
    assert {f.path: f.in_scope for f in api.files} == {"docs/guide.md": False, "src/app.py": True}
    # the committed rename moved a file out of src/: docs/util.md is in docs' scope, src/util.py is not
    renamed = {f.path: f for f in docs.files}["docs/util.md"]
    assert renamed.old_path == "src/util.py"
    assert docs.drift == ("docs/util.md",)
    assert docs.commits_ahead == 1
    assert api.overlap == {"docs/guide.md": ("docs",)}
    assert docs.overlap == {"docs/guide.md": ("api",)}
    assert quiet.overlap == {} and quiet.drift == () and quiet.files == ()
    assert [(e.path, e.agents) for e in snap.overlaps] == [("docs/guide.md", ("api", "docs"))]
    assert (api.added, api.removed) == (2, 5)  # app.py +1 -2, guide.md +1 -3 against the merge-base


def test_a_one_off_reading_dates_statuses_from_their_evidence(make_fleet: Any) -> None:
    import time

    from fleet_tui.engine import actions
    from fleet_tui.engine.monitor import take_snapshot

    fleet: Fleet = make_fleet([{"name": "done", "script": "exit 0"}, {"name": "stop", "script": "idle"}])
    up(fleet)
    wait_for(lambda: fleet.layout.exit_file("done").exists(), what="done's exit")
    actions.kill(fleet, "stop", grace=0.5)
    before_reading = time.time()
    time.sleep(1.5)
    snap = take_snapshot(fleet, sample=0)  # a fresh monitor: it has never seen these statuses begin
    done, stop = snap.agent("done"), snap.agent("stop")
    assert done is not None and stop is not None
    assert done.status == Status.EXITED and done.status_since < before_reading  # the exit file's time
    assert stop.status == Status.KILLED and stop.status_since < before_reading  # the kill event's time


def test_a_reopened_monitor_keeps_an_idle_agents_age_from_the_event_log(
    make_fleet: Any, tmp_path: Path
) -> None:
    """An idle agent shares its tmux window with one that keeps printing: the window's activity is
    always fresh, so a monitor that starts again (a reopened dashboard, a restarted supervisor)
    must date the idle status from when it was logged, not from now."""
    import time

    from fleet_tui.engine.monitor import take_snapshot

    cue = tmp_path / "go"
    fleet: Fleet = make_fleet(
        [
            {"name": "quiet", "script": f"wait-file {cue}\nsay one line, then nothing\nidle"},
            {"name": "chatty", "script": "work 600 chatting"},
        ],
        idle_after=1,
    )
    up(fleet)
    monitor = Monitor(fleet, log_changes=True)  # as a dashboard's or the supervisor's
    try:
        assert agent_in(monitor.tick(), "quiet").status == Status.STARTING
        cue.touch()
        idle = wait_status(monitor, "quiet", Status.IDLE)
    finally:
        monitor.close()
    # Time passes, the chatty pane keeps the window active meanwhile.
    wait_for(lambda: time.time() - idle.status_since > 3, what="three seconds of the chatty pane's output")
    again = agent_in(take_snapshot(fleet, sample=0), "quiet")  # a new monitor's first sight
    assert again.status == Status.IDLE
    assert abs(again.status_since - idle.status_since) < 1.0, (again.status_since, idle.status_since)


def test_an_agents_own_files_wake_a_pane_read_between_slow_ticks(make_fleet: Any, tmp_path: Path) -> None:
    """The live loop reads panes every few seconds when the fleet is still; an agent's own files
    (its exit file, its hooks' signals, its statusline under .fleet/agents/) changing wakes a read
    at once. Here the tick is 60 s: the crash shows only through that wake."""
    cue = tmp_path / "cue"  # outside the worktree: touching it wakes nothing
    fleet: Fleet = make_fleet([{"name": "brief", "script": f"say hello\nwait-file {cue}\nexit 3\n"}])
    up(fleet)
    probe = Monitor(fleet)
    wait_snapshot(probe, lambda s: "hello" in agent_in(s, "brief").screen, what="the agent to start")
    probe.close()
    seen: list[FleetSnapshot] = []
    stop = threading.Event()
    monitor = Monitor(fleet)
    loop = threading.Thread(target=monitor.run, args=(seen.append, stop, 60.0), daemon=True)
    loop.start()
    try:
        wait_for(lambda: seen and "hello" in agent_in(seen[-1], "brief").screen, what="the first reading")
        # Until the watcher's watches are in place, a file written in the agent's folder wakes nothing.
        nudge, count = fleet.layout.agent_dir("brief") / "nudge", len(seen)
        wait_for(lambda: nudge.write_text(str(time.time())) or len(seen) > count, what="a woken read")
        cue.touch()
        started = time.monotonic()
        wait_for(
            lambda: agent_in(seen[-1], "brief").status == Status.CRASHED, timeout=30, what="the crash shown"
        )
        assert time.monotonic() - started < 20  # far sooner than the next tick (60 s)
        assert fleet.layout.exit_file("brief").exists()
    finally:
        stop.set()
        monitor.wake()
        loop.join(10)


def test_a_still_fleet_reads_its_panes_less_often_but_publishes_every_slow_tick(
    make_fleet: Any, monkeypatch: Any
) -> None:
    """Once still, the panes wait STILL_FACTOR ticks; snapshots (the supervisor's heartbeat rides on
    them) still come every SLOW_FACTOR ticks, so a still fleet's picture never goes stale."""
    monkeypatch.setattr(cadence, "QUIET_READS", 1)
    monkeypatch.setattr(cadence, "STILL_READS", 1)
    monkeypatch.setattr(cadence, "STILL_FACTOR", 10.0)  # panes every 2 s at a 0.2 s tick
    fleet: Fleet = make_fleet([{"name": "calm", "script": "say calm\nidle\n"}])
    up(fleet)
    monitor = Monitor(fleet)
    reads: list[float] = []
    read_panes = monitor.read_panes

    def counted() -> None:
        reads.append(time.monotonic())
        read_panes()

    monitor.read_panes = counted  # type: ignore[method-assign]
    seen: list[float] = []
    stop = threading.Event()
    loop = threading.Thread(
        target=monitor.run, args=(lambda _s: seen.append(time.monotonic()), stop, 0.2), daemon=True
    )
    loop.start()
    try:
        wait_for(lambda: len(reads) >= 4, timeout=30, what="the fleet to go still")
        start, published, panes = time.monotonic(), len(seen), len(reads)
        wait_for(lambda: time.monotonic() - start >= 4.0, timeout=10, interval=0.2, what="a still window")
        window = time.monotonic() - start
        assert len(reads) - panes <= window / 2.0 + 1  # panes every 2 s
        assert len(seen) - published >= window / 0.4 / 2  # a snapshot every 0.4 s (SLOW_FACTOR ticks)
    finally:
        stop.set()
        monitor.wake()
        loop.join(10)
