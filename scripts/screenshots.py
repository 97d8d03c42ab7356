#!/usr/bin/env python3
"""Save an SVG of each dashboard screen, taken from the real app on a real fleet of fake agents.

Builds a throwaway git repository in a temp folder, a fleet of scripted fake agents on a private
tmux socket, drives the dashboard with Textual's Pilot (headless, 140x40) and writes
screenshots/{main,diff-inspector,help,send}.svg. Cleans up after itself: the tmux server it
started and the temp folder (repository and worktrees) are removed, also when something fails.

    .venv/bin/python scripts/screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input

from fleet_tui.engine.fleet import Fleet
from fleet_tui.models import Status
from fleet_tui.ui.app import FleetApp
from fleet_tui.ui.screens import DiffScreen
from fleet_tui.ui.source import LiveSource
from fleet_tui.ui.widgets import DiffView

SIZE = (140, 40)

FILES = {
    "README.md": "# shop\n\nA tiny shop backend.\n",
    "src/api/items.py": (
        'ITEMS = [{"id": i, "name": f"item {i}"} for i in range(200)]\n\n\n'
        "def list_items():\n    return ITEMS\n"
    ),
    "src/shared/config.py": "PAGE_SIZE = 50\nDEBUG = False\n",
    "src/ui/table.py": "def render(rows):\n    return '\\n'.join(map(str, rows))\n",
    "docs/api.md": "# API\n\n`GET /items` lists every item.\n",
    "tests/test_items.py": (
        "from src.api.items import list_items\n\n\ndef test_all():\n    assert list_items()\n"
    ),
}

# Text inside a double-quoted argument of the fake agent's step language: quotes escaped.
ITEMS_V2 = (
    'ITEMS = [{\\"id\\": i, \\"name\\": f\\"item {i}\\"} for i in range(200)]\\n\\n\\n'
    "def list_items(page: int = 1, size: int = 50) -> list[dict]:\\n"
    '    \\"\\"\\"One page of items; the response shape stays the same.\\"\\"\\"\\n'
    "    if page < 1:\\n        raise ValueError('page starts at 1')\\n"
    "    start = (page - 1) * size\\n    return ITEMS[start : start + size]\\n"
)

SCRIPTS = {
    "api": f"""say "Task: add pagination to GET /items"
work 1 reading src/api/items.py
write src/api/items.py "{ITEMS_V2}"
commit paginate /items
append src/shared/config.py "MAX_PAGE_SIZE = 200\\n"
write tests/test_pagination.py "def test_first_page():\\n    assert True\\n"
work 600 running the test suite
""",
    "docs": """say "Task: document pagination"
write docs/pagination.md "# Pagination\\n\\nPass `page` and `size`.\\n"
append src/shared/config.py "DOCS_URL = '/docs'\\n"
ask "docs/api.md already has an example. Replace it?"
""",
    "ui": """say "Task: render the items table"
append src/ui/table.py "\\n\\ndef header():\\n    return 'id name'\\n"
work 1 building the table
crash the table widget needs a terminal
""",
}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def build_fleet(root: Path, socket: str) -> Fleet:
    repo = root / "shop"
    for rel, text in FILES.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    scripts = root / "scripts"
    scripts.mkdir()
    lines = ["[fleet]", 'name = "shop"', f'socket = "{socket}"', "idle_after = 60", ""]
    scopes = {"api": '["src/api/**", "tests/**"]', "docs": '["docs/**"]', "ui": '["src/ui/**"]'}
    for name, script in SCRIPTS.items():
        (scripts / f"{name}.txt").write_text(script, encoding="utf-8")
        lines += [
            "[[agent]]",
            f'name = "{name}"',
            f'task = "the {name} part of pagination"',
            f"scope = {scopes[name]}",
            f'command = "fleet-fake-agent --script {scripts / name}.txt --prompt-file {{prompt_file}}"',
            "",
        ]
    lines += [
        "[[agent]]",
        'name = "search"',
        'task = "search over items, once pagination is in"',
        'scope = ["src/search/**"]',
        'command = "fleet-fake-agent --script /dev/null --prompt-file {prompt_file}"',
        'depends_on = ["api"]',
    ]
    fleet_file = root / "fleet.toml"
    fleet_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Fleet.open(repo, fleet_file)


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
            api, docs, ui = snap.agent("api"), snap.agent("docs"), snap.agent("ui")
            return bool(
                api and api.drift and api.commits_ahead and api.status == Status.WORKING
                and docs and docs.status == Status.WAITING
                and ui and ui.status == Status.CRASHED
            )  # fmt: skip

        await until(pilot, ready, "the agents to reach their states")
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

        await pilot.press("down")
        await until(pilot, lambda: app.selected_name == "docs", "docs selected")
        await pilot.press("s")
        app.screen.query_one(Input).value = "y, and keep the old example under a 'Before' heading"
        await pilot.pause()
        app.save_screenshot("send.svg", str(out))
        await pilot.press("escape")
        await pilot.press("q")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="fleet-shots-"))
    socket = f"fleet-shots-{secrets.token_hex(4)}"
    os.environ.update(
        {
            "GIT_AUTHOR_NAME": "Fleet Demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
            "GIT_COMMITTER_NAME": "Fleet Demo", "GIT_COMMITTER_EMAIL": "demo@example.com",
        }
    )  # fmt: skip
    os.environ.pop("TMUX", None)
    try:
        fleet = build_fleet(root, socket)
        fleet.up()
        asyncio.run(shoot(fleet, args.out))
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
    for name in ("main", "diff-inspector", "help", "send"):
        print(args.out / f"{name}.svg")


if __name__ == "__main__":
    sys.exit(main())
