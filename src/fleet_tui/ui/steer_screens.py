"""The steering screens: kill and restart confirmations, the merge preflight, the merge-queue plan,
the event log, and a result modal. Engine calls run in thread workers; screens only render.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Select, Static
from textual.worker import Worker

from fleet_tui.engine import actions
from fleet_tui.engine.actions import Preflight, QueuePlan, Stakes
from fleet_tui.engine.state import Event
from fleet_tui.engine.text import format_details, format_time, listed, plural
from fleet_tui.ui.format import error_words
from fleet_tui.ui.host import Dashboard, dashboard

ALL_AGENTS = "*"

STEER_CSS = """
SteerModal {
    align: center middle;
}
SteerModal > Vertical {
    width: 96;
    max-width: 95%;
    height: auto;
    max-height: 90%;
    border: round $accent;
    background: $surface;
    padding: 0 1;
}
SteerModal VerticalScroll {
    height: auto;
    max-height: 24;
}
SteerModal .steer-buttons {
    height: auto;
    margin-top: 1;
}
SteerModal .steer-buttons Button {
    margin-right: 2;
}
SteerModal .steer-warning {
    color: $error;
    text-style: bold;
}
SteerModal #verify-output {
    border: round $secondary;
    height: auto;
    max-height: 14;
}
LogScreen #log-filter {
    height: 3;
    background: $boost;
}
LogScreen #log-label {
    width: auto;
    padding: 1 1 0 1;
}
LogScreen #log-count {
    width: 1fr;
    padding: 1 1 0 2;
    color: $text-muted;
}
LogScreen #log-filter Select {
    width: 40;
}
LogScreen #log-table {
    height: 1fr;
}
"""


class SteerModal(ModalScreen[Any]):
    """Shared look and keys of the steering modals: esc cancels."""

    DEFAULT_CSS = STEER_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="steer.cancel")]

    @property
    def fleet_app(self) -> Dashboard:
        return dashboard(self)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: hand them to the app's one failure handler."""
        self.fleet_app.on_worker_state_changed(event)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def buttons(self, *buttons: Button) -> Horizontal:
        return Horizontal(*buttons, classes="steer-buttons")


# -- kill -------------------------------------------------------------------------------------------


def stakes_lines(stakes: Stakes, base: str) -> list[str]:
    lines = []
    if stakes.uncommitted:
        lines.append(
            f"• {plural(len(stakes.uncommitted), 'uncommitted file')} "
            f"({escape(listed(stakes.uncommitted))}): saved in a snapshot first, and left in the worktree"
        )
    else:
        lines.append("• no uncommitted files")
    if stakes.commits:
        lines.append(
            f"• {plural(len(stakes.commits), 'commit')} not in {escape(base)}: kept on fleet/{stakes.agent}"
        )
    else:
        lines.append(f"• no commits that {escape(base)} lacks")
    return lines


