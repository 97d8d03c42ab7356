"""`fleet-tui serve` in a real headless browser: Chromium from the distribution, driven by
Playwright. The page loads, shows the fleet's agents, and a key press reaches the app (the text
sent with `s` arrives in the agent's real tmux pane). Plus the token that guards other addresses.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import FLEET_TUI, free_port, pane_text, wait_for

from fleet_tui.cli.serve import is_loopback
from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def serving(make_fleet: Any) -> Iterator[Any]:
    """Start `fleet-tui serve` on a live fleet; yields a function (extra args) -> (fleet, url)."""
    started: list[subprocess.Popen[str]] = []

    def start(*extra: str) -> tuple[Fleet, str]:
        fleet = make_fleet(
            [{"name": "alpha", "script": "say ready\nidle\n"}, {"name": "beta", "script": "idle"}]
        )
        up(fleet)
        port = free_port()
        where = ["-C", str(fleet.root), "-f", str(fleet.spec.path)]
        proc = subprocess.Popen(
            [FLEET_TUI, "serve", *where, "--port", str(port), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        started.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"on (http://\S+)", line)
        assert match, line
        url = match.group(1)
        wait_for(lambda: _reachable(port), what="the server to listen")
        return fleet, url

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _reachable(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_loopback_addresses() -> None:
    assert (
        is_loopback("127.0.0.1")
        and is_loopback("localhost")
        and is_loopback("::1")
        and is_loopback("127.9.9.9")
    )
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("myhost")


def test_a_token_guards_the_page_and_the_websocket(serving: Any) -> None:
    _, url = serving("--token")
    assert "?token=" in url
    base, token = url.split("?token=")
    assert status_of(base) == 403
    assert status_of(base + "?token=wrong" + token[5:]) == 403
    assert status_of(base.rstrip("/") + "/ws/wrong") == 403
    assert status_of(url) == 200


def test_no_token_needed_on_127_0_0_1_by_default(serving: Any) -> None:
    _, url = serving()
    assert "token" not in url and url.startswith("http://127.0.0.1:")
    assert status_of(url) == 200


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (Debian: apt-get install chromium)")
def test_the_dashboard_in_a_real_browser_shows_the_agents_and_takes_keys(serving: Any) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    fleet, url = serving("--token")  # the token path: the page and its websocket both need it
    with playwright.sync_playwright() as p:
        # No WebGL: xterm.js then draws with its DOM renderer, whose text the test can read.
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-3d-apis"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            page.goto(url)

            def screen() -> str:
                return str(page.evaluate("() => document.querySelector('.xterm-rows')?.innerText ?? ''"))

            deadline = time.monotonic() + 60
            while not ("alpha" in screen() and "beta" in screen() and "agent" in screen()):
                assert time.monotonic() < deadline, f"the agents never showed: {screen()[:500]!r}"
                page.wait_for_timeout(200)
            assert "last line" in screen()  # the agent table's header, drawn by the app

            page.locator(".xterm-helper-textarea").focus()
            page.keyboard.press("s")  # send, to the selected agent (alpha)
            deadline = time.monotonic() + 30
            while "send to alpha" not in screen():
                assert time.monotonic() < deadline, f"the send box never opened: {screen()[:800]!r}"
                page.wait_for_timeout(200)
            page.keyboard.type("hello from the browser")
            page.keyboard.press("Enter")
            wait_for(
                lambda: "received: hello from the browser" in pane_text(fleet, "alpha"),
                timeout=30,
                what="the key presses to reach the agent's pane",
            )
        finally:
            browser.close()
