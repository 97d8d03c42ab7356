"""state.json under a lock, its backup and recovery, typed phases, and a tolerant event log."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fleet_tui.cli import cli
from fleet_tui.engine import actions
from fleet_tui.engine.state import (
    EventLog,
    FleetState,
    Layout,
    Phase,
    StateUnreadable,
    load_state,
    log_event,
    read_events,
    save_state,
    update_state,
)


def layout_at(tmp_path: Path) -> Layout:
    return Layout(root=tmp_path, worktree_root=tmp_path / "wt")


def _bump_many(root: str, agent: str, times: int) -> None:
    layout = Layout(root=Path(root), worktree_root=Path(root) / "wt")
    for _ in range(times):
        with update_state(layout) as state:
            state.agent(agent).run += 1


def test_concurrent_processes_and_threads_lose_no_update(tmp_path: Path) -> None:
    layout = layout_at(tmp_path)
    save_state(layout, FleetState(base="main"))
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_bump_many, args=(str(tmp_path), f"a{i}", 150)) for i in range(3)]
    # Two processes on the same agent too: their increments must add up, not overwrite each other.
    workers += [ctx.Process(target=_bump_many, args=(str(tmp_path), "shared", 150)) for _ in range(2)]
    for worker in workers:
        worker.start()
    seen = 0
    while any(w.is_alive() for w in workers):  # a reader never sees half a file
        json.loads(layout.state_file.read_text(encoding="utf-8"))
        seen += 1
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    state = load_state(layout)
    assert [state.agents[f"a{i}"].run for i in range(3)] == [150, 150, 150]
    assert state.agents["shared"].run == 300
    assert state.base == "main" and seen > 0


def test_the_lock_is_reentrant_and_phases_are_typed(tmp_path: Path) -> None:
    layout = layout_at(tmp_path)
    with update_state(layout) as outer:
        outer.base = "main"
        with update_state(layout) as inner:  # nested in one thread: no deadlock
            inner.agent("x").phase = "killed"  # type: ignore[assignment]
    state = load_state(layout)
    assert state.agent("x").phase is Phase.NEW  # the outer write wins: it was the last one
    with update_state(layout) as state:
        state.agent("x").phase = "killed"  # type: ignore[assignment]
        assert state.agent("x").phase is Phase.KILLED
        with pytest.raises(ValueError):
            state.agent("x").phase = "kiled"  # type: ignore[assignment]
    assert load_state(layout).agent("x").phase is Phase.KILLED


@pytest.mark.parametrize("damage", ["delete", "garbage", "wrong-shape", "empty"])
def test_a_damaged_state_is_recovered_from_its_backup(tmp_path: Path, damage: str) -> None:
    layout = layout_at(tmp_path)
    good = FleetState(base="trunk")
    good.agent("a").phase = Phase.KILLED
    good.agent("a").restarts = 2
    save_state(layout, good)
    text = {"garbage": "{not json", "wrong-shape": '{"agents": {"a": {"phase": 3}}}', "empty": ""}
    if damage == "delete":
        layout.state_file.unlink()
    else:
        layout.state_file.write_text(text[damage], encoding="utf-8")
    state = load_state(layout)
    assert state.base == "trunk"
    assert (state.agent("a").phase, state.agent("a").restarts) == (Phase.KILLED, 2)
    # Put back in place, and said once in the event log.
    assert json.loads(layout.state_file.read_text(encoding="utf-8"))["base"] == "trunk"
    recovered = [e for e in read_events(layout) if e.event == "state-recovered"]
    assert len(recovered) == 1 and "backup" in recovered[0].details["message"]
    load_state(layout)
    assert len([e for e in read_events(layout) if e.event == "state-recovered"]) == 1


def test_without_a_backup_the_event_log_rebuilds_the_state(tmp_path: Path) -> None:
    layout = layout_at(tmp_path)
    log_event(layout, None, "up", changes=["..."], base="trunk")
    log_event(layout, "a", "started", run=1)
    log_event(layout, "b", "started", run=1)
    log_event(layout, "a", "restart", attempt=1, run=2)
    log_event(layout, "b", "kill", was="running")
    log_event(layout, "c", "merged", commit="abc", base="trunk")
    layout.state_file.write_text("{", encoding="utf-8")
    state = load_state(layout)
    assert state.base == "trunk"
    assert (state.agent("a").phase, state.agent("a").run, state.agent("a").restarts) == (Phase.RUNNING, 2, 1)
    assert state.agent("b").phase is Phase.KILLED and state.agent("c").phase is Phase.MERGED


def test_a_removed_agent_stays_removed_when_the_event_log_rebuilds_the_state(tmp_path: Path) -> None:
    layout = layout_at(tmp_path)
    log_event(layout, None, "up", changes=["..."], base="trunk")
    log_event(layout, "a", "started", run=1)
    log_event(layout, "gone", "started", run=1)
    log_event(layout, "gone", "restart", attempt=1, run=2)
    log_event(layout, "gone", "removed", snapshot=None, branch_deleted=False)
    log_event(layout, "again", "started", run=1)
    log_event(layout, "again", "restart", attempt=2, run=3)
    log_event(layout, "again", "removed", snapshot=None, branch_deleted=False)
    log_event(layout, "again", "added", file="fleet.toml")
    log_event(layout, "again", "started", run=1)
    layout.state_file.write_text("{", encoding="utf-8")
    state = load_state(layout)
    assert set(state.agents) == {"a", "again"}  # "gone" does not come back
    again = state.agents["again"]  # added anew after its removal: a fresh record
    assert (again.phase, again.run, again.restarts) == (Phase.RUNNING, 1, 0)


def test_when_nothing_can_stand_in_it_refuses_naming_the_file(tmp_path: Path) -> None:
    layout = layout_at(tmp_path)
    log_event(layout, "a", "started", run=1)  # the fleet was up, but no event says its base
    layout.state_file.parent.mkdir(exist_ok=True)
    layout.state_file.write_text("[1, 2", encoding="utf-8")
    with pytest.raises(StateUnreadable) as caught:
        load_state(layout)
    assert str(layout.state_file) in caught.value.message
    assert '"base"' in (caught.value.hint or "")
    assert layout.state_file.read_text(encoding="utf-8") == "[1, 2"  # left as it was
    # A fleet never brought up is simply new.
    fresh = layout_at(tmp_path / "fresh")
    assert load_state(fresh) == FleetState()


BAD_LINES = [
    b"[1, 2]",
    b"null",
    b'"just a string"',
    b'{"agent": "alpha", "event": "kill"}',
    b'{"time": "yesterday", "agent": "alpha", "event": "kill", "details": {}}',
    b'{"time": 1.0, "agent": ["x"], "event": "kill", "details": {}}',
    b'{"time": 1.0, "agent": "alpha", "event": "kill", "details": []}',
    b"\xff\xfe not utf-8",
    b"{truncated",
]


def test_bad_event_lines_are_skipped_counted_and_named(tmp_path: Path) -> None:
    layout = layout_at(tmp_path)
    log_event(layout, "alpha", "started", run=1)
    with layout.events_file.open("ab") as fh:
        fh.write(b"\n".join(BAD_LINES) + b"\n")
    log_event(layout, "alpha", "kill", was="running")
    log = EventLog(layout)
    assert [e.event for e in log.read()] == ["started", "kill"]
    assert [b.line for b in log.skipped] == list(range(2, 2 + len(BAD_LINES)))
    warning = log.warning() or ""
    assert str(layout.events_file) in warning and f"skipped {len(BAD_LINES)} bad lines" in warning
    # Incremental: a second read parses only the new line; a half-written line waits for its end.
    log_event(layout, None, "down")
    with layout.events_file.open("ab") as fh:
        fh.write(b'{"time": 2.0, "agent": null, "ev')
    assert [e.event for e in log.read()] == ["started", "kill", "down"]
    assert len(log.skipped) == len(BAD_LINES)
    # The next writer does not glue its event onto that half line.
    log_event(layout, None, "up")
    assert [e.event for e in log.read()][-1] == "up"


@pytest.fixture
def corrupted_events(make_fleet: Any) -> Any:
    fleet = make_fleet(
        [{"name": "alpha", "script": "say hello\nidle\n"}, {"name": "beta", "script": "idle\n"}]
    )
    actions.up(fleet)
    with fleet.layout.events_file.open("ab") as fh:
        fh.write(b"\n".join(BAD_LINES) + b"\n")
    return fleet


@pytest.mark.parametrize(
    "command",
    [
        ["status", "--sample", "0"],
        ["status", "--json", "--sample", "0"],
        ["log"],
        ["log", "alpha"],
        ["merge-queue"],
        ["send", "alpha", "hi"],
        ["kill", "beta", "--grace", "0.5"],
        ["restart", "alpha", "--grace", "0.5"],
        ["down"],
    ],
)
def test_every_command_survives_a_corrupt_event_log(corrupted_events: Any, command: list[str]) -> None:
    fleet = corrupted_events
    result = CliRunner().invoke(
        cli, [command[0], "-C", str(fleet.root), "-f", str(fleet.spec.path), *command[1:]]
    )
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1), result.output
    if command[0] == "log":
        assert "skipped 9 bad lines" in result.output and "events.jsonl" in result.output


def test_two_ups_at_once_make_one_fleet(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": f"a{i}", "script": "idle\n"} for i in range(4)])
    argv = [str(Path(sys.executable).parent / "fleet-tui"), "up", "--no-ui", "-C", str(fleet.root)]
    argv += ["-f", str(fleet.spec.path)]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    panes = fleet.tmux.list_panes(fleet.session)
    assert sorted(p.agent for p in panes) == ["a0", "a1", "a2", "a3"]  # no duplicate panes
    state = load_state(fleet.layout)
    assert [state.agent(f"a{i}").run for i in range(4)] == [1, 1, 1, 1]
    started = [e for e in read_events(fleet.layout) if e.event == "started"]
    assert len(started) == 4


def test_a_corrupt_state_never_moves_the_pinned_base(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle\n"}])
    actions.up(fleet)
    subprocess.run(["git", "checkout", "-q", "-b", "elsewhere"], cwd=fleet.root, check=True)
    fleet.layout.state_file.write_text("{oops", encoding="utf-8")
    args = ["-C", str(fleet.root), "-f", str(fleet.spec.path)]
    shown = CliRunner().invoke(cli, ["status", *args, "--json", "--sample", "0"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["base"] == "main"  # from the backup, not the checkout
    # Backup and event log gone too: every command refuses, naming the file; nothing is reset.
    fleet.layout.state_file.write_text("{oops", encoding="utf-8")
    fleet.layout.backup_file.unlink()
    fleet.layout.events_file.write_text('{"time": 1.0, "agent": "alpha", "event": "started"}\n')
    for command in (["status"], ["up", "--no-ui"], ["kill", "alpha"]):
        refused = CliRunner().invoke(cli, [command[0], *args, *command[1:]])
        assert refused.exit_code == 2, refused.output
        assert "state.json is not a valid state file" in refused.output
        assert "Traceback" not in refused.output
    assert fleet.layout.state_file.read_text(encoding="utf-8") == "{oops"


def test_several_processes_steering_one_fleet_at_once_lose_no_update(
    make_fleet: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers import wait_for
    from test_supervisor import in_thread

    from fleet_tui.engine.actions import lifecycle

    monkeypatch.setattr(lifecycle, "BACKOFF_FIRST", 0.2)  # 0.2, 0.4, 0.8 s: inside the others' run
    cue = tmp_path / "crash-now"
    fleet = make_fleet(
        [
            {"name": "ka", "script": "say up\nidle\n"},
            {"name": "rb", "script": "say up\nidle\n== restart ==\nsay again\nidle\n"},
            {"name": "sc", "script": "say up\nidle\n"},
            {"name": "sd", "script": 'write src/d.py "d = 1\\n"\nidle\n'},
            {"name": "me", "script": 'write src/e.py "e = 1\\n"\ncommit "e"\nexit 0\n'},
            # Crashes at every run once cued: the supervisor's restart_on restarts it, up to its cap.
            {
                "name": "ar",
                "script": f"wait-file {cue}\nexit 3\n",
                "restart_on": ["crashed"],
                "max_restarts": 3,
            },
        ]
    )
    actions.up(fleet)
    wait_for(
        lambda: fleet.layout.exit_file("me").exists() and (fleet.layout.worktree("sd") / "src/d.py").exists()
    )
    exe = str(Path(sys.executable).parent / "fleet-tui")
    args = ["-C", str(fleet.root), "-f", str(fleet.spec.path)]
    commands = [
        ["kill", *args, "ka", "-y", "--grace", "0.5"],
        ["restart", *args, "rb", "-y", "--grace", "0.5"],
        ["send", *args, "sc", "hello"],
        ["snapshot", *args, "sd"],
        ["merge", *args, "me", "-y"],
    ]
    with in_thread(fleet):  # the supervisor: a sixth writer, restarting `ar` meanwhile
        cue.touch()
        procs = [
            subprocess.Popen([exe, *c], stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for c in commands
        ]

        def settled() -> bool:
            json.loads(fleet.layout.state_file.read_text(encoding="utf-8"))  # parses at every moment
            return (
                all(p.poll() is not None for p in procs) and load_state(fleet.layout).agent("ar").needs_human
            )

        wait_for(settled, timeout=60, interval=0.0, what="the five commands and ar's restarts")
    outputs = [p.communicate()[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, outputs
    state = load_state(fleet.layout)
    assert state.agent("ka").phase is Phase.KILLED
    assert (state.agent("rb").restarts, state.agent("rb").run, state.agent("rb").phase) == (
        1,
        2,
        Phase.RUNNING,
    )
    assert state.agent("me").phase is Phase.MERGED
    assert state.agent("sc").phase is Phase.RUNNING and state.agent("sd").phase is Phase.RUNNING
    # Every automatic restart counted (none lost to a concurrent write), then the cap held.
    assert (state.agent("ar").restarts, state.agent("ar").run, state.agent("ar").needs_human) == (3, 4, True)
    events = read_events(fleet.layout)
    assert [e.details["attempt"] for e in events if e.agent == "ar" and e.event == "restart"] == [1, 2, 3]
    kinds = {(e.agent, e.event) for e in events}
    assert {("ka", "kill"), ("rb", "restart"), ("sc", "send"), ("sd", "snapshot"), ("me", "merged")} <= kinds
    assert ("ar", "needs-human") in kinds
    # And they did run at once: the supervisor restarted `ar` before the commands were through.
    ended = max(e.time for e in events if e.agent in ("ka", "rb", "sc", "sd", "me"))
    assert min(e.time for e in events if e.agent == "ar" and e.event == "restart") < ended