class KillScreen(SteerModal):
    """Confirm a kill, stating what is at stake. Dismisses with True to kill."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="kill.cancel"),
        Binding("y", "confirm", "Kill", id="kill.confirm"),
    ]

    def __init__(self, stakes: Stakes, base: str) -> None:
        super().__init__()
        self.stakes = stakes
        self.base = base

    def compose(self) -> ComposeResult:
        stakes = self.stakes
        with Vertical() as box:
            box.border_title = f"kill {stakes.agent}?"
            box.border_subtitle = "y kills · esc cancels"
            running = "its process and everything it started" if stakes.pane_alive else "no live process"
            yield Static("At stake:\n" + "\n".join(stakes_lines(stakes, self.base)), id="kill-stakes")
            yield Static(
                f"Stops {running}: exit keys, then SIGTERM, then SIGKILL. The pane stays readable as killed; "
                "worktree, branch and files stay.",
                id="kill-what",
            )
            yield self.buttons(Button("Kill", variant="error", id="kill-yes"), Button("Cancel", id="kill-no"))

    def on_mount(self) -> None:
        self.query_one("#kill-no", Button).focus()

    @on(Button.Pressed, "#kill-yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#kill-no")
    def _no(self) -> None:
        self.dismiss(None)


# -- restart ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestartChoice:
    reason: str
    force: bool


class RestartScreen(SteerModal):
    """Confirm a restart; past max_restarts, a second explicit confirmation. Dismisses with a
    RestartChoice."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="restart.cancel")]

    def __init__(self, stakes: Stakes, base: str) -> None:
        super().__init__()
        self.stakes = stakes
        self.base = base

    def compose(self) -> ComposeResult:
        stakes = self.stakes
        attempt = stakes.restarts + 1
        with Vertical() as box:
            box.border_title = f"restart {stakes.agent}?"
            box.border_subtitle = "enter restarts · esc cancels"
            if stakes.over_cap:
                yield Static(
                    f"{stakes.agent} has been restarted {stakes.restarts} times (max_restarts = "
                    f"{stakes.max_restarts}): it needs a person to look at it. Restart it anyway?",
                    classes="steer-warning",
                    id="restart-cap",
                )
            yield Static(
                (
                    f"Restart {attempt} of {stakes.max_restarts} allowed."
                    if attempt <= stakes.max_restarts
                    else f"Restart {attempt}: past the {stakes.max_restarts} allowed."
                )
                + " A fresh agent process starts in "
                "the same worktree, with a handoff document of what is done (commits, files, warnings, "
                "its last screen).\n" + "\n".join(stakes_lines(stakes, self.base)),
                id="restart-what",
            )
            yield Input(
                value="asked by the person", placeholder="why (goes in the handoff)", id="restart-reason"
            )
            label = "Restart past the limit" if stakes.over_cap else "Restart"
            yield self.buttons(
                Button(label, variant="warning", id="restart-yes"), Button("Cancel", id="restart-no")
            )

    def on_mount(self) -> None:
        self.query_one("#restart-reason", Input).focus()

    @on(Input.Submitted, "#restart-reason")
    @on(Button.Pressed, "#restart-yes")
    def _yes(self) -> None:
        reason = self.query_one("#restart-reason", Input).value.strip() or "asked by the person"
        self.dismiss(RestartChoice(reason, force=self.stakes.over_cap))

    @on(Button.Pressed, "#restart-no")
    def _no(self) -> None:
        self.dismiss(None)


# -- merge ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeChoice:
    commit_message: str | None
    remove_worktree: bool


@dataclass
class PreflightRead(Message):
    agent: str
    preflight: Preflight | None
    error: str = ""


def mergeable(pre: Preflight, message: str) -> bool:
    """All checks pass, or only the uncommitted one fails and a commit message is given."""
    failing = {c.name for c in pre.failures}
    return not failing or (failing == {"uncommitted"} and bool(message.strip()))


def preflight_text(pre: Preflight) -> Text:
    text = Text()
    for check in pre.checks:
        text.append("  ok  " if check.ok else " FAIL ", style="bold green" if check.ok else "bold red")
        text.append(f" {check.name:<11} ", style="bold")
        text.append(check.detail + "\n")
    for path in pre.conflicts:
        text.append(f"        conflict: {path}\n", style="red")
    if pre.uncommitted:
        text.append(f"\nuncommitted: {listed(pre.uncommitted)}\n", style="yellow")
    return text


