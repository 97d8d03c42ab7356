#!/usr/bin/env python3
"""Save an SVG of each dashboard screen, taken from the real app on the real demo fleet.

Builds the `fleet-tui demo` fleet (a throwaway repository and six scripted agents, sped up) in a
temp folder on a private demo socket, drives the dashboard with Textual's Pilot (headless, 140x40)
once the fleet shows drift, overlap, a waiting and a crashed agent, and writes
screenshots/{main,diff-inspector,help,send,attention,compact}.svg (compact: the 80x24 layout);
then answers the question, restarts the crashed agent and merges the finished one, and writes the
dashboard's timeline (timeline.svg) and `fleet-tui report --svg`'s picture of the same fleet
(report-timeline.svg); then serves the same fleet with `fleet-tui serve` and photographs it in
headless Chromium (Playwright) as screenshots/browser.png, when Chromium is installed. Cleans up
after itself: the tmux server it started, the server and the temp folder (repository and
worktrees) are removed, also when
something fails.

    .venv/bin/python scripts/screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input

from fleet_tui.demo import build_demo
from fleet_tui.engine import actions, supervisor
from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.retro import fleet_report
from fleet_tui.models import Status
from fleet_tui.timeline import timeline_svg
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.insight import AttentionScreen, TimelineScreen
from fleet_tui.ui.screens import DiffScreen
from fleet_tui.ui.source import LiveSource
from fleet_tui.ui.widgets import DiffView

SIZE = (140, 40)
DONE = (Status.IDLE, Status.READY)  # finished: idle at its prompt, or every gate passed
SPEED = 3.0  # the demo's agents, three times as fast: the states below show within ~40 s


async def until(pilot: object, check: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        await pilot.pause(0.1)  # type: ignore[attr-defined]


async def shoot(fleet: Fleet, out: Path) -> None:
    app = FleetApp(LiveSource(fleet, interval=0.5))
    async with app.run_test(size=SIZE) as pilot:

        def ready() -> bool:
            snap = app.snapshot
            if snap is None:
                return False
            statuses = {a.status for a in snap.agents}
            return bool(
                Status.WAITING in statuses and Status.CRASHED in statuses
                and any(a.drift for a in snap.agents) and snap.overlaps
            )  # fmt: skip

        await until(pilot, ready, "the agents to reach their states", timeout=180.0)
        app.select_agent("docs")  # the one that drifted
        await pilot.pause(1.0)
        app.clear_notifications()
        await pilot.pause()
        app.save_screenshot("main.svg", str(out))

        await pilot.press("d")
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        view = screen.query_one(DiffView)
        await until(pilot, lambda: view.lines and screen.states is not None, "the diff")
        await pilot.pause()
        app.save_screenshot("diff-inspector.svg", str(out))
        await pilot.press("escape")

        await pilot.press("question_mark")
        await pilot.pause()
        app.save_screenshot("help.svg", str(out))
        await pilot.press("escape")

        app.select_agent("cli")  # the one asking a question
        await pilot.pause()
        await pilot.press("s")
        app.screen.query_one(Input).value = "y"
        await pilot.pause()
        app.save_screenshot("send.svg", str(out))
        await pilot.press("escape")

        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, AttentionScreen), "the attention queue")
        await pilot.pause(0.5)
        app.save_screenshot("attention.svg", str(out))
        await pilot.press("escape")

        # The compact layout at 80x24, while cli still asks its question (the README says so).
        await pilot.resize_terminal(80, 24)
        app.select_agent("cli")
        await pilot.pause(1.0)
        app.clear_notifications()
        await pilot.pause()
        app.save_screenshot("compact.svg", str(out))
        await pilot.resize_terminal(*SIZE)
        await pilot.pause(0.5)

        # A little history for the timeline: the person answers, restarts the crash, merges.
        await asyncio.to_thread(fleet.send, "cli", "y")
        await asyncio.to_thread(actions.restart, fleet, "items", reason="it crashed")

        def status(name: str) -> Status | None:
            agent = app.snapshot.agent(name) if app.snapshot else None
            return agent.status if agent else None

        await until(pilot, lambda: status("stock") in DONE, "stock to finish", timeout=120.0)
        await asyncio.to_thread(actions.merge, fleet, "stock")
        await until(pilot, lambda: status("stock") == Status.MERGED, "stock merged")
        await until(pilot, lambda: status("cli") in DONE, "cli to finish", timeout=120.0)
        await asyncio.to_thread(actions.merge, fleet, "cli")
        await until(pilot, lambda: status("cli") == Status.MERGED, "cli merged")
        await pilot.press("t")

        def timeline_read() -> bool:
            return isinstance(app.screen, TimelineScreen) and app.screen.report is not None

        await until(pilot, timeline_read, "the timeline")
        await pilot.pause(0.5)
        app.save_screenshot("timeline.svg", str(out))
        await pilot.press("escape")
        report = await asyncio.to_thread(fleet_report, fleet)
        (out / "report-timeline.svg").write_text(timeline_svg(report), encoding="utf-8")
        await pilot.press("q")


def shoot_browser(fleet: Fleet, out: Path) -> bool:
    """`fleet-tui serve` on the fleet, photographed in headless Chromium; False when not possible."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        print("screenshots: no Chromium or Playwright here: browser.png not taken", file=sys.stderr)
        return False
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fleet_tui = str(Path(sys.executable).with_name("fleet-tui"))
    server = subprocess.Popen(
        [fleet_tui, "serve", "-C", str(fleet.root), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            deadline = time.monotonic() + 30
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/")
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            page.wait_for_timeout(6000)  # the dashboard starts and reads the fleet
            page.screenshot(path=str(out / "browser.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="fleet-shots-"))
    socket = f"fleet-tui-demo-shots-{secrets.token_hex(4)}"
    os.environ.pop("TMUX", None)
    fleet: Fleet | None = None
    try:
        demo = build_demo(root / "demo", speed=SPEED, socket=socket, name="demo")
        fleet = Fleet.open(demo.repo)
        up(fleet)
        asyncio.run(shoot(fleet, args.out))
        browser = shoot_browser(fleet, args.out)
    finally:
        if fleet is not None:  # `up` started the fleet's supervisor: it must not outlive the folder
            supervisor.stop(fleet.layout)
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
    for name in (
        "main",
        "diff-inspector",
        "help",
        "send",
        "attention",
        "timeline",
        "report-timeline",
        "compact",
    ):
        print(args.out / f"{name}.svg")
    if browser:
        print(args.out / "browser.png")


if __name__ == "__main__":
    sys.exit(main())
