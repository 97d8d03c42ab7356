"""The monitor: turns tmux and git readings into FleetSnapshots.

Per tick it makes one tmux call for every pane's state, capturing only the screens that may have
changed (`panes.PaneTracker`). Git is re-read only for worktrees whose files changed (file events
from `watcher.Watcher`) plus a slow rolling resync, one worktree per few ticks, as a safety net for
anything the events miss. Composing (`compose.Composer`) reuses every agent's snapshot whose inputs
did not change, so an idle fleet costs one `list-panes` per tick and little else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fleet_tui.adapters import git
from fleet_tui.engine.fleet import Fleet, off_branch_words
from fleet_tui.engine.monitor import live
from fleet_tui.engine.monitor.compose import Composer
from fleet_tui.engine.monitor.locks import GitLocks
from fleet_tui.engine.monitor.pacing import ReadPacer
from fleet_tui.engine.monitor.panes import PaneTracker, Verdict
from fleet_tui.engine.monitor.watcher import Watcher
from fleet_tui.engine.planwriter import PlanWriter
from fleet_tui.engine.state import FleetState, Phase, load_state, log_event
from fleet_tui.errors import FleetError
from fleet_tui.models import AgentSnapshot, FleetSnapshot, OverlapEntry, WorktreeReading
from fleet_tui.scope import mark_scope, overlap_for, overlaps

# The rolling resync, a safety net for changes the file events miss: while watching, the oldest
# reading is re-read every RESYNC_GAP seconds, so each worktree at least every max(RESYNC_AFTER,
# N x RESYNC_GAP) + RESYNC_GAP seconds (70 s at 6 agents, ~17 minutes at 100). One reading of a
# 2,000-file worktree costs ~14 ms of CPU (four git processes): every 3 s that was 0.45% of a
# core, the largest part of an idle fleet's cost; every 10 s it is 0.14%. One per tick (every
# second) when file watching failed, the only way to see changes then.
RESYNC_AFTER = 60.0  # a reading younger than this is never re-read by the resync
RESYNC_GAP = 10.0
RESYNC_GAP_UNWATCHED = 0.0
READ_WORKERS = 4
STATE_MAX_AGE = 10.0  # state.json is parsed again when its stat changes, and at least this often
UNREAD = WorktreeReading(pending=True)  # before an agent's first git reading
DOWN_RECHECK = 5.0  # seconds: while the fleet is down, how often tmux is asked why again

Clock = Callable[[], float]


@dataclass(frozen=True)
class FileStamp:
    """What `stat` says of a file: a different stamp means it may have changed."""

    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int


@dataclass(frozen=True)
class Versions:
    """How often the panes and the git readings changed: equal versions, nothing new to compose."""

    panes: int
    git: int
    signals: int = 0  # new hook lines or a new statusline reading
    locks: int = 0  # a git lock file came or went


@dataclass(frozen=True)
class Composed:
    versions: Versions
    state: FleetState
    agents: tuple[AgentSnapshot, ...]


class Monitor:
    """Reads the fleet; `tick()` once for a snapshot, or `run()` in a thread for a live feed."""

    def __init__(self, fleet: Fleet, clock: Clock = time.time, *, log_changes: bool = False) -> None:
        self.fleet = fleet
        self.log_changes = log_changes  # the live monitor logs status changes; one-off reads do not
        self.plan_writer = PlanWriter(fleet) if log_changes else None  # and keeps .fleet/plan.md current
        self._drift_seen: dict[str, frozenset[str]] = {}  # drifted files last seen, per agent
        self.clock = clock
        self._lock = threading.Lock()
        self._dirty: set[str] = {a.name for a in fleet.agents}
        self._wake = threading.Event()
        self._agents = {a.name: a for a in fleet.agents}
        self.panes = PaneTracker(fleet)
        self.watcher = Watcher(fleet, self.mark_dirty)
        self.locks = GitLocks(fleet)
        self._locks_version = 0
        self._composer = Composer({a.name: str(fleet.layout.worktree(a.name)) for a in fleet.agents})
        self._resynced = 0.0  # when the rolling resync last took a reading
        self._pool = ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="fleet-git")
        self._ticks = 0
        self.git_reads = 0  # how many worktree readings were taken (the benchmark reports it)
        self._readings: dict[str, WorktreeReading] = {}
        self._raw: dict[str, WorktreeReading] = {}  # as git gave it, before the scope marks
        self._read_at: dict[str, float] = {}
        self.pacer = ReadPacer()  # expensive worktrees are not re-read at every file event
        self._git_version = 0  # bumped whenever a git reading lands
        # Caches that keep an idle tick cheap: nothing below is recomputed unless its inputs changed.
        self._state: FleetState | None = None
        self._state_stamp: FileStamp | None = None
        self._state_read = 0.0
        self._overlaps: tuple[int, tuple[OverlapEntry, ...]] = (-1, ())  # (git version, entries)
        self._overlap_of: dict[str, dict[str, tuple[str, ...]]] = {}  # per agent, for those entries
        self._unmet: dict[str, tuple[str, ...]] = {}
        self._tips: str | None = None  # the branch tips the cached unmet dependencies were checked at
        self._composes = 0
        self._tips_checked = -1
        self._timed = True  # the last composed agents include a verdict that depends on the time
        self._composed: Composed | None = None
        self._down: tuple[tuple[int, int, int], str] | None = None  # (inputs, the down reason)

    @property
    def watching(self) -> bool | None:
        """None: no watcher (one-off ticks); False: watching failed."""
        return self.watcher.watching

    @property
    def errors(self) -> list[str]:
        return self.watcher.errors

    # -- inputs ----------------------------------------------------------------------------

    def mark_dirty(self, agents: Iterable[str] | None = None) -> None:
        """Ask for a fresh git reading of these agents (all when None) at the next step."""
        with self._lock:
            self._dirty.update(agents if agents is not None else self._agents)
        self._wake.set()

    def wake(self) -> None:
        """Take the next step now instead of at the next tick."""
        self._wake.set()

    # -- reading ---------------------------------------------------------------------------

    def read_panes(self) -> None:
        self.panes.read()

    def read_git(self, names: Iterable[str]) -> None:
        names = [n for n in names if n in self._agents]
        if not names:
            return
        base = self.fleet.base
        layout = self.fleet.layout
        merged = {n for n, record in load_state(layout).agents.items() if record.phase == Phase.MERGED}

        def read(name: str) -> tuple[str, WorktreeReading]:
            path = layout.worktree(name)
            if not path.exists():
                if name in merged:  # removed on purpose after its merge (the branch is kept)
                    return name, WorktreeReading()
                return name, WorktreeReading(error=f"worktree {path} is missing: run `fleet-tui up`")
            problem = self.fleet.worktree_problem(name)
            if problem:  # git would read an enclosing repository's files as this agent's
                return name, WorktreeReading(error=problem)
            started = time.monotonic()
            try:  # one agent's failed reading (a git lock, an unreadable file) is marked on that agent
                reading = git.read_worktree(path, base)
                self.pacer.timed(name, time.monotonic() - started)
                branch = self.fleet.agent(name).branch
                on = git.current_branch(path)
            except (FleetError, OSError) as exc:
                return name, WorktreeReading(error=f"reading its worktree failed: {exc}")
            if on != branch and not reading.error:  # shown; only `branch` would be merged
                reading = reading.model_copy(update={"error": off_branch_words(name, path, on, branch)})
            return name, reading

        now = self.clock()
        for name in names:  # a worktree made again may have another git dir
            self.locks.forget(name)
        changed = False
        for name, reading in self._pool.map(read, names):
            self._read_at[name] = now
            self.git_reads += 1
            if name in self._readings and self._raw.get(name) == reading:
                continue  # the same as last time: nothing to mark, nothing to compose again
            self._raw[name] = reading
            scope = self.fleet.scopes[name]
            self._readings[name] = reading.model_copy(update={"files": mark_scope(reading.files, scope)})
            changed = True
        if changed:
            self._git_version += 1

    def _due_for_resync(self) -> list[str]:
        now = self.clock()
        gap = RESYNC_GAP_UNWATCHED if self.watching is False else RESYNC_GAP
        if now < self._resynced + gap:
            return []
        self._resynced = now
        stale = [
            n
            for n in self._agents
            if now - self._read_at.get(n, 0.0) >= self.pacer.resync_after(n, RESYNC_AFTER)
        ]
        return sorted(stale, key=lambda n: self._read_at.get(n, 0.0))[:1]

    def tick(self, *, panes: bool = True) -> FleetSnapshot:
        """One step: read tmux (optional), re-read the git of dirty agents, compose a snapshot."""
        self._ticks += 1
        if panes:
            self.read_panes()
            if self.locks.read():
                self._locks_version += 1
        with self._lock:
            dirty = set(self._dirty)
            self._dirty.clear()
        dirty.update(self._due_for_resync())
        now, later = self.pacer.split(dirty)
        if later:  # expensive to read and read a moment ago: once its pause is over
            with self._lock:
                self._dirty.update(later)
        self.read_git(sorted(now))
        return self.compose()

    def next_due(self) -> float | None:
        """When (monotonic) the first agent waiting out its pause may be read; None: none waits."""
        with self._lock:
            return self.pacer.next_due(set(self._dirty))

    # -- composing -------------------------------------------------------------------------

    def _load_state(self) -> FleetState:
        """state.json, parsed again only when the file changed (and every STATE_MAX_AGE seconds)."""
        try:
            st = self.fleet.layout.state_file.stat()
            stamp: FileStamp | None = FileStamp(st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        except OSError:
            stamp = None
        mono = time.monotonic()
        if (
            self._state is None
            or stamp is None
            or stamp != self._state_stamp
            or mono - self._state_read > STATE_MAX_AGE
        ):
            state = load_state(self.fleet.layout)
            if state != self._state:  # an equal one is not news: keep the object (and what it gave)
                self._state = state
                self._unmet.clear()
            self._state_stamp, self._state_read = stamp, mono
        assert self._state is not None
        return self._state

    def _unmet_dependencies(self, name: str, state: FleetState) -> tuple[str, ...]:
        """A queued agent's unmet dependencies: several git calls each, so they are kept while the
        state and every branch tip stay the same (one `for-each-ref` per snapshot checks that)."""
        if self._tips_checked != self._composes:
            self._tips_checked = self._composes
            tips = git.branch_tips(self.fleet.root)
            if tips != self._tips:
                self._tips = tips
                self._unmet.clear()
        if name not in self._unmet:
            self._unmet[name] = tuple(self.fleet.unmet_dependencies(self._agents[name], state))
        return self._unmet[name]

    def _queued_reason(self, name: str, state: FleetState) -> str:
        """Why a queued agent still waits: its unmet dependencies, else the fleet's own reason."""
        waiting = self._unmet_dependencies(name, state)
        if waiting:
            return "waiting for " + ", ".join(waiting)
        return self.fleet.queued_reason(self._agents[name], state) or "dependencies merged: ready to start"

    def _overlap_entries(self) -> tuple[OverlapEntry, ...]:
        """Overlap entries, recomputed only after a git reading."""
        if self._overlaps[0] != self._git_version:
            doers = {n: r.files for n, r in self._readings.items() if not self._agents[n].is_reviewer}
            # A reviewer sits on its doer's commit: not an overlap.
            self._overlaps = (self._git_version, overlaps(doers))
            self._overlap_of = {}
        return self._overlaps[1]

    def _overlap_for(self, name: str) -> dict[str, tuple[str, ...]]:
        if name not in self._overlap_of:
            self._overlap_of[name] = overlap_for(name, self._overlaps[1])
        return self._overlap_of[name]

    def compose(self) -> FleetSnapshot:
        self._composes += 1
        now = self.clock()
        state = self._load_state()
        entries = self._overlap_entries()
        versions = Versions(
            self.panes.version, self._git_version, self.panes.poll_signals(), self._locks_version
        )
        alive = self.panes.session_alive
        last = self._composed
        if last is not None and not self._timed and last.versions == versions and last.state is state:
            agents = last.agents  # no pane, reading or state changed, and no verdict depends on time
        else:
            self._timed = False
            agents = tuple(self._agent_snapshot(a.name, state, now) for a in self.fleet.agents)
            self._composed = Composed(versions, state, agents)
        return FleetSnapshot(
            fleet=self.fleet.name,
            base=self.fleet.base,
            repo=str(self.fleet.root),
            session=self.fleet.session,
            socket=self.fleet.tmux.socket,
            session_alive=alive,
            down_reason=None if alive else self._down_reason(state),
            taken_at=now,
            agents=agents,
            overlaps=entries,
            base_locks=self.locks.base,
        )

    def _down_reason(self, state: FleetState) -> str:
        """The down reason, asked of tmux again only when the panes or the state changed, or
        every DOWN_RECHECK seconds: a fleet left down costs no extra call per tick."""
        key = (self.panes.version, id(state), int(time.monotonic() // DOWN_RECHECK))
        if self._down is None or self._down[0] != key:
            self._down = (key, self.panes.down_reason(state))
        return self._down[1]

    def _agent_snapshot(self, name: str, state: FleetState, now: float) -> AgentSnapshot:
        agent = self._agents[name]
        record = state.agent(name)
        look = self.panes.verdict(agent, record, now, lambda: self._queued_reason(name, state))
        signals = self.panes.signals[name]
        settled = signals.settle(look.verdict, now)  # a new status shows once it held status_hold
        look = Verdict(settled, look.exit_code, timed=look.timed or signals.debounce.pending)
        self._timed = self._timed or look.timed
        since = self.panes.note_status(name, look.verdict, record, now, self.log_changes)
        waiting_for = self._unmet_dependencies(name, state) if record.phase == Phase.QUEUED else ()
        snapshot = self._composer.agent(
            agent,
            record,
            self.panes.panes.get(name),
            look,
            since,
            self._readings.get(name, UNREAD),
            waiting_for,
            self._overlap_for(name),
            signals.context(pane.screen if (pane := self.panes.panes.get(name)) else ""),
            signals.context_window,
            self.locks.agents.get(name, ()),
        )
        if not snapshot.git_pending:  # no reading yet is no drift yet: what it finds is not news
            self._note_drift(name, snapshot.drift)
        return snapshot

    def _note_drift(self, name: str, drift: tuple[str, ...]) -> None:
        """Log files that newly drifted (the live monitor only; what was there at start is not news)."""
        seen = self._drift_seen.get(name)
        now_drift = frozenset(drift)
        if seen is not None and self.log_changes and now_drift - seen:
            log_event(self.fleet.layout, name, "drift", files=sorted(now_drift - seen))
        self._drift_seen[name] = now_drift

    # -- the live loop (monitor/live.py) ----------------------------------------------------

    def run(
        self,
        publish: Callable[[FleetSnapshot], object],
        stop: threading.Event,
        interval: float = 1.0,
        on_error: Callable[[str], object] | None = None,
    ) -> None:
        """Publish snapshots until `stop` is set: each tick, and at once after a file event."""
        live.run(self, publish, stop, interval, on_error)

    @property
    def has_read_git(self) -> bool:
        return bool(self._readings)

    def sleep(self, timeout: float) -> None:
        """Wait `timeout` seconds, or less when woken (a file event, `wake`, `mark_dirty`)."""
        self._wake.wait(timeout=timeout)
        self._wake.clear()

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self.panes.close()  # its tmux control client ends with the monitor


def take_snapshot(fleet: Fleet, sample: float = 1.0) -> FleetSnapshot:
    """A one-off reading; screens are sampled twice, `sample` seconds apart, to see output move."""
    monitor = Monitor(fleet)
    try:
        monitor.tick()
        if sample > 0 and monitor.panes.panes:
            time.sleep(sample)
            return monitor.tick()
        return monitor.compose()
    finally:
        monitor.close()