class MergeScreen(SteerModal):
    """The merge preflight: checks run in a worker (nothing changes), then Merge or Cancel.
    Dismisses with a MergeChoice."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="merge.cancel")]

    def __init__(self, agent: str, base: str) -> None:
        super().__init__()
        self.agent = agent
        self.base = base
        self.preflight: Preflight | None = None

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"merge {self.agent} into {self.base}?"
            box.border_subtitle = "nothing changes until you press Merge · esc cancels"
            with VerticalScroll():
                yield Static("running the preflight (verify may take a while)…", id="merge-checks")
                yield Static("", id="verify-output")
            yield Input(placeholder="commit message for the uncommitted work", id="merge-message")
            yield Checkbox("then stop the agent and remove its worktree (branch kept)", id="merge-remove")
            yield self.buttons(
                Button("Merge", variant="success", id="merge-yes", disabled=True),
                Button("Cancel", id="merge-no"),
            )

    def on_mount(self) -> None:
        self.query_one("#merge-message", Input).display = False
        self.query_one("#verify-output", Static).display = False
        self.query_one("#merge-no", Button).focus()
        self.run_preflight()

    @work(thread=True, exclusive=True, group="steer-preflight", exit_on_error=False, name="the preflight")
    def run_preflight(self) -> None:
        self.post_message(PreflightRead(self.agent, self.fleet_app.source.preflight(self.agent)))

    def worker_failed(self, error: BaseException) -> None:
        """The preflight could not run: say so in the modal (Merge stays disabled)."""
        self.post_message(PreflightRead(self.agent, None, error_words(error)))

    def on_preflight_read(self, message: PreflightRead) -> None:
        checks = self.query_one("#merge-checks", Static)
        if message.preflight is None:
            checks.update(Text(f"the preflight failed: {message.error}", style="bold red"))
            return
        pre = self.preflight = message.preflight
        checks.update(preflight_text(pre))
        if pre.verify_command and pre.verify_output.strip():
            output = self.query_one("#verify-output", Static)
            output.border_title = f"output of {pre.verify_command}"
            output.update(Text("\n".join(pre.verify_output.rstrip().splitlines()[-60:])))
            output.display = True
        if pre.uncommitted:
            self.query_one("#merge-message", Input).display = True
            self.query_one("#merge-message", Input).focus()
        self._update_button()
        merge = self.query_one("#merge-yes", Button)
        if not merge.disabled and not pre.uncommitted:
            merge.focus()  # every check passed: enter merges (Cancel stays focused until then)

    @on(Input.Changed, "#merge-message")
    def _update_button(self) -> None:
        button = self.query_one("#merge-yes", Button)
        message = self.query_one("#merge-message", Input).value
        button.disabled = self.preflight is None or not mergeable(self.preflight, message)

    @on(Input.Submitted, "#merge-message")
    @on(Button.Pressed, "#merge-yes")
    def _yes(self) -> None:
        if self.preflight is None or self.query_one("#merge-yes", Button).disabled:
            return
        message = self.query_one("#merge-message", Input).value.strip() or None
        remove = self.query_one("#merge-remove", Checkbox).value
        self.dismiss(MergeChoice(message if self.preflight.uncommitted else None, remove))

    @on(Button.Pressed, "#merge-no")
    def _no(self) -> None:
        self.dismiss(None)


# -- merge queue ------------------------------------------------------------------------------------


@dataclass
class QueuePlanned(Message):
    plan: QueuePlan | None
    error: str = ""


class QueueScreen(SteerModal):
    """The merge-queue plan (simulated with merge-tree, nothing changes), then Run or Cancel.
    Dismisses with the QueuePlan to run."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="queue.cancel")]

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.plan: QueuePlan | None = None

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"merge queue into {self.base}"
            box.border_subtitle = "nothing changes until you press Run · esc cancels"
            with VerticalScroll():
                yield Static(
                    "planning: checking every ready agent against base as it will be…", id="queue-plan"
                )
            yield self.buttons(
                Button("Run queue", variant="success", id="queue-yes", disabled=True),
                Button("Cancel", id="queue-no"),
            )

    def on_mount(self) -> None:
        self.query_one("#queue-no", Button).focus()
        self.make_plan()

    @work(thread=True, exclusive=True, group="steer-queue-plan", exit_on_error=False, name="planning")
    def make_plan(self) -> None:
        app = self.fleet_app
        self.post_message(QueuePlanned(app.source.plan_queue(app.snapshot)))

    def worker_failed(self, error: BaseException) -> None:
        self.post_message(QueuePlanned(None, error_words(error)))

    def on_queue_planned(self, message: QueuePlanned) -> None:
        body = self.query_one("#queue-plan", Static)
        if message.plan is None:
            body.update(Text(f"planning failed: {message.error}", style="bold red"))
            return
        self.plan = message.plan
        text = Text("\n".join(actions.describe_queue(message.plan)))
        text.highlight_words(["CONFLICT"], style="bold red")
        if message.plan.items and not message.plan.ok:
            text.append(
                "\n\nThe queue stops at the first conflict; everything before it is merged.", style="yellow"
            )
        body.update(text)
        self.query_one("#queue-yes", Button).disabled = not message.plan.items

    @on(Button.Pressed, "#queue-yes")
    def _yes(self) -> None:
        if self.plan is not None and self.plan.items:
            self.dismiss(self.plan)

    @on(Button.Pressed, "#queue-no")
    def _no(self) -> None:
        self.dismiss(None)


