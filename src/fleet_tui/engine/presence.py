"""Is somebody looking at a fleet, and at which agent?

An open dashboard holds a shared lock on a file in `.fleet/`. The lock goes with the process (the
kernel drops it when the dashboard ends, however it ends), so there is no stale pid file to clean
up. `demo --clean` asks before deleting a demo in use.

Each open dashboard also says which agent it shows, in `.fleet/viewing/<pid>.json`, refreshed every
VIEW_BEAT seconds: the supervisor sends no notification about an agent a person is looking at. A
word older than VIEW_FRESH counts for nothing, so a dashboard that died without tidying up (a
killed terminal) does not silence an agent for ever.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from fleet_tui.engine.state import lock_held

LOCK_NAME = "dashboard.lock"
VIEWING_DIR = "viewing"
VIEW_BEAT = 3.0  # seconds between a dashboard's refreshes of what it shows
VIEW_FRESH = 10.0  # seconds a dashboard's word stays good without a refresh


@contextlib.contextmanager
def dashboard_open(state_dir: Path) -> Iterator[None]:
    """Hold the fleet's dashboard lock (shared: several dashboards may be open) while inside."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield  # an unwritable .fleet/ must not keep the dashboard from opening
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def dashboard_is_open(state_dir: Path) -> bool:
    """True while some process holds the dashboard lock of this fleet."""
    return lock_held(state_dir / LOCK_NAME, holder="shared")


class ViewReport:
    """One dashboard's word on the agent it shows: written when it changes, refreshed every
    VIEW_BEAT seconds (an mtime touch), removed on close. Called from a worker thread."""

    def __init__(self, state_dir: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = state_dir / VIEWING_DIR / f"{os.getpid()}.json"
        self.clock = clock
        self._written: tuple[str | None] | None = None  # what the file says (None: no file yet)
        self._at = 0.0

    def report(self, agent: str | None) -> None:
        """Say that `agent` is shown now (None: none); cheap when nothing changed."""
        now = self.clock()
        try:
            if self._written != (agent,):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps({"agent": agent, "pid": os.getpid()}) + "\n", encoding="utf-8")
                os.replace(tmp, self.path)
                self._written, self._at = (agent,), now
            elif now - self._at >= VIEW_BEAT:
                os.utime(self.path)
                self._at = now
        except OSError:
            self._written = None  # an unwritable .fleet/: notifications just are not held back

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)
        self._written = None


def viewed_agents(state_dir: Path, now: float | None = None) -> set[str]:
    """The agents open dashboards show right now (their word refreshed within VIEW_FRESH)."""
    now = time.time() if now is None else now
    shown: set[str] = set()
    try:
        entries = list((state_dir / VIEWING_DIR).glob("*.json"))
    except OSError:
        return shown
    for entry in entries:
        try:
            if now - entry.stat().st_mtime > VIEW_FRESH:
                continue
            agent = json.loads(entry.read_text(encoding="utf-8")).get("agent")
        except (OSError, ValueError, AttributeError):
            continue  # half-gone or damaged: says nothing
        if isinstance(agent, str):
            shown.add(agent)
    return shown
