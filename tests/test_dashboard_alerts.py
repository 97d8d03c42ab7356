"""Notifications from an open dashboard, as a person's terminal receives them: the real dashboard
process on a pseudo-terminal (the bytes it writes are what a terminal emulator would show), the real
supervisor it starts, real tmux and git, the scripted fake agent."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from helpers import FLEET_TUI, wait_for

from fleet_tui.engine import actions, presence
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import read_events

OSC9 = re.compile(rb"\x1b\]9;(.*?)\x07")
OSC = re.compile(rb"\x1b\][^\x07\x1b]*\x07")  # any OSC ended by BEL (Textual sets the cursor shape so)


class Terminal:
    """A pseudo-terminal of 160x40 running one program; everything it writes is kept."""

    def __init__(self, argv: list[str], path: Path | None = None) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        env["TERM"] = "xterm-256color"
        if path is not None:  # programs found first on PATH (the desktop's notify-send)
            env["PATH"] = f"{path}{os.pathsep}{env.get('PATH', '')}"
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.output = bytearray()
        self._lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.output += chunk

    def written(self) -> bytes:
        with self._lock:
            return bytes(self.output)

    def notices(self) -> list[str]:
        return [m.decode("utf-8", "replace") for m in OSC9.findall(self.written())]

    def bells(self) -> int:
        """BEL characters outside OSC sequences (each OSC 9 ends in one of its own)."""
        return OSC.sub(b"", self.written()).count(b"\x07")

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)


@contextmanager
def dashboard(fleet: Fleet, path: Path | None = None) -> Iterator[Terminal]:
    term = Terminal([FLEET_TUI, "-C", str(fleet.root), "-f", str(fleet.spec.path)], path)
    try:
        yield term
    finally:
        if term.proc.poll() is None:
            os.killpg(term.proc.pid, signal.SIGKILL)
        term.proc.wait(10)
        os.close(term.master)


def attention(fleet: Fleet, agent: str) -> list[Any]:
    return [e for e in read_events(fleet.layout) if e.event == "attention" and e.agent == agent]


def test_the_dashboard_notifies_its_terminal_once_per_change_but_not_about_the_agent_it_shows(
    make_fleet: Any, tmp_path: Path
) -> None:
    cues = {name: tmp_path / f"cue-{name}" for name in ("shown", "asker", "crasher", "drifter", "shipper")}
    hook = tmp_path / "on_attention.jsonl"
    fleet = make_fleet(
        [
            {
                "name": "shown",
                "script": f"say here\nwait-file {cues['shown']}\nask 'Shown question?'\nidle\n",
            },
            {"name": "asker", "script": f"wait-file {cues['asker']}\nask 'Proceed with the plan?'\nidle\n"},
            {"name": "crasher", "script": f"wait-file {cues['crasher']}\nexit 3\n"},
            {"name": "drifter", "script": f'wait-file {cues["drifter"]}\nwrite docs/extra.md "x\\n"\nidle\n'},
            {
                "name": "shipper",
                "script": f'wait-file {cues["shipper"]}\nwrite src/ship.py "s = 1\\n"\ncommit ship\nexit 0\n',
                "verify": "true",
            },
        ],
        on_attention=f"cat >> {hook}; echo >> {hook}",
        notify=True,
    )
    # The desktop's notify-send (none on this machine): a stand-in that records what it was given.
    desktop, shown_on_desktop = tmp_path / "bin", tmp_path / "desktop.txt"
    desktop.mkdir()
    record = f"printf '%s|' \"$@\" | tr '\\n' ' ' >> {shown_on_desktop}; echo >> {shown_on_desktop}"
    (desktop / "notify-send").write_text(f"#!/bin/sh\n{record}\n", encoding="utf-8")
    (desktop / "notify-send").chmod(0o755)
    actions.up(fleet)
    with dashboard(fleet, desktop) as term:
        # The dashboard says which agent it shows (the first row), refreshed while it is open.
        wait_for(lambda: presence.viewed_agents(fleet.layout.state_dir) == {"shown"}, what="shown reported")
        wait_for(lambda: b"drifter" in term.written(), what="the dashboard drawn")

        # The agent on screen asks: not a notification anywhere (no OSC 9, no bell, no hook).
        cues["shown"].touch()
        seen = wait_for(lambda: attention(fleet, "shown"), what="the supervisor saw it", timeout=30)
        assert seen[0].details["notified"] is False and seen[0].details["looked_at"] == "dashboard"

        expected = {
            "asker": "asker is waiting for an answer",
            "crasher": "crasher crashed (exit 3)",
            "drifter": "drifter drifted: docs/extra.md",
            "shipper": "shipper is ready to merge",
        }
        for name, words in expected.items():  # one at a time: each change is one notification
            cues[name].touch()
            wait_for(
                lambda w=words: any(w in n for n in term.notices()), timeout=60, what=f"OSC 9 for {name}"
            )
        time.sleep(3)  # a few more ticks and snapshots of the same fleet: nothing new
        notices = term.notices()
        assert len(notices) == len(expected), notices
        for name, words in expected.items():
            (notice,) = [n for n in notices if words in n]
            assert notice.startswith(f"fleet-tui {fleet.name}: ") and f"attach {name}" in notice
        assert not [n for n in notices if "shown" in n]
        assert term.bells() == len(expected)  # one per change, none for `shown`

        # The supervisor's own notifications (on_attention here) skip the shown agent too.
        wait_for(
            lambda: hook.exists() and len(hook.read_text(encoding="utf-8").splitlines()) >= len(expected),
            what="the hook's events",
        )
        hooked = hook.read_text(encoding="utf-8")
        assert '"agent": "shown"' not in hooked
        for name in expected:
            assert hooked.count(f'"agent": "{name}"') == 1
        # And the desktop's, each with the fleet in its title and how to get there in its body.
        wait_for(
            lambda: (
                shown_on_desktop.exists()
                and len(shown_on_desktop.read_text(encoding="utf-8").splitlines()) >= len(expected)
            ),
            what="the desktop notifications",
        )
        on_desktop = shown_on_desktop.read_text(encoding="utf-8").splitlines()
        assert len(on_desktop) == len(expected) and not [n for n in on_desktop if "shown" in n]
        for name, words in expected.items():
            (line,) = [n for n in on_desktop if words.split(":")[0] in n]
            assert f"fleet-tui: {fleet.name}|" in line and f"attach {name}" in line

        view_file = next((fleet.layout.state_dir / presence.VIEWING_DIR).glob("*.json"))
        term.type(b"q")
        term.proc.wait(20)
    assert not view_file.exists(), "a closed dashboard takes its word back"


def test_a_dashboard_that_died_stops_holding_notifications_back(tmp_path: Path) -> None:
    state_dir = tmp_path / ".fleet"
    report = presence.ViewReport(state_dir)
    report.report("alpha")
    assert presence.viewed_agents(state_dir) == {"alpha"}
    report.report("beta")  # the selection moved
    assert presence.viewed_agents(state_dir) == {"beta"}
    # Killed without tidying up: its file stays, but its word goes stale after VIEW_FRESH seconds.
    old = time.time() - presence.VIEW_FRESH - 1
    os.utime(report.path, (old, old))
    assert presence.viewed_agents(state_dir) == set()
    report.report("beta")  # refreshed within VIEW_BEAT of the last write: nothing to do yet
    assert presence.viewed_agents(state_dir) == set()
    report._at -= presence.VIEW_BEAT  # a beat later: the file is touched again
    report.report("beta")
    assert presence.viewed_agents(state_dir) == {"beta"}


def test_a_notice_is_one_line_of_plain_text_whatever_the_file_names_hold() -> None:
    from memory_fleet import demo_snapshot

    from fleet_tui.ui.alerts import notice_text, osc9

    # A drifted file whose name carries a BEL and an escape would end the OSC early and run the rest.
    demo = demo_snapshot()
    snapshot = demo.model_copy(update={"fleet": "app"})
    agent = demo.agents[0].model_copy(update={"name": "docs", "drift": ("a\x07\x1b]0;owned\x07.md",)})
    text = notice_text(snapshot, agent, "drifted: " + agent.drift[0])
    assert text.startswith("fleet-tui app: docs drifted: a") and text.endswith("attach docs")
    plain = osc9(text, inside_tmux=False)
    assert plain.startswith("\x1b]9;") and plain.endswith("\x07")
    assert "\x07" not in plain[:-1] and "\x1b" not in plain[1:]  # only the sequence's own framing
    # Inside tmux: wrapped for passthrough, every escape of the sequence doubled.
    wrapped = osc9(text, inside_tmux=True)
    assert wrapped == "\x1bPtmux;" + plain.replace("\x1b", "\x1b\x1b") + "\x1b\\"
