"""The monitor: turns tmux and git readings into FleetSnapshots.

Per tick it makes one tmux call for every pane's state, capturing only the screens that may have
changed (`PaneReader`). Git is re-read only for worktrees whose files changed (file events from
watchfiles) plus a slow rolling resync, one worktree per few ticks, as a safety net for anything the
events miss. Composing reuses every agent's snapshot whose inputs did not change, so an idle fleet
costs one `list-panes` per tick and little else.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import watchfiles

from fleet_tui.adapters import git
from fleet_tui.adapters.tmux import PaneReader
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import AgentState, FleetState, load_state, log_event, read_events, read_exit
from fleet_tui.errors import FleetError
from fleet_tui.models import (
    AgentSnapshot,
    FleetSnapshot,
    OverlapEntry,
    PaneReading,
    Status,
    StatusVerdict,
    WorktreeReading,
)
from fleet_tui.scope import drift, mark_scope, overlap_for, overlaps
from fleet_tui.status import classify, strip_ansi

TAIL_LINES = 20
RESYNC_AFTER = 60.0  # a worktree whose reading is older than this is re-read, at the pace below:
RESYNC_EVERY_TICKS = 10  # one stale worktree per 10 ticks while file events arrive (a safety net),
RESYNC_EVERY_TICKS_UNWATCHED = 1  # one per tick when file watching failed (the only way to see changes)
INOTIFY_LIMIT = Path("/proc/sys/fs/inotify/max_user_watches")
# watchfiles wakes (and takes the GIL) every step to check for events and the stop flag: 20 ms cost
# ~60 ms CPU per idle 30 s; 60 ms costs a third of that and adds at most ~40 ms to a change's delay.
WATCH_STEP_MS = 60
READ_WORKERS = 4
STATE_MAX_AGE = 10.0  # state.json is parsed again when its stat changes, and at least this often
NO_READING = WorktreeReading()

Clock = Callable[[], float]


class _PaneTrack:
    """What we remember about one pane between ticks."""

    __slots__ = ("last_change", "pane_id", "screen", "since", "status", "verdict", "verdict_key")

    def __init__(self) -> None:
        self.screen = ""
        self.last_change: float | None = None
        self.pane_id: str | None = None
        self.status: Status | None = None
        self.since = 0.0
        # The last verdict and its inputs: reused while they stay the same, unless it depends on time.
        self.verdict: StatusVerdict | None = None
        self.verdict_key: tuple[object, ...] | None = None


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
        self._reader = PaneReader(fleet.tmux, fleet.session)  # captures only screens that may change
        self._ticks = 0
        self._pool = ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="fleet-git")
        self.errors: list[str] = []
        self.watching: bool | None = None  # None: no watcher (one-off ticks); False: watching failed
        self.git_reads = 0  # how many worktree readings were taken (the benchmark reports it)
        # Caches that keep an idle tick cheap: nothing below is recomputed unless its inputs changed.
        self._agents = {a.name: a for a in fleet.agents}
        self._worktrees = {a.name: str(fleet.layout.worktree(a.name)) for a in fleet.agents}
        self._state: FleetState | None = None
        self._state_key: tuple[int, ...] | None = None
        self._state_read = 0.0
        self._version = 0  # bumped whenever a git reading lands
        self._overlap_version = -1
        self._entries: tuple[OverlapEntry, ...] = ()
        self._overlap_by_agent: dict[str, dict[str, tuple[str, ...]]] = {}
        self._unmet: dict[str, tuple[str, ...]] = {}
        self._refs: str | None = None  # the branch tips the cached unmet dependencies were checked at
        self._composes = 0
        self._refs_checked = -1
        self._snapshots: dict[str, tuple[tuple[object, ...], AgentSnapshot]] = {}
        self._panes_version = 0
        self._timed = True  # the last composed agents include a verdict that depends on the time
        self._composed: tuple[int, int, FleetState, tuple[AgentSnapshot, ...]] | None = None

    # -- inputs ----------------------------------------------------------------------------

    def mark_dirty(self, agents: Iterable[str] | None = None) -> None:
        """Ask for a fresh git reading of these agents (all when None) at the next step."""
        with self._lock:
            self._dirty.update(agents if agents is not None else self._tracks)
        self._wake.set()

    # -- reading ---------------------------------------------------------------------------

    def read_panes(self) -> None:
        panes = self._reader.read()
        self._pane_order = [p.pane_id for p in panes]
        fresh = {p.agent: p for p in panes if p.agent}
        if fresh.keys() != self._panes.keys() or any(fresh[n] is not p for n, p in self._panes.items()):
            self._panes_version += 1  # the reader hands back the same objects for unchanged panes
        self._panes = fresh

    def read_git(self, names: Iterable[str]) -> None:
        names = [n for n in names if n in self._tracks]
        if not names:
            return
        base = self.fleet.base
        layout = self.fleet.layout
        merged = {n for n, record in load_state(layout).agents.items() if record.phase == "merged"}

        def read(name: str) -> tuple[str, WorktreeReading]:
            path = layout.worktree(name)
            if not path.exists():
                if name in merged:  # removed on purpose after its merge (the branch is kept)
                    return name, WorktreeReading()
                return name, WorktreeReading(error=f"worktree {path} is missing: run `fleet-tui up`")
            return name, git.read_worktree(path, base)

        now = self.clock()
        for name, reading in self._pool.map(read, names):
            scope = self.fleet.scopes[name]
            self._readings[name] = reading.model_copy(update={"files": mark_scope(reading.files, scope)})
            self._read_at[name] = now
            self.git_reads += 1
        self._version += 1

    def _due_for_resync(self) -> list[str]:
        pace = RESYNC_EVERY_TICKS_UNWATCHED if self.watching is False else RESYNC_EVERY_TICKS
        if self._ticks % pace:
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

    def _load_state(self) -> FleetState:
        """state.json, parsed again only when the file changed (and every STATE_MAX_AGE seconds)."""
        try:
            st = self.fleet.layout.state_file.stat()
            key: tuple[int, ...] | None = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        except OSError:
            key = None
        mono = time.monotonic()
        if (
            self._state is None
            or key is None
            or key != self._state_key
            or mono - self._state_read > STATE_MAX_AGE
        ):
            self._state = load_state(self.fleet.layout)
            self._state_key, self._state_read = key, mono
            self._unmet.clear()
        return self._state

    def _unmet_dependencies(self, name: str, state: FleetState) -> tuple[str, ...]:
        """A queued agent's unmet dependencies: several git calls each, so they are kept while the
        state and every branch tip stay the same (one `for-each-ref` per snapshot checks that)."""
        if self._refs_checked != self._composes:
            self._refs_checked = self._composes
            refs = git.run(
                self.fleet.root, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"
            )
            if refs != self._refs:
                self._refs = refs
                self._unmet.clear()
        if name not in self._unmet:
            self._unmet[name] = tuple(self.fleet.unmet_dependencies(self._agents[name], state))
        return self._unmet[name]

    def _overlaps(self) -> tuple[OverlapEntry, ...]:
        """Overlap entries, and each agent's share of them, recomputed only after a git reading."""
        if self._overlap_version != self._version:
            doers = {n: r.files for n, r in self._readings.items() if not self._agents[n].is_reviewer}
            self._entries = overlaps(doers)  # a reviewer sits on its doer's commit: not an overlap
            by_agent: dict[str, dict[str, tuple[str, ...]]] = {}
            for entry in self._entries:
                for name in entry.agents:
                    others = tuple(a for a in entry.agents if a != name)
                    by_agent.setdefault(name, {})[entry.path] = others
            self._overlap_by_agent = by_agent
            self._overlap_version = self._version
        return self._entries

    def compose(self) -> FleetSnapshot:
        self._composes += 1
        now = self.clock()
        state = self._load_state()
        entries = self._overlaps()
        composed = self._composed
        if (
            composed is not None
            and not self._timed
            and composed[:2] == (self._panes_version, self._version)
            and composed[2] is state
        ):
            agents = composed[3]  # no pane, reading or state changed, and no verdict depends on time
        else:
            self._timed = False
            agents = tuple(self._agent_snapshot(a.name, state, entries, now) for a in self.fleet.agents)
            self._composed = (self._panes_version, self._version, state, agents)
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
        agent = self._agents[name]
        record = state.agent(name)
        pane = self._panes.get(name)
        track = self._tracks[name]
        if record.phase == "merged":
            return StatusVerdict(status=Status.MERGED, reason="merged into " + self.fleet.base)
        if pane is None:
            return StatusVerdict(status=Status.MISSING, reason="no pane: run `fleet-tui up`")
        if record.phase == "queued":
            waiting = self._unmet_dependencies(name, state)
            why = None if waiting else self.fleet.queued_reason(self._agents[name], state)
            reason = (
                "waiting for " + ", ".join(waiting)
                if waiting
                else why or "dependencies merged: ready to start"
            )
            self._timed = True  # dependencies are checked again at every snapshot
            return StatusVerdict(status=Status.QUEUED, reason=reason)
        if track.pane_id != pane.pane_id:
            # First sight: tmux's last output in the pane's window bounds this pane's quiet time
            # (it is never later than this pane's own last output), so a one-off reading does
            # not call an agent idle that printed a moment ago.
            seen = pane.activity if pane.activity is not None and pane.activity <= now else None
            track.pane_id, track.screen, track.last_change = pane.pane_id, pane.screen, seen
        elif pane.screen != track.screen:
            track.screen, track.last_change = pane.screen, now
        exit_code = read_exit(self.fleet.layout, name, record.run) if pane.dead else None
        if record.phase == "killed":
            return StatusVerdict(status=Status.KILLED, reason="stopped by fleet-tui")
        key = (pane.pane_id, track.screen, pane.dead, exit_code, record.started_at, track.last_change)
        if track.verdict is not None and track.verdict_key == key:
            return track.verdict  # same inputs, and a verdict that does not depend on the time
        verdict = classify(
            preset=agent.preset,
            screen=pane.screen,
            exit_code=exit_code,
            dead=pane.dead,
            now=now,
            started_at=record.started_at,
            last_change=track.last_change,
            idle_after=agent.idle_after,
        )
        timeless = bool(verdict.rule) or verdict.status in (Status.EXITED, Status.CRASHED)
        track.verdict, track.verdict_key = (verdict, key) if timeless else (None, None)
        self._timed = self._timed or not timeless
        return verdict

    def _since(self, name: str, status: Status, record: AgentState, track: _PaneTrack) -> float:
        """When a status first seen now began, from the evidence there is; else now."""
        now = self.clock()
        if status in (Status.EXITED, Status.CRASHED):
            with contextlib.suppress(OSError):
                return self.fleet.layout.exit_file(name).stat().st_mtime
        if status in (Status.IDLE, Status.WAITING) and track.last_change is not None:
            return track.last_change
        if status == Status.STARTING and record.started_at is not None:
            return record.started_at
        if status in (Status.KILLED, Status.MERGED):  # when fleet-tui did it, from the event log
            wanted = "kill" if status == Status.KILLED else "merged"
            times = [e.time for e in read_events(self.fleet.layout) if e.agent == name and e.event == wanted]
            if times:
                return float(times[-1])
        return now  # e.g. working: since when is not known from one look

    def _agent_snapshot(
        self, name: str, state: FleetState, entries: tuple[OverlapEntry, ...], now: float
    ) -> AgentSnapshot:
        agent = self._agents[name]
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
            first_sight = track.status is None
            track.status = verdict.status
            track.since = self._since(name, verdict.status, record, track) if first_sight else now
        reading = self._readings.get(name, NO_READING)
        files = reading.files
        exit_code = (
            read_exit(self.fleet.layout, name, record.run)
            if verdict.status in (Status.EXITED, Status.CRASHED)
            else None
        )
        screen = pane.screen if pane else ""
        waiting_for = self._unmet_dependencies(name, state) if record.phase == "queued" else ()
        overlap = (
            self._overlap_by_agent.get(name, {}) if entries is self._entries else overlap_for(name, entries)
        )
        pane_id = pane.pane_id if pane else None
        key = (verdict, track.since, record, pane_id, screen, reading, exit_code, waiting_for, overlap)
        cached = self._snapshots.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]  # nothing this agent's snapshot is made of has changed
        lines = [ln.rstrip() for ln in strip_ansi(screen).splitlines()]
        # tmux's own "Pane is dead (status N, <date>)" notice is not the agent's output.
        tail = tuple(ln for ln in lines if ln.strip() and not ln.startswith("Pane is dead"))[-TAIL_LINES:]
        snapshot = AgentSnapshot(
            name=name,
            task=agent.task,
            branch=agent.branch,
            worktree=self._worktrees[name],
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
            waiting_for=waiting_for,
            pane_id=pane_id,
            tail=tail,
            screen=screen,
            files=files,
            added=sum(f.added or 0 for f in files),
            removed=sum(f.removed or 0 for f in files),
            commits_ahead=reading.commits_ahead,
            drift=drift(files),
            overlap=overlap,
            git_error=reading.error,
        )
        self._snapshots[name] = (key, snapshot)
        return snapshot

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

    def _watch(self, stop: threading.Event, on_error: Callable[[str], None] | None = None) -> None:
        paths = self.watch_paths()
        if not paths:
            return
        self.watching = True
        try:
            for changes in watchfiles.watch(
                *paths,
                watch_filter=_GitLogsFilter(git.git_common_dir(self.fleet.root) / "logs"),
                stop_event=stop,
                debounce=50,
                step=WATCH_STEP_MS,
                rust_timeout=1000,
                yield_on_timeout=False,
                ignore_permission_denied=True,
                raise_interrupt=False,
            ):
                names, base_moved = self._agents_for(path for _, path in changes)
                self.mark_dirty(None if base_moved else names)
        except Exception as exc:  # the rolling resync still keeps readings fresh, faster now
            self.watching = False
            message = (
                f"file watching stopped ({exc}): changes now show through the rolling re-read, "
                "one worktree per tick"
            )
            if "limit" in str(exc).lower():
                limit = INOTIFY_LIMIT.read_text().strip() if INOTIFY_LIMIT.exists() else "?"
                message += (
                    f"; the inotify watch limit ({limit}) is too low for {len(paths)} worktrees: "
                    "raise it with `sysctl fs.inotify.max_user_watches=524288`"
                )
            self.errors.append(message)
            if on_error:
                on_error(message)
            self.mark_dirty(None)  # events may have been lost: read everything once

    def run(
        self,
        publish: Callable[[FleetSnapshot], None],
        stop: threading.Event,
        interval: float = 1.0,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Publish snapshots until `stop` is set: each tick, and at once after a file event."""
        watcher = threading.Thread(target=self._watch, args=(stop, on_error), daemon=True, name="fleet-watch")
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
