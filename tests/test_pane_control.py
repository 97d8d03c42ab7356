"""Pane reads through the reader's tmux control client: the same readings as a tmux process per
read, a screen that forges the client's guard lines never read wrong, the client ends with its
session, its reader and its monitor (and comes back, but not in a loop), and nobody takes it for a
person looking at a pane."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_for, wait_snapshot

from fleet_tui.adapters.tmux import PaneReader, Tmux
from fleet_tui.adapters.tmux import control as control_module
from fleet_tui.engine.actions import up
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.state import read_events
from fleet_tui.engine.supervisor.attention import Notices
from fleet_tui.models import Status

SCREEN = (
    r"printf 'plain line\n\033[31mred\033[0m and \342\234\223 unicode\n\n\nafter blanks\n'; "
    r"printf '%%end 1 2 1\n%%begin 1 2 1\n%%error 1 2 1\n%%exit\n%%begin\n'; "
    r"printf 'end of NAME\n'; exec cat"
)


def control_clients(socket: str) -> list[int]:
    """Pids of the control-mode clients attached to the server."""
    out = subprocess.run(
        ["tmux", "-L", socket, "list-clients", "-F", "#{client_control_mode} #{client_pid}"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return [int(pid) for mode, pid in (line.split() for line in out.splitlines()) if mode == "1"]


def session_of(tmux: Tmux, name: str, commands: list[str], height: int = 12) -> None:
    tmux._cmd("new-session", "-d", "-s", name, "-x", "100", "-y", str(height), "sh", "-c", commands[0])
    for command in commands[1:]:
        tmux._cmd("new-window", "-d", "-t", f"={name}:", "sh", "-c", command)


def spawned_calls(tmux: Tmux, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tmux processes the adapter runs from now on (one entry per process)."""
    calls: list[str] = []
    run = tmux._cmd

    def counted(*args: Any) -> list[str]:
        calls.append(str(args[0]))
        return run(*args)

    monkeypatch.setattr(tmux, "_cmd", counted)
    return calls


