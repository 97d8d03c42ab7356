"""File names that are not UTF-8: watched, counted and shown escaped; never a fleet-wide stop."""

from __future__ import annotations

import subprocess
import threading
from typing import Any

from helpers import FLEET_TUI, wait_for

from fleet_tui.engine import actions
from fleet_tui.engine.monitor.watcher import Watcher

BAD = b"bad-\xff-name.txt"


def test_one_undecodable_name_does_not_stop_watching_the_fleet(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}, {"name": "beta", "script": "idle"}])
    actions.up(fleet)
    marked: list[str] = []
    watcher = Watcher(fleet, lambda names: marked.extend(names or ["(all)"]))
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: watcher.watching, what="watching")
        (fleet.layout.worktree("alpha") / "src").mkdir(exist_ok=True)
        with open(bytes(fleet.layout.worktree("alpha") / "src") + b"/" + BAD, "w") as fh:
            fh.write("x\n")
        wait_for(lambda: watcher.undecodable or "alpha" in marked, what="the bad name seen")
        marked.clear()
        later = fleet.layout.worktree("beta") / "src" / "later.py"

        def beta_seen() -> bool:  # written again until seen: the watch restarts after the bad name
            later.write_text(f"y = {len(marked)}\n")
            return "beta" in marked

        wait_for(beta_seen, timeout=10, interval=0.5, what="beta's change still watched")
        assert watcher.watching and not watcher.errors
    finally:
        stop.set()
        thread.join(5)


def test_undecodable_names_are_counted_and_shown_escaped(make_fleet: Any) -> None:
    fleet = make_fleet([{"name": "alpha", "script": "idle"}])
    actions.up(fleet)
    with open(bytes(fleet.layout.worktree("alpha")) + b"/" + BAD, "w") as fh:
        fh.write("x\n")
    result = subprocess.run(
        [FLEET_TUI, "-C", str(fleet.root), "-f", str(fleet.spec.path), "status", "--sample", "0"],
        capture_output=True, text=True, check=False, timeout=60, errors="replace",
    )  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "bad-\\xff-name.txt" in result.stdout, result.stdout
    assert "\\udcff" not in result.stdout
    as_json = subprocess.run(
        [FLEET_TUI, "-C", str(fleet.root), "-f", str(fleet.spec.path), "status", "--json", "--sample", "0"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
