"""Steering keys of the dashboard: kill (k), restart (r), merge (m), merge queue (M), event log (l).

`FleetApp` (ui/app.py) inherits this mixin: its bindings join the app's (Footer, help, command
palette), its `check_action` dims the keys that do not apply to the selected agent, and every
engine call (git, tmux, processes) runs in a thread worker whose result comes back as a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message

from fleet_tui.engine import actions
from fleet_tui.errors import FleetError
from fleet_tui.models import AgentSnapshot, Status
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
    from fleet_tui.engine.fleet import Fleet
    from fleet_tui.models import FleetSnapshot
    from fleet_tui.ui.messages import SnapshotArrived

STEER_ACTIONS = frozenset({"kill", "restart", "merge", "merge_queue", "log"})
KILLABLE = frozenset({Status.STARTING, Status.WORKING, Status.WAITING, Status.IDLE, Status.QUEUED})
NOT_RESTARTABLE = frozenset({Status.MERGED, Status.QUEUED, Status.MISSING})
NOT_MERGEABLE = frozenset({Status.MERGED, Status.QUEUED})


@dataclass
class StakesRead(Message):
    """What is at stake for an agent, read in a worker, for the kill or restart confirmation."""

    purpose: str  # "kill" | "restart"
    stakes: actions.Stakes


@dataclass
class SteerDone(Message):
    """A steering action finished: a notification, or a modal when `details` says more."""

    agent: str | None
    message: str
    ok: bool = True
    details: Text | None = None


def applies(action: str, agent: AgentSnapshot | None, fleet: Fleet | None) -> bool:
    """Does a steering key make sense now? Pure, so the help screen and tests can ask too."""
    if fleet is None:
        return False
    if action in ("log", "merge_queue"):
        return True
    if agent is None:
        return False
    if action == "kill":
        return agent.status in KILLABLE
    if action == "restart":
        return agent.status not in NOT_RESTARTABLE
    if action == "merge":
        return agent.status not in NOT_MERGEABLE and (agent.commits_ahead > 0 or bool(agent.files))
    return True


class SteeringActions:
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
    ]

    if TYPE_CHECKING:  # provided by FleetApp / textual.App
        fleet: Fleet | None
        snapshot: FleetSnapshot | None

        @property
        def selected_agent(self) -> AgentSnapshot | None: ...
        def request_refresh(self, names: list[str] | None = None) -> None: ...
        def notify(self, message: str, **kwargs: Any) -> None: ...
        def push_screen(self, screen: Any, callback: Any = None) -> Any: ...
        def post_message(self, message: Message) -> bool: ...
        def refresh_bindings(self) -> None: ...

    _auto_restart_busy = False

    # -- which keys apply ----------------------------------------------------------------------

    def steering_applies(self, action: str) -> bool | None:
        """For the help screen and the palette: True/False for a steering action, None for others."""
        if action not in STEER_ACTIONS:
            return None
        return applies(action, self.selected_agent, self.fleet)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in STEER_ACTIONS:
            return True if applies(action, self.selected_agent, self.fleet) else None
        return super().check_action(action, parameters)  # type: ignore[misc,no-any-return]

    def _target(self, action: str) -> AgentSnapshot | None:
        agent = self.selected_agent
        if not applies(action, agent, self.fleet):
            return None
        return agent

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
        if agent is None or self.fleet is None:
            return
        name = agent.name

        def chosen(choice: MergeChoice | None) -> None:
            if choice is not None:
                self.do_merge(name, choice)

        self.push_screen(MergeScreen(name, self.fleet.base), chosen)

    def action_merge_queue(self) -> None:
        if self.fleet is None:
            return

        def chosen(plan: actions.QueuePlan | None) -> None:
            if plan is not None:
                self.do_queue(plan)

        self.push_screen(QueueScreen(self.fleet.base), chosen)

    def action_log(self) -> None:
        if self.fleet is None:
            return
        self.push_screen(LogScreen([a.name for a in self.fleet.agents]))

    # -- workers: the engine runs here, in threads ------------------------------------------------

    @work(thread=True, exclusive=True, group="steer-stakes", exit_on_error=False)
    def read_stakes(self, name: str, purpose: str) -> None:
        assert self.fleet is not None
        try:
            stakes = actions.stakes(self.fleet, name)
        except Exception as exc:
            self.post_message(SteerDone(name, f"reading {name} failed: {exc}", ok=False))
            return
        self.post_message(StakesRead(purpose, stakes))

    @work(thread=True, group="steer", exit_on_error=False)
    def do_kill(self, name: str) -> None:
        self._run(name, lambda fleet: actions.kill(fleet, name).message)

    @work(thread=True, group="steer", exit_on_error=False)
    def do_restart(self, name: str, choice: RestartChoice) -> None:
        last = self.snapshot  # the handoff names overlaps from it: only this agent is read again
        self._run(
            name,
            lambda fleet: (
                actions.restart(fleet, name, reason=choice.reason, force=choice.force, last=last).message
            ),
        )

    @work(thread=True, group="steer", exit_on_error=False)
    def do_merge(self, name: str, choice: MergeChoice) -> None:
        assert self.fleet is not None
        self.post_message(SteerDone(name, f"merging {name}: preflight again, then merge…"))
        try:
            result = actions.merge(
                self.fleet, name, commit_message=choice.commit_message, remove_worktree=choice.remove_worktree
            )
        except actions.MergeRefused as exc:
            details = Text(exc.message + "\n\n")
            if exc.preflight is not None:
                details.append_text(preflight_text(exc.preflight))
                if exc.preflight.verify_output.strip():
                    details.append("\n" + exc.preflight.verify_output.rstrip()[-3000:])
            self.post_message(SteerDone(name, f"merge of {name} refused", ok=False, details=details))
            return
        except Exception as exc:
            self.post_message(SteerDone(name, f"merge of {name} failed: {exc}", ok=False))
            return
        self.post_message(SteerDone(name, result.message))

    @work(thread=True, group="steer", exit_on_error=False)
    def do_queue(self, plan: actions.QueuePlan) -> None:
        assert self.fleet is not None

        def step(text: str) -> None:
            self.post_message(SteerDone(None, text))

        try:
            result = actions.run_queue(self.fleet, plan, on_step=step)
        except Exception as exc:
            self.post_message(SteerDone(None, f"the merge queue failed: {exc}", ok=False))
            return
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

    @work(thread=True, exclusive=True, group="steer-auto", exit_on_error=False)
    def do_auto_restart(self, snapshot: FleetSnapshot) -> None:
        try:
            if self.fleet is not None:
                for line in actions.auto_restart(self.fleet, snapshot):
                    self.post_message(SteerDone(None, line))
        except FleetError as exc:
            self.post_message(SteerDone(None, f"automatic restart failed: {exc.message}", ok=False))
        finally:
            self._auto_restart_busy = False

    def _run(self, name: str, action: Any) -> None:
        assert self.fleet is not None
        try:
            message = action(self.fleet)
        except FleetError as exc:
            self.post_message(SteerDone(name, exc.message, ok=False))
            return
        except Exception as exc:
            self.post_message(SteerDone(name, f"{name}: {exc}", ok=False))
            return
        self.post_message(SteerDone(name, message))

    # -- results -------------------------------------------------------------------------------

    def on_stakes_read(self, message: StakesRead) -> None:
        stakes = message.stakes
        base = self.fleet.base if self.fleet is not None else "base"
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
        fleet = self.fleet
        if fleet is None or self._auto_restart_busy or not any(a.restart_on for a in fleet.agents):
            return
        self._auto_restart_busy = True
        self.do_auto_restart(message.snapshot)
