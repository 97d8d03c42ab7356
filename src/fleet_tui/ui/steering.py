"""Steering keys of the dashboard: kill (k), restart (r), merge (m), merge queue (M), event log (l).

`FleetApp` (ui/app.py) inherits this mixin: its bindings join the app's (Footer, help, command
palette), its `check_action` dims the keys the engine says do not apply to the selected agent
(`FleetSource.permit`), and every engine call runs in a thread worker through the app's
`FleetSource` whose result comes back as a message; a worker's failure is turned into a notice or a
result screen in one place, `FleetApp.on_worker_state_changed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message

from fleet_tui.engine.actions import MergeRefused, QueuePlan, Stakes
from fleet_tui.models import AgentSnapshot
from fleet_tui.ui.host import AppMixin
from fleet_tui.ui.steer_screens import (
    KillScreen,
    LogScreen,
    MergeChoice,
    MergeScreen,
    QueueScreen,
    RestartChoice,
    RestartScreen,
    ResultScreen,
    preflight_text,
)

if TYPE_CHECKING:
    from fleet_tui.models import FleetSnapshot
    from fleet_tui.ui.messages import SnapshotArrived
    from fleet_tui.ui.source import FleetSource

STEER_ACTIONS = frozenset({"kill", "restart", "merge", "merge_queue", "log", "sync"})


@dataclass
class StakesRead(Message):
    """What is at stake for an agent, read in a worker, for the kill or restart confirmation."""

    purpose: str  # "kill" | "restart"
    stakes: Stakes


@dataclass
class SteerDone(Message):
    """A steering action finished: a notification, or a modal when `details` says more."""

    agent: str | None
    message: str
    ok: bool = True
    details: Text | None = None


def refused_details(exc: MergeRefused) -> Text:
    """A refused merge, in full: why, every check, the end of the verify output."""
    details = Text(exc.message + "\n\n")
    if exc.preflight is not None:
        details.append_text(preflight_text(exc.preflight))
        if exc.preflight.verify_output.strip():
            details.append("\n" + exc.preflight.verify_output.rstrip()[-3000:])
    return details


class SteeringActions(AppMixin):
    """Mixin of `FleetApp` with the steering bindings, actions, workers and result handlers."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "k", "kill", "Kill", id="steer.kill", tooltip="Stop the agent (its work is snapshotted first)"
        ),
        Binding("r", "restart", "Restart", id="steer.restart", tooltip="Fresh agent process with a handoff"),
        Binding("m", "merge", "Merge", id="steer.merge", tooltip="Preflight, then merge the agent into base"),
        Binding(
            "M",
            "merge_queue",
            "Merge all",
            id="steer.merge_queue",
            key_display="M",
            tooltip="Merge every ready agent in a deliberate order",
        ),
        Binding("l", "log", "Log", id="steer.log", tooltip="The event log, newest first"),
        Binding(
            "u",
            "sync",
            "Sync",
            id="steer.sync",
            tooltip="Bring base's new commits in: merged when clean, else handed to the agent",
        ),
    ]

    if TYPE_CHECKING:  # provided by FleetApp / textual.App
        source: FleetSource
        snapshot: FleetSnapshot | None

        @property
        def selected_agent(self) -> AgentSnapshot | None: ...
        def request_refresh(self, names: list[str] | None = None) -> None: ...

    _auto_restart_busy = False

    # -- which keys apply ----------------------------------------------------------------------

    def steering_applies(self, action: str) -> bool | None:
        """For the help screen and the palette: True/False for a steering action, None for others."""
        if action not in STEER_ACTIONS:
            return None
        return self.source.permit(action, self.selected_agent).ok

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in STEER_ACTIONS:
            return True if self.source.permit(action, self.selected_agent) else None
        return super().check_action(action, parameters)

    def _allowed(self, action: str) -> bool:
        """The engine's answer for the selected agent; a refusal is said (from the palette, say)."""
        answer = self.source.permit(action, self.selected_agent)
        if not answer:
            self.notify(answer.why, severity="warning", timeout=4)
        return answer.ok

    def _target(self, action: str) -> AgentSnapshot | None:
        return self.selected_agent if self._allowed(action) else None

    # -- actions -------------------------------------------------------------------------------

    def action_kill(self) -> None:
        agent = self._target("kill")
        if agent is not None:
            self.read_stakes(agent.name, "kill")

    def action_restart(self) -> None:
        agent = self._target("restart")
        if agent is not None:
            self.read_stakes(agent.name, "restart")

    def action_merge(self) -> None:
        agent = self._target("merge")
        base = self.source.base
        if agent is None or base is None:
            return
        name = agent.name

        def chosen(choice: MergeChoice | None) -> None:
            if choice is not None:
                self.do_merge(name, choice)

        self.push_screen(MergeScreen(name, base), chosen)

    def action_merge_queue(self) -> None:
        base = self.source.base
        if not self._allowed("merge_queue") or base is None:
            return

        def chosen(plan: QueuePlan | None) -> None:
            if plan is not None:
                self.do_queue(plan)

        self.push_screen(QueueScreen(base), chosen)

    def action_sync(self) -> None:
        agent = self._target("sync")
        if agent is not None:
            self.do_sync(agent.name)

    def action_log(self) -> None:
        if self._allowed("log"):
            self.push_screen(LogScreen(list(self.source.agent_names)))

    # -- workers: the engine runs here, in threads; failures: FleetApp.on_worker_state_changed ----

    @work(thread=True, exclusive=True, group="steer-stakes", exit_on_error=False, name="reading the agent")
    def read_stakes(self, name: str, purpose: str) -> None:
        self.post_message(StakesRead(purpose, self.source.stakes(name)))

    @work(thread=True, group="steer", exit_on_error=False, name="kill")
    def do_kill(self, name: str) -> None:
        self.post_message(SteerDone(name, self.source.kill(name).message))

    @work(thread=True, group="steer", exit_on_error=False, name="restart")
    def do_restart(self, name: str, choice: RestartChoice) -> None:
        # The handoff names overlaps from the last snapshot: only this agent is read again.
        outcome = self.source.restart(name, choice.reason, choice.force, self.snapshot, choice.note)
        self.post_message(SteerDone(name, outcome.message))

    @work(thread=True, group="steer", exit_on_error=False, name="sync")
    def do_sync(self, name: str) -> None:
        self.post_message(SteerDone(name, self.source.sync(name)))

    @work(thread=True, group="steer", exit_on_error=False, name="merge")
    def do_merge(self, name: str, choice: MergeChoice) -> None:
        self.post_message(SteerDone(name, f"merging {name}: preflight again, then merge…"))
        result = self.source.merge(name, choice.commit_message, choice.remove_worktree)
        self.post_message(SteerDone(name, result.message))

    @work(thread=True, group="steer", exit_on_error=False, name="the merge queue")
    def do_queue(self, plan: QueuePlan) -> None:
        result = self.source.run_queue(plan, lambda text: self.post_message(SteerDone(None, text)))
        merged = [m.agent for m in result.merged]
        summary = f"merged {', '.join(merged)}" if merged else "merged nothing"
        if result.failed is None:
            self.post_message(SteerDone(None, f"merge queue done: {summary}"))
            return
        agent, why = result.failed
        details = Text(f"{summary}.\nStopped at {agent}: {why}\n")
        if result.not_run:
            details.append(f"Not run (untouched): {', '.join(result.not_run)}\n")
        self.post_message(SteerDone(agent, f"merge queue stopped at {agent}", ok=False, details=details))

    @work(thread=True, exclusive=True, group="steer-auto", exit_on_error=False, name="automatic restart")
    def do_auto_restart(self, snapshot: FleetSnapshot) -> None:
        try:
            for line in self.source.auto_restart(snapshot):
                self.post_message(SteerDone(None, line))
        finally:
            self._auto_restart_busy = False

    # -- results -------------------------------------------------------------------------------

    def on_stakes_read(self, message: StakesRead) -> None:
        stakes = message.stakes
        base = self.source.base or "base"
        if message.purpose == "kill":

            def kill(yes: bool | None) -> None:
                if yes:
                    self.do_kill(stakes.agent)

            self.push_screen(KillScreen(stakes, base), kill)
        else:

            def restart(choice: RestartChoice | None) -> None:
                if choice is not None:
                    self.do_restart(stakes.agent, choice)

            self.push_screen(RestartScreen(stakes, base), restart)

    def on_steer_done(self, message: SteerDone) -> None:
        if message.details is not None:
            self.push_screen(ResultScreen(message.message, message.details))
        else:
            self.notify(message.message, severity="information" if message.ok else "error", timeout=8)
        self.request_refresh([message.agent] if message.agent else None)
        self.refresh_bindings()

    def on_snapshot_arrived(self, message: SnapshotArrived) -> None:
        """Runs after FleetApp's own handler: the optional `restart_on` policy, off by default."""
        if self._auto_restart_busy or not self.source.auto_restarts:
            return
        if message.snapshot.supervisor_pid is not None:
            return  # the supervisor applies restart_on, with or without a dashboard
        self._auto_restart_busy = True
        self.do_auto_restart(message.snapshot)
