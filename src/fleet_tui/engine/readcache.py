"""Readings that an idle fleet asks for every second, kept until the files behind them change.

A supervisor steps the pipeline on every snapshot (one a second): asking git for every branch tip
(a process) and parsing state.json each time was most of an idle fleet's CPU. Each cache here
answers from memory while a few `stat` calls say nothing changed, and reads again at least every
MAX_AGE seconds whatever the stats say (a safety net, not the mechanism).
"""

from __future__ import annotations

import time
from pathlib import Path

from fleet_tui.adapters import git
from fleet_tui.engine.state import FleetState, Layout, load_state

MAX_AGE = 10.0


def _stamp(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class BranchTips:
    """Every local branch and its commit, asked of git only when the refs' files changed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._common_dir: Path | None = None
        self._tips: dict[str, str] = {}
        self._stamp: tuple[object, ...] | None = None
        self._read_at = -MAX_AGE
        self.reads = 0  # how often git was asked (tests read it)

    def get(self) -> dict[str, str]:
        """The tips (do not change the dict: it is shared until the next read)."""
        if self._common_dir is None:
            self._common_dir = git.git_common_dir(self.root)
        stamp = git.refs_stamp(self._common_dir)  # before reading: a move in between shows next time
        now = time.monotonic()
        if stamp is None or stamp != self._stamp or now - self._read_at > MAX_AGE:
            tips = git.branch_commits(self.root)
            if tips != self._tips:  # unchanged: the same object, so callers can tell at a glance
                self._tips = tips
            self._stamp, self._read_at = stamp, now
            self.reads += 1
        return self._tips


class StateFile:
    """state.json, parsed again only when its stat changed (it is replaced by a rename, so every
    write gives it a new inode). The state returned is shared: read it, never change it."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._state: FleetState | None = None
        self._stamp: tuple[int, int, int, int] | None = None
        self._read_at = -MAX_AGE

    def get(self) -> FleetState:
        stamp = _stamp(self.layout.state_file)
        now = time.monotonic()
        if self._state is None or stamp is None or stamp != self._stamp or now - self._read_at > MAX_AGE:
            state = load_state(self.layout)
            if state != self._state:  # unchanged: the same object (see BranchTips)
                self._state = state
            self._stamp, self._read_at = stamp, now
        return self._state
