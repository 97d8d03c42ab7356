"""The monitor: turns tmux and git readings into FleetSnapshots.

Per tick it makes one tmux call for every pane's state and screen. Git is re-read only for worktrees
whose files changed (file events from watchfiles) plus a slow rolling resync, one worktree per few
ticks, as a safety net for anything the events miss.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import watchfiles

from fleet_tui.adapters import git
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import FleetState, load_state, log_event, read_exit
from fleet_tui.errors import FleetError
from fleet_tui.models import (
    AgentSnapshot,
    FleetSnapshot,
    PaneReading,
    Status,
    StatusVerdict,
    WorktreeReading,
)
from fleet_tui.scope import drift, mark_scope, overlap_for, overlaps
from fleet_tui.status import classify, strip_ansi

TAIL_LINES = 20
RESYNC_AFTER = 60.0  # a worktree's reading is refreshed at least this often (one per 3 ticks)
RESYNC_EVERY_TICKS = 3
READ_WORKERS = 4

Clock = Callable[[], float]


class _PaneTrack:
    """What we remember about one pane between ticks."""

    __slots__ = ("digest", "last_change", "pane_id", "since", "status")

    def __init__(self) -> None:
        self.digest = ""
        self.last_change: float | None = None
        self.pane_id: str | None = None
        self.status: Status | None = None
        self.since = 0.0


class _GitLogsFilter(watchfiles.DefaultFilter):
    """watchfiles' default filter drops everything under `.git`; branch logs there mark commits."""

    def __init__(self, logs: Path) -> None:
        super().__init__()
        self._logs = str(logs) + os.sep

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        return path.startswith(self._logs) or super().__call__(change, path)


