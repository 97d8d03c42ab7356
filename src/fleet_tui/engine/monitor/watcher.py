"""The file-watching thread: which agents' worktrees changed, and whether base moved.

It only marks agents dirty (the monitor re-reads their git at its next step); when watching fails
(e.g. the inotify limit) it says so once and the monitor's rolling re-read takes over.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from fleet_tui.adapters import git
from fleet_tui.engine.fleet import Fleet

INOTIFY_LIMIT = Path("/proc/sys/fs/inotify/max_user_watches")
# watchfiles wakes (and takes the GIL) every step to check for events and the stop flag: 20 ms cost
# ~60 ms CPU per idle 30 s; 60 ms costs a third of that and adds at most ~40 ms to a change's delay.
WATCH_STEP_MS = 60
UNDECODABLE = "Unable to decode path"  # watchfiles' error for a file name that is not UTF-8

MarkDirty = Callable[[Iterable[str] | None], None]  # None: every agent


class GitLogsFilter(watchfiles.DefaultFilter):
    """watchfiles' default filter drops everything under `.git`; branch logs there mark commits."""

    def __init__(self, logs: Path) -> None:
        super().__init__()
        self._logs = str(logs) + os.sep

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        return path.startswith(self._logs) or super().__call__(change, path)


class Watcher:
    """Watches every worktree and the branch logs; `watching` is None before it ran, False if it failed."""

    def __init__(self, fleet: Fleet, mark_dirty: MarkDirty) -> None:
        self.fleet = fleet
        self.mark_dirty = mark_dirty
        self.watching: bool | None = None
        self.errors: list[str] = []
        self.undecodable = 0  # events on paths watchfiles could not name (non-UTF-8): watched on
        # Set when an agent's own files changed (.fleet/agents/: its hooks' signals, its statusline,
        # its exit file): the monitor then reads the panes at once, not at its next (slow) tick.
        self.agent_files = self.fleet.layout.agents_dir
        self.agent_files_changed = threading.Event()

    def paths(self) -> list[Path]:
        paths = [self.fleet.layout.worktree(a.name) for a in self.fleet.agents]
        paths = [p for p in paths if p.exists()]
        logs = git.git_common_dir(self.fleet.root) / "logs" / "refs" / "heads"
        if logs.exists():
            paths.append(logs)
        if self.agent_files.is_dir():
            paths.append(self.agent_files)
        return paths

    def agents_for(self, changed: Iterable[str]) -> tuple[set[str], bool]:
        """Which agents a set of changed paths belongs to; True when base moved (all agents)."""
        root = self.fleet.layout.worktree_root
        names: set[str] = set()
        base_moved = False
        for raw in changed:
            path = Path(raw)
            if "logs" in path.parts and "heads" in path.parts:
                ref = "/".join(path.parts[path.parts.index("heads") + 1 :])
                if ref.startswith("fleet/"):
                    names.add(ref.removeprefix("fleet/"))
                else:
                    base_moved = True
                continue
            try:
                names.add(path.relative_to(root).parts[0])
            except (ValueError, IndexError):
                continue
        return names, base_moved

    def run(self, stop: threading.Event, on_error: Callable[[str], None] | None = None) -> None:
        """Mark agents dirty as their files change, until `stop` is set (the thread's body)."""
        paths = self.paths()
        if not paths:
            return
        self.watching = True
        while not stop.is_set():
            try:
                self._watch(paths, stop)
                return
            except Exception as exc:
                if UNDECODABLE in str(exc):
                    # One file named in bytes that are not UTF-8 (git and the filesystem are fine
                    # with it; watchfiles cannot name it): read every agent once and watch on.
                    # Never a reason to stop watching the whole fleet.
                    self.undecodable += 1
                    self.mark_dirty(None)
                    stop.wait(0.2)
                    continue
                # the rolling resync still keeps readings fresh, faster now
                self.watching = False
                message = self._failure(exc, len(paths))
                self.errors.append(message)
                if on_error:
                    on_error(message)
                self.mark_dirty(None)  # events may have been lost: read everything once
                return

    def _watch(self, paths: list[Path], stop: threading.Event) -> None:
        for changes in watchfiles.watch(
            *paths,
            watch_filter=GitLogsFilter(git.git_common_dir(self.fleet.root) / "logs"),
            stop_event=stop,
            debounce=50,
            step=WATCH_STEP_MS,
            rust_timeout=1000,
            yield_on_timeout=False,
            ignore_permission_denied=True,
            raise_interrupt=False,
        ):
            ours = str(self.agent_files) + os.sep
            theirs = [path for _, path in changes if not path.startswith(ours)]
            if len(theirs) < len(changes):
                self.agent_files_changed.set()
            names, base_moved = self.agents_for(theirs)
            self.mark_dirty(None if base_moved else names)  # wakes the monitor, names or not

    @staticmethod
    def _failure(exc: Exception, count: int) -> str:
        message = (
            f"file watching stopped ({exc}): changes now show through the rolling re-read, "
            "one worktree per tick"
        )
        if "limit" in str(exc).lower():
            limit = INOTIFY_LIMIT.read_text().strip() if INOTIFY_LIMIT.exists() else "?"
            message += (
                f"; the inotify watch limit ({limit}) is too low for {count} worktrees: "
                "raise it with `sysctl fs.inotify.max_user_watches=524288`"
            )
        return message
