"""Who needs the person, as the dashboard tells it: an agent that started waiting, crashed, drifted,
turned ready or needs a person is marked in the table and notified (and the bell rung, and an OSC 9
notification written to the terminal, unless it is the agent shown) once; looking
at it acknowledges it, and the acknowledgement is kept in .fleet/ so a reopened dashboard does not
raise it again until something new happens to that agent.

`FleetApp` (ui/app.py) inherits this mixin; `notice_changes` is called with every snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.notifications import SeverityLevel

from fleet_tui.models import AgentSnapshot, FleetSnapshot, Status
from fleet_tui.ui.alerts import terminal_notices
from fleet_tui.ui.host import AppMixin
from fleet_tui.ui.messages import ReadingFailed

if TYPE_CHECKING:
    from fleet_tui.ui.source import FleetSource


def attention_key(agent: AgentSnapshot) -> str:
    """What a person acknowledges when they look at an agent: its condition, dated, so a new
    question or crash (another `status_since`) or a new drifted file is news again."""
    dated = agent.status in (Status.WAITING, Status.CRASHED)
    return f"{agent.status.value}|{int(agent.status_since) if dated else ''}|{','.join(sorted(agent.drift))}"


def attention_reason(before: AgentSnapshot | None, after: AgentSnapshot) -> str | None:
    """Why an agent needs the person now: it started waiting, crashed, or drifted since `before`
    (None: the first reading, where a present condition counts)."""
    if after.status == Status.WAITING and (before is None or before.status != Status.WAITING):
        return "is waiting for an answer"
    if after.status == Status.CRASHED and (before is None or before.status != Status.CRASHED):
        return f"crashed (exit {after.exit_code})" if after.exit_code is not None else "crashed"
    new_drift = set(after.drift) - set(before.drift if before else ())
    if new_drift:
        return "drifted: " + ", ".join(sorted(new_drift))
    if after.status == Status.READY and (before is None or before.status != Status.READY):
        return "is ready to merge: every gate passed"
    if after.needs_person and (before is None or not before.needs_person):
        return f"needs a person: {after.needs_person}"
    return None


class Noticing(AppMixin):
    """Mixin of `FleetApp`: the attention marks, notices, the bell and acknowledgements."""

    if TYPE_CHECKING:  # provided by FleetApp
        source: FleetSource
        snapshot: FleetSnapshot | None

        def redraw_agents(self) -> None: ...

        @property
        def selected_name(self) -> str | None: ...

    attention: dict[str, str]  # agent -> why it needs the person (set up in FleetApp.__init__)
    notices: list[str]  # every attention notice, in order (tests read it)
    _acks: dict[str, str]  # agent -> the attention_key the person already looked at

    def notice_changes(self, before: FleetSnapshot | None, snapshot: FleetSnapshot) -> None:
        """Mark what needs the person in `snapshot`; notify what turned since `before` (on the
        first snapshot, only mark: what an earlier dashboard saw acknowledged stays quiet)."""
        fresh: list[tuple[AgentSnapshot, str]] = []
        for agent in snapshot.agents:
            prior = before.agent(agent.name) if before else None
            # A first picture without git figures: the one after it is the first full sight.
            unread = prior is not None and prior.git_pending
            reason = attention_reason(None if unread else prior, agent)
            first = before is None or unread
            if reason and first and self._acks.get(agent.name) == attention_key(agent):
                continue  # acknowledged in an earlier dashboard: not news now
            if reason:
                self.attention[agent.name] = reason
                if not first:
                    fresh.append((agent, reason))
        self._call_attention(fresh)

    def _call_attention(self, fresh: list[tuple[AgentSnapshot, str]]) -> None:
        if not fresh:
            return
        for agent, reason in fresh:
            notice = f"{agent.name} {reason}"
            self.notices.append(notice)
            if self.source.notify:
                severity: SeverityLevel = "error" if agent.status == Status.CRASHED else "warning"
                title = "needs attention"
                if agent.status == Status.READY:
                    severity, title = "information", "ready to merge"
                self.notify(notice, title=title, severity=severity, timeout=8)
        # The terminal's own alerts (OSC 9, the bell) only for agents the person is not looking at.
        elsewhere = [(agent, reason) for agent, reason in fresh if agent.name != self.selected_name]
        if elsewhere and self.source.notify and self.snapshot is not None:
            self.write_terminal(terminal_notices(self.snapshot, elsewhere))
        if elsewhere and self.source.bell:
            self.bell()  # once per snapshot, however many agents turned

    def write_terminal(self, text: str) -> None:
        """Write escape sequences to the real terminal (as `bell` does), past Textual's screen."""
        if text and not self.is_headless and self._driver is not None:
            self._driver.write(text)

    def clear_attention(self, name: str | None) -> None:
        if name and self.attention.pop(name, None) is not None and self.snapshot is not None:
            agent = self.snapshot.agent(name)
            if agent is not None:
                self._acks[name] = attention_key(agent)
                self.save_ack(name, self._acks[name])
            self.redraw_agents()

    @work(thread=True, group="acks", exit_on_error=False)
    def save_ack(self, name: str, key: str) -> None:
        try:
            self.source.acknowledge(name, key)
        except Exception as exc:  # the dashboard works on; only a reopen would ask again
            self.post_message(ReadingFailed("remembering what was seen", str(exc)))