class Monitor:
    """Reads the fleet; `tick()` once for a snapshot, or `run()` in a thread for a live feed."""

    def __init__(self, fleet: Fleet, clock: Clock = time.time, *, log_changes: bool = False) -> None:
        self.fleet = fleet
        self.log_changes = log_changes  # the live monitor logs status changes; one-off reads do not
        self.clock = clock
        self._lock = threading.Lock()
        self._dirty: set[str] = {a.name for a in fleet.agents}
        self._base_dirty = False
        self._wake = threading.Event()
        self._readings: dict[str, WorktreeReading] = {}
        self._read_at: dict[str, float] = {}
        self._tracks: dict[str, _PaneTrack] = {a.name: _PaneTrack() for a in fleet.agents}
        self._panes: dict[str, PaneReading] = {}
        self._pane_order: list[str] = []
        self._ticks = 0
        self._pool = ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="fleet-git")
        self.errors: list[str] = []
        self.git_reads = 0  # how many worktree readings were taken (the benchmark reports it)

    # -- inputs ----------------------------------------------------------------------------

    def mark_dirty(self, agents: Iterable[str] | None = None) -> None:
        """Ask for a fresh git reading of these agents (all when None) at the next step."""
        with self._lock:
            self._dirty.update(agents if agents is not None else self._tracks)
        self._wake.set()

    # -- reading ---------------------------------------------------------------------------

    def read_panes(self) -> None:
        panes = self.fleet.tmux.read(self.fleet.session, self._pane_order)
        self._pane_order = [p.pane_id for p in panes]
        self._panes = {p.agent: p for p in panes if p.agent}

    def read_git(self, names: Iterable[str]) -> None:
        names = [n for n in names if n in self._tracks]
        if not names:
            return
        base = self.fleet.base
        layout = self.fleet.layout

        def read(name: str) -> tuple[str, WorktreeReading]:
            path = layout.worktree(name)
            if not path.exists():
                return name, WorktreeReading(error=f"worktree {path} is missing: run `fleet-tui up`")
            return name, git.read_worktree(path, base)

        now = self.clock()
        for name, reading in self._pool.map(read, names):
            scope = self.fleet.scopes[name]
            self._readings[name] = reading.model_copy(update={"files": mark_scope(reading.files, scope)})
            self._read_at[name] = now
            self.git_reads += 1

    def _due_for_resync(self) -> list[str]:
        if self._ticks % RESYNC_EVERY_TICKS:
            return []
        now = self.clock()
        stale = [n for n in self._tracks if now - self._read_at.get(n, 0.0) >= RESYNC_AFTER]
        return sorted(stale, key=lambda n: self._read_at.get(n, 0.0))[:1]

    def tick(self, *, panes: bool = True) -> FleetSnapshot:
        """One step: read tmux (optional), re-read the git of dirty agents, compose a snapshot."""
        self._ticks += 1
        if panes:
            self.read_panes()
        with self._lock:
            dirty = set(self._dirty)
            self._dirty.clear()
        dirty.update(self._due_for_resync())
        self.read_git(sorted(dirty))
        return self.compose()

    # -- composing -------------------------------------------------------------------------

    def compose(self) -> FleetSnapshot:
        now = self.clock()
        state = load_state(self.fleet.layout)
        changed = {n: r.files for n, r in self._readings.items()}
        entries = overlaps(changed)
        agents = tuple(self._agent_snapshot(a.name, state, entries, now) for a in self.fleet.agents)
        return FleetSnapshot(
            fleet=self.fleet.name,
            base=self.fleet.base,
            repo=str(self.fleet.root),
            session=self.fleet.session,
            socket=self.fleet.tmux.socket,
            session_alive=bool(self._panes) or bool(self._pane_order),
            taken_at=now,
            agents=agents,
            overlaps=entries,
        )

    def _verdict(self, name: str, state: FleetState, now: float) -> StatusVerdict:
        agent = self.fleet.agent(name)
        record = state.agent(name)
        pane = self._panes.get(name)
        track = self._tracks[name]
        if record.phase == "merged":
            return StatusVerdict(status=Status.MERGED, reason="merged into " + self.fleet.base)
        if pane is None:
            return StatusVerdict(status=Status.MISSING, reason="no pane: run `fleet-tui up`")
        if record.phase == "queued":
            waiting = self.fleet.unmet_dependencies(agent, state)
            reason = "waiting for " + ", ".join(waiting) if waiting else "dependencies merged: ready to start"
            return StatusVerdict(status=Status.QUEUED, reason=reason)
        digest = hashlib.blake2b(pane.screen.encode(), digest_size=16).hexdigest()
        if track.pane_id != pane.pane_id:
            track.pane_id, track.digest, track.last_change = pane.pane_id, digest, None
        elif digest != track.digest:
            track.digest, track.last_change = digest, now
        exit_code = read_exit(self.fleet.layout, name, record.run) if pane.dead else None
        if record.phase == "killed":
            return StatusVerdict(status=Status.KILLED, reason="stopped by fleet-tui")
        return classify(
            preset=agent.preset,
            screen=pane.screen,
            exit_code=exit_code,
            dead=pane.dead,
            now=now,
            started_at=record.started_at,
            last_change=track.last_change,
            idle_after=agent.idle_after,
        )

    def _agent_snapshot(self, name: str, state: FleetState, entries: tuple, now: float) -> AgentSnapshot:
        agent = self.fleet.agent(name)
        record = state.agent(name)
        pane = self._panes.get(name)
        verdict = self._verdict(name, state, now)
        track = self._tracks[name]
        if verdict.status != track.status:
            if track.status is not None and self.log_changes:
                log_event(
                    self.fleet.layout, name, "status", status=verdict.status.value,
                    previous=track.status.value, reason=verdict.reason,
                )  # fmt: skip
            track.status, track.since = verdict.status, now
        reading = self._readings.get(name, WorktreeReading())
        files = reading.files
        exit_code = (
            read_exit(self.fleet.layout, name, record.run)
            if verdict.status in (Status.EXITED, Status.CRASHED)
            else None
        )
        screen = pane.screen if pane else ""
        lines = [ln.rstrip() for ln in strip_ansi(screen).splitlines()]
        tail = tuple(ln for ln in lines if ln.strip())[-TAIL_LINES:]
        return AgentSnapshot(
            name=name,
            task=agent.task,
            branch=agent.branch,
            worktree=str(self.fleet.layout.worktree(name)),
            preset=agent.preset_name,
            status=verdict.status,
            status_reason=verdict.reason,
            status_rule=verdict.rule,
            status_evidence=verdict.evidence,
            status_since=track.since,
            exit_code=exit_code,
            started_at=record.started_at,
            restarts=record.restarts,
            max_restarts=agent.max_restarts,
            needs_human=record.needs_human,
            depends_on=agent.depends_on,
            waiting_for=tuple(self.fleet.unmet_dependencies(agent, state))
            if record.phase == "queued"
            else (),
            pane_id=pane.pane_id if pane else None,
            tail=tail,
            screen=screen,
            files=files,
            added=sum(f.added or 0 for f in files),
            removed=sum(f.removed or 0 for f in files),
            commits_ahead=reading.commits_ahead,
            drift=drift(files),
            overlap=overlap_for(name, entries),
            git_error=reading.error,
        )

    # -- the live loop -----------------------------------------------------------------------

    def watch_paths(self) -> list[Path]:
        paths = [self.fleet.layout.worktree(a.name) for a in self.fleet.agents]
        paths = [p for p in paths if p.exists()]
        logs = git.git_common_dir(self.fleet.root) / "logs" / "refs" / "heads"
        if logs.exists():
            paths.append(logs)
        return paths

    def _agents_for(self, changed: Iterable[str]) -> tuple[set[str], bool]:
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

    def _watch(self, stop: threading.Event) -> None:
        paths = self.watch_paths()
        if not paths:
            return
        try:
            for changes in watchfiles.watch(
                *paths,
                watch_filter=_GitLogsFilter(git.git_common_dir(self.fleet.root) / "logs"),
                stop_event=stop,
                debounce=30,
                step=20,
                rust_timeout=1000,
                yield_on_timeout=False,
                ignore_permission_denied=True,
                raise_interrupt=False,
            ):
                names, base_moved = self._agents_for(path for _, path in changes)
                self.mark_dirty(None if base_moved else names)
        except Exception as exc:  # the rolling resync still keeps readings fresh
            self.errors.append(f"file watching stopped: {exc}")

    def run(
        self,
        publish: Callable[[FleetSnapshot], None],
        stop: threading.Event,
        interval: float = 1.0,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Publish snapshots until `stop` is set: each tick, and at once after a file event."""
        watcher = threading.Thread(target=self._watch, args=(stop,), daemon=True, name="fleet-watch")
        watcher.start()
        next_panes = 0.0
        try:
            while not stop.is_set():
                now = time.monotonic()
                read_panes = now >= next_panes
                if read_panes:
                    next_panes = now + interval
                try:
                    publish(self.tick(panes=read_panes))
                except FleetError as exc:
                    if on_error:
                        on_error(str(exc))
                self._wake.wait(timeout=max(0.0, next_panes - time.monotonic()))
                self._wake.clear()
        finally:
            self._pool.shutdown(wait=False)

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def take_snapshot(fleet: Fleet, sample: float = 1.0) -> FleetSnapshot:
    """A one-off reading; screens are sampled twice, `sample` seconds apart, to see output move."""
    monitor = Monitor(fleet)
    try:
        monitor.tick()
        if sample > 0 and monitor._panes:
            time.sleep(sample)
            return monitor.tick()
        return monitor.compose()
    finally:
        monitor.close()
