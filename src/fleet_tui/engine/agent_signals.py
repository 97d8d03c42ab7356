"""Per agent, what its own signals say right now: the hooks' state, context use and cost.

The monitor holds one `AgentSignals` per agent and asks it once per look. Reading is incremental
and cheap while nothing changes: the signals file is read only past what was already read (one
`stat` otherwise), and the statusline file is parsed again only when its stat changes.
"""

from __future__ import annotations

import os

from fleet_tui.engine.hooks import claude_settings_file, signals_file, statusline_file, uses_signals
from fleet_tui.engine.state import Layout
from fleet_tui.models import StatusVerdict
from fleet_tui.signals import ContextReading, HookState, SignalReader, context_from_screen, read_statusline
from fleet_tui.spec import Agent
from fleet_tui.status import Debounce


class AgentSignals:
    def __init__(self, agent: Agent, layout: Layout, hold: float) -> None:
        # Hooks apply only to a run started with them: the current run's launcher says whether it
        # was (an agent started before its preset had signals, or with them off, is not "hooked").
        self._can_signal = uses_signals(agent) or uses_signals(agent, restart=True)
        self._launcher = layout.launcher(agent.name)
        self._launcher_key: tuple[int, int] | None = None
        self._marks = (str(claude_settings_file(layout, agent.name)), "notify=")
        self.hooked = False
        self.context_window = agent.preset.context_window
        self._reader = SignalReader(signals_file(layout, agent.name))
        self._statusline = statusline_file(layout, agent.name)
        self._statusline_key: tuple[int, int, int] | None = None
        self._statusline_reading: ContextReading | None = None
        self._statusline_version = 0
        self._since: float | None = None
        self._version = -1
        self._state: HookState | None = None
        self.debounce = Debounce(hold)

    def poll(self) -> int:
        """Take in new signals and a new statusline reading; returns a number that changes
        whenever either did (a few `stat` calls while nothing changes)."""
        self._check_launcher()
        self._reader.read()
        try:
            st = os.stat(self._statusline)
            key: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            key = None
        if key != self._statusline_key:
            self._statusline_key = key
            self._statusline_reading = read_statusline(self._statusline) if key else None
            self._statusline_version += 1
        return self._reader.version + self._statusline_version

    def _check_launcher(self) -> None:
        if not self._can_signal:
            return
        try:
            st = os.stat(self._launcher)
            key: tuple[int, int] | None = (st.st_ino, st.st_mtime_ns)
        except OSError:
            key = None
        if key == self._launcher_key:
            return
        self._launcher_key = key
        try:
            text = self._launcher.read_text(encoding="utf-8") if key else ""
        except OSError:
            text = ""
        hooked = any(mark in text for mark in self._marks)
        if hooked != self.hooked:
            self.hooked = hooked
            self._statusline_version += 1  # the verdicts' inputs changed

    def hooks(self, since: float | None) -> HookState | None:
        """The hooks' state for the run that started at `since` (None: no signals yet), as of
        the last `poll`."""
        if self._reader.version != self._version or since != self._since:
            self._version, self._since = self._reader.version, since
            self._state = self._reader.state(since)
        return self._state

    @property
    def version(self) -> int:
        """Changes whenever a new signal arrived: part of a cached verdict's inputs."""
        return self._reader.version

    def context(self, screen: str) -> ContextReading | None:
        """Context use and cost (as of the last `poll`): the statusline's reading when there is
        one, else the screen's."""
        reading = self._statusline_reading
        if reading is not None and reading.used is not None:
            return reading
        on_screen = context_from_screen(screen) if screen else None
        if on_screen is not None and reading is not None:
            return on_screen.model_copy(update={"cost_usd": reading.cost_usd, "model": reading.model})
        return on_screen or reading

    def settle(self, verdict: StatusVerdict, now: float) -> StatusVerdict:
        """The verdict to report, once it has held long enough (see status.Debounce)."""
        return self.debounce.feed(verdict, now)