# -- results ----------------------------------------------------------------------------------------


class ResultScreen(SteerModal):
    """A steering result that needs more than a notification: a refused merge, a stopped queue."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "cancel", "Close", id="result.close")]

    def __init__(self, title: str, body: Text | str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            box.border_subtitle = "esc closes"
            with VerticalScroll():
                yield Static(self.body, id="result-body")
            yield self.buttons(Button("Close", id="result-close"))

    @on(Button.Pressed, "#result-close")
    def _close(self) -> None:
        self.dismiss(None)


# -- the event log ----------------------------------------------------------------------------------


@dataclass
class EventsRead(Message):
    events: list[Event]


class LogScreen(Screen[None]):
    """The event log, newest first, filterable by agent; re-read every few seconds."""

    DEFAULT_CSS = STEER_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,l", "back", "Back", id="log.back"),
        Binding("a", "all_agents", "All agents", id="log.all"),
    ]
    REFRESH_EVERY = 2.0

    def __init__(self, agents: list[str], agent: str | None = None) -> None:
        super().__init__()
        self.agents = agents
        self.filter = agent or ALL_AGENTS
        self.events: list[Event] = []

    @property
    def fleet_app(self) -> Dashboard:
        return dashboard(self)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: hand them to the app's one failure handler."""
        self.fleet_app.on_worker_state_changed(event)

    def compose(self) -> ComposeResult:
        with Horizontal(id="log-filter"):
            yield Static("event log · agent:", id="log-label")
            options = [("all agents", ALL_AGENTS), *[(name, name) for name in self.agents]]
            yield Select(options, value=self.filter, allow_blank=False, id="log-agent")
            yield Static("", id="log-count")
        yield DataTable(id="log-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#log-table", DataTable)
        for key, label in (("time", "time"), ("agent", "agent"), ("event", "event"), ("details", "details")):
            table.add_column(label, key=key)
        table.focus()
        self.read_events()
        self.set_interval(self.REFRESH_EVERY, self.read_events)

    @work(thread=True, exclusive=True, group="steer-log", exit_on_error=False, name="reading the event log")
    def read_events(self) -> None:
        self.post_message(EventsRead(self.fleet_app.source.events()))

    def on_events_read(self, message: EventsRead) -> None:
        self.events = message.events
        self.show()

    def shown_events(self) -> list[Event]:
        if self.filter == ALL_AGENTS:
            return self.events
        return [e for e in self.events if e.agent == self.filter]

    def show(self) -> None:
        table = self.query_one("#log-table", DataTable)
        table.clear()
        for event in self.shown_events():
            table.add_row(
                format_time(event.time),
                event.agent or "(fleet)",
                event.event,
                format_details(event.details),
            )
        self.query_one("#log-count", Static).update(f"{plural(table.row_count, 'event')}, newest first")

    @on(Select.Changed, "#log-agent")
    def _filter_changed(self, event: Select.Changed) -> None:
        self.filter = str(event.value)
        self.show()

    def action_all_agents(self) -> None:
        self.query_one("#log-agent", Select).value = ALL_AGENTS

    def action_back(self) -> None:
        self.dismiss()