def test_reads_go_through_one_control_client_and_match_a_process_per_read(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmux = Tmux(server.socket_name)
    session_of(tmux, "fleet", [SCREEN.replace("NAME", f"pane {i}") for i in range(3)])
    old = PaneReader(tmux, "fleet", control=False)
    wait_for(lambda: all("end of pane" in p.screen for p in old.read()), what="every screen printed")
    sizes = {(p.pane_id, p.width, p.height) for p in old.read()}
    calls = spawned_calls(tmux, monkeypatch)
    reader = PaneReader(tmux, "fleet")
    try:
        for _ in range(3):
            got = reader.read()
            assert got == PaneReader(tmux, "fleet", control=False).read()  # the same readings
        assert calls.count("list-panes") == 3, "only the readers without a control client spawned"
        assert len(control_clients(tmux.socket)) == 1 and reader.control is not None
        assert reader.control.lost == 0
        assert "%end 1 2 1\n%begin 1 2 1\n%error 1 2 1\n%exit" in got[0].screen
        assert "\x1b[31mred\x1b[39m and ✓ unicode\n\n\nafter blanks" in got[0].screen
        assert {(p.pane_id, p.width, p.height) for p in old.read()} == sizes, "it resizes nothing"
    finally:
        reader.close()
    wait_for(lambda: not control_clients(tmux.socket), what="the client gone with its reader")
    assert reader.read() == old.read(), "a closed reader still reads (in tmux processes)"
    assert not control_clients(tmux.socket)


def test_a_screen_that_forges_the_clients_guard_lines_is_never_read_wrong(
    server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent prints `%end <time> <number> 1` for the very numbers the next reads will get:
    the reply is cut short, the reader sees it, drops the client and reads that screen again in a
    tmux process. Every screen it returns is whole (a row per line) and, once still, tmux's own."""
    monkeypatch.setattr(control_module, "RETRY_FIRST", 0.0)  # a new client at once, for the next try
    tmux = Tmux(server.socket_name)
    text = tmp_path / "agent-output.txt"
    text.write_text("agent starting\n", encoding="utf-8")
    session_of(tmux, "fleet", [f"exec tail -n +1 -f {text}"], height=40)
    reader, old = PaneReader(tmux, "fleet"), PaneReader(tmux, "fleet", control=False)
    wait_for(lambda: "agent starting" in reader.read()[0].screen, what="the agent's first line")
    try:
        for attempt in range(8):
            client = reader.control.client if reader.control else None
            if client is None:
                reader.read()  # the next client
                continue
            lost, number, now = reader.control.lost, client._last, int(time.time())
            forged = [f"%{kind} {t} {number + d} 1" for d in range(1, 10) for t in (now, now + 1)
                      for kind in ("end", "begin")]  # fmt: skip
            with text.open("a", encoding="utf-8") as out:
                out.write("\n".join(forged) + f"\nattempt {attempt} printed\n")
            deadline = time.monotonic() + 20
            while True:
                pane = reader.read()[0]
                assert len(pane.screen.split("\n")) == pane.height, "a screen read whole, never cut"
                if f"attempt {attempt} printed" in pane.screen or time.monotonic() > deadline:
                    break
            assert pane.screen == old.read()[0].screen
            if reader.control.lost > lost:
                break
        assert reader.control.lost >= 1, "a forged guard matched a real one (else nothing was shown)"
        wait_for(lambda: reader.read() and reader.control and reader.control.client, what="a new client")
        assert reader.read() == old.read()
    finally:
        reader.close()
    assert not control_clients(tmux.socket)


def test_the_client_ends_with_its_session_or_a_detach_and_a_new_one_comes_later(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(control_module, "RETRY_FIRST", 0.3)
    tmux = Tmux(server.socket_name)
    session_of(tmux, "fleet", ["echo first; exec cat"])
    session_of(tmux, "other", ["exec cat"])  # keeps the server up while "fleet" is gone
    reader = PaneReader(tmux, "fleet")
    try:
        assert len(reader.read()) == 1 and len(control_clients(tmux.socket)) == 1
        tmux._cmd("kill-session", "-t", "=fleet")
        assert reader.read() == []
        wait_for(lambda: not control_clients(tmux.socket), what="the client gone with the session")
        session_of(tmux, "fleet", ["echo second; exec cat"])
        wait_for(lambda: "second" in reader.read()[0].screen, what="the new session read")
        wait_for(lambda: reader.read() and control_clients(tmux.socket), what="a client on the new one")
        subprocess.run(["tmux", "-L", tmux.socket, "detach-client", "-s", "=fleet"], check=True)
        assert "second" in reader.read()[0].screen, "the read after a detach still reads"
        wait_for(lambda: reader.read() and control_clients(tmux.socket), what="a client again")
        assert reader.control is not None and reader.control.lost == 2
    finally:
        reader.close()
    assert not control_clients(tmux.socket)


def test_a_client_that_gives_no_reply_in_time_is_killed_and_not_respawned_in_a_loop(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(control_module, "REPLY_TIMEOUT", 0.0)  # every reply comes too late
    started: list[object] = []
    real = control_module.ControlClient

    def counted(*args: Any) -> Any:
        started.append(args)
        return real(*args)

    monkeypatch.setattr(control_module, "ControlClient", counted)
    tmux = Tmux(server.socket_name)
    session_of(tmux, "fleet", ["echo still read; exec cat"])
    reader = PaneReader(tmux, "fleet")
    try:
        wait_for(lambda: "still read" in reader.read()[0].screen, what="the screen")
        for _ in range(20):
            assert "still read" in reader.read()[0].screen
        assert len(started) == 1, "one try, then a pause of RETRY_FIRST seconds"
        wait_for(lambda: not control_clients(tmux.socket), what="the late client killed")
    finally:
        reader.close()


def test_a_monitor_ends_its_control_client_when_closed(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "say hello\nidle\n"}])
    up(fleet)
    monitor = Monitor(fleet)
    monitor.tick()
    clients = control_clients(fleet.tmux.socket)
    assert len(clients) == 1
    monitor.close()
    monitor.close()  # twice, as the supervisor's loop does
    wait_for(lambda: not control_clients(fleet.tmux.socket), what="no control client left")
    assert not any(Path(f"/proc/{pid}").exists() for pid in clients)


def test_a_control_client_is_not_a_person_looking(make_fleet: Any, person_tmux: str) -> None:
    fleet = make_fleet([{"name": "solo", "script": "say about to fail\nexit 3\n"}])
    up(fleet)
    monitor = Monitor(fleet)
    try:
        snap = wait_snapshot(monitor, lambda s: s.agents[0].status == Status.CRASHED, what="crashed")
        assert len(control_clients(fleet.tmux.socket)) == 1  # on the session, on solo's pane
        assert fleet.tmux.clients(fleet.session) == 0
        assert fleet.tmux.viewed_panes(fleet.session) == set()
        notes: list[dict[str, Any]] = []
        attention = Notices(fleet, logging.getLogger("test"), notifier=notes.append)
        attention.start()
        attention.agent_needs(snap, snap.agents[0], "crashed (exit 3)")
        attention.close()
        wait_for(lambda: notes, what="the notification")
        event = next(e for e in read_events(fleet.layout) if e.event == "attention")
        assert event.details["notified"] is True

        # A person attached from a terminal counts, control client or not.
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        attach = f"env -u TMUX tmux -L {fleet.tmux.socket} attach-session -t ={fleet.session}"
        subprocess.run(
            ["tmux", "-L", person_tmux, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40",
             attach],
            env=env, check=True,
        )  # fmt: skip
        wait_for(lambda: fleet.tmux.clients(fleet.session) == 1, what="the person attached")
        assert fleet.tmux.viewed_panes(fleet.session) == {snap.agents[0].pane_id}
        assert attention.looked_at(snap.agents[0]) == "tmux"
    finally:
        monitor.close()


def test_every_argument_reaches_tmux_as_it_is_or_the_command_runs_the_old_way(server: Any) -> None:
    tmux = Tmux(server.socket_name)
    session_of(tmux, "fleet", ["exec cat"])
    control = control_module.Control(tmux.socket, "fleet")
    try:
        text = "$HOME ~ ;x; {a} \\t \\ #{pane_id};"  # the parser would change each unquoted (no %: strftime)
        assert control.run([("display-message", "-p", text)]) == [[text.replace("#{pane_id}", "%0")]]
        assert control.run([("display-message", "-p", "it's")]) is None  # a quote: not sent
        assert control.run([]) is None  # an empty line would detach the client
        assert control.run([("display-message", "-p", "still here")]) == [["still here"]]
        assert control.lost == 0
    finally:
        control.close()
    assert not control_clients(tmux.socket)
