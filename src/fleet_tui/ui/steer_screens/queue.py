"""The merge-queue plan (simulated, nothing changes), then Run or Cancel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static

from fleet_tui.engine import actions
from fleet_tui.engine.actions import QueuePlan
from fleet_tui.ui.format import error_words
from fleet_tui.ui.steer_screens.base import SteerModal

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
