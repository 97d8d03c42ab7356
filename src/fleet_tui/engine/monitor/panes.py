"""Per-pane tracking and status verdicts: what each pane showed, since when, and what that means.

The tmux side of the monitor: one batched read per tick (`PaneReader` captures only screens that
may have changed), then per agent a verdict from the strongest evidence, reused while its inputs
stay the same and it does not depend on the time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fleet_tui.adapters.tmux import PaneReader
from fleet_tui.engine.agent_signals import AgentSignals
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.state import AgentState, FleetState, Phase, log_event, read_events, read_exit
from fleet_tui.models import PaneReading, Status, StatusVerdict
from fleet_tui.signals import HookState
from fleet_tui.spec import Agent
from fleet_tui.status import classify

ENDED = (Status.EXITED, Status.CRASHED)


@dataclass(frozen=True)
class VerdictInputs:
    """Everything a cached verdict was decided from; equal inputs give the same verdict."""

    pane_id: str
    screen: str
    dead: bool
    exit_code: int | None
    started_at: float | None
    last_change: float | None
    hooks: HookState | None
    hooked: bool


@dataclass
class PaneTrack:
    """What we remember about one pane between ticks."""

    screen: str = ""
    last_change: float | None = None
    pane_id: str | None = None
    status: Status | None = None
    since: float = 0.0
    # The last verdict and its inputs: reused while they stay the same, unless it depends on time.
    verdict: StatusVerdict | None = None
    verdict_key: VerdictInputs | None = None


@dataclass(frozen=True)
class Verdict:
    """A status verdict, the exit code it saw (read once per look), and whether time can change it."""

    verdict: StatusVerdict
    exit_code: int | None = None
    timed: bool = False

    @property
    def status(self) -> Status:
        return self.verdict.status


class PaneTracker:
    """The fleet's panes as of the last read, and a track per agent."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.reader = PaneReader(fleet.tmux, fleet.session)
        self.tracks: dict[str, PaneTrack] = {a.name: PaneTrack() for a in fleet.agents}
        self.panes: dict[str, PaneReading] = {}
        self.order: list[str] = []
        self.version = 0  # bumped whenever a pane changed
        self.foreign: str | None = None  # the other repository whose session has our name
        hold = fleet.spec.settings.status_hold
        self.signals = {a.name: AgentSignals(a, fleet.layout, hold) for a in fleet.agents}
        self._recorded: dict[str, tuple[str, float]] | None = None  # see recorded_status

    def poll_signals(self) -> int:
        """Take in every agent's new signals; the sum changes whenever any agent's did."""
        return sum(s.poll() for s in self.signals.values())

    @property
    def session_alive(self) -> bool:
        return bool(self.panes) or bool(self.order)

    def close(self) -> None:
        self.reader.close()

    def read(self) -> None:
        panes = self.reader.read()
        owner = self.reader.owner
        # A session of our name made by another repository (or by no fleet-tui at all) is not
        # ours: its panes are never read as this fleet's agents, only reported.
        self.foreign = owner if panes and owner is not None and Path(owner) != self.fleet.root else None
        if self.foreign is not None:
            panes = []
        self.order = [p.pane_id for p in panes]
        fresh = {p.agent: p for p in panes if p.agent}
        if fresh.keys() != self.panes.keys() or any(fresh[n] is not p for n, p in self.panes.items()):
            self.version += 1  # the reader hands back the same objects for unchanged panes
        self.panes = fresh

    def down_reason(self, state: FleetState) -> str:
        """Why the fleet has no panes to read, said for a person (asked only while that is so)."""
        session, socket = self.fleet.session, self.fleet.tmux.socket
        if self.foreign is not None:
            whose = self.foreign or "no fleet-tui fleet (it records no repository)"
            return (
                f"the tmux session {session!r} on socket {socket!r} belongs to {whose}: its panes "
                f"are not this fleet's; give this fleet another `name` (or `socket`) under [fleet]"
            )
        lost = [
            n
            for n, r in state.agents.items()
            if n in self.tracks
            and r.phase == Phase.RUNNING
            and read_exit(self.fleet.layout, n, r.run) is None
        ]
        if not lost:
            return "the fleet is down: `fleet-tui up` brings it back"
        if not self.fleet.tmux.server_alive():
            return (
                f"the tmux server (socket {socket!r}) is gone, and the agents' processes with it "
                "(killed from outside?): `fleet-tui up` rebuilds the fleet and resumes them"
            )
        return (
            f"the tmux session {session!r} was closed from outside: "
            "`fleet-tui up` rebuilds it and resumes the agents"
        )

    def verdict(
        self, agent: Agent, record: AgentState, now: float, queued_reason: Callable[[], str]
    ) -> Verdict:
        name = agent.name
        pane = self.panes.get(name)
        track = self.tracks[name]
        if record.phase == Phase.MERGED:
            return Verdict(StatusVerdict(status=Status.MERGED, reason="merged into " + self.fleet.base))
        if pane is None:
            return Verdict(StatusVerdict(status=Status.MISSING, reason="no pane: run `fleet-tui up`"))
        if record.phase == Phase.QUEUED:
            # Dependencies are checked again at every snapshot.
            return Verdict(StatusVerdict(status=Status.QUEUED, reason=queued_reason()), timed=True)
        self._observe_screen(track, pane, now)
        exit_code = read_exit(self.fleet.layout, name, record.run) if pane.dead else None
        if record.phase == Phase.KILLED:
            return Verdict(StatusVerdict(status=Status.KILLED, reason="stopped by fleet-tui"), exit_code)
        signals = self.signals[name]
        hooks = signals.hooks(record.started_at)
        key = VerdictInputs(
            pane.pane_id,
            track.screen,
            pane.dead,
            exit_code,
            record.started_at,
            track.last_change,
            hooks,
            signals.hooked,
        )
        if track.verdict is not None and track.verdict_key == key:
            return Verdict(
                track.verdict, exit_code
            )  # same inputs, and a verdict that does not depend on time
        verdict = classify(
            preset=agent.preset,
            screen=pane.screen,
            exit_code=exit_code,
            dead=pane.dead,
            now=now,
            started_at=record.started_at,
            last_change=track.last_change,
            idle_after=agent.idle_after,
            hooks=hooks,
            hooked=signals.hooked,
        )
        timeless = not verdict.timed  # a pattern, a signal or an exit code decided
        track.verdict, track.verdict_key = (verdict, key) if timeless else (None, None)
        return Verdict(verdict, exit_code, timed=not timeless)

    @staticmethod
    def _observe_screen(track: PaneTrack, pane: PaneReading, now: float) -> None:
        if track.pane_id != pane.pane_id:
            # First sight: tmux's last output in the pane's window bounds this pane's quiet time
            # (it is never later than this pane's own last output), so a one-off reading does
            # not call an agent idle that printed a moment ago.
            seen = pane.activity if pane.activity is not None and pane.activity <= now else None
            track.pane_id, track.screen, track.last_change = pane.pane_id, pane.screen, seen
        elif pane.screen != track.screen:
            track.screen, track.last_change = pane.screen, now

    def note_status(
        self, name: str, verdict: StatusVerdict, record: AgentState, now: float, log: bool
    ) -> float:
        """Follow the agent's status; returns since when it has had it (logged when `log`)."""
        track = self.tracks[name]
        if verdict.status != track.status:
            if track.status is not None and log:
                log_event(
                    self.fleet.layout, name, "status", status=verdict.status.value,
                    previous=track.status.value, reason=verdict.reason,
                )  # fmt: skip
            first_sight = track.status is None
            track.status = verdict.status
            track.since = self._since(name, verdict.status, record, track, now) if first_sight else now
        return track.since

    def recorded_status(self, name: str) -> tuple[str, float] | None:
        """The agent's status as the event log last recorded it, and when (the log is read once,
        at the first sights: a monitor that starts again, e.g. a reopened dashboard's or a
        restarted supervisor's, dates a status that was already logged from the log)."""
        if self._recorded is None:
            self._recorded = {}
            for event in read_events(self.fleet.layout):
                status = event.details.get("status")
                if event.agent is not None and event.event == "status" and isinstance(status, str):
                    self._recorded[event.agent] = (status, event.time)
        return self._recorded.get(name)

    def _since(self, name: str, status: Status, record: AgentState, track: PaneTrack, now: float) -> float:
        """When a status first seen now began, from the evidence there is; else now."""
        if status in ENDED:
            with contextlib.suppress(OSError):
                return self.fleet.layout.exit_file(name).stat().st_mtime
        recorded = self.recorded_status(name)
        # The same status, logged during this run: it has held since then (the pane's window
        # activity below is any pane of the window's, which resets an idle agent's age to 0).
        if recorded is not None and recorded[0] == status.value and recorded[1] >= (record.started_at or 0.0):
            return recorded[1]
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
