"""What the steering modals share: their look, esc to cancel, the failure hand-off, and the
result modal for outcomes that need more than a notification."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.worker import Worker

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
    width: 32;
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
                yield Static(Text(self.body) if isinstance(self.body, str) else self.body, id="result-body")
            yield self.buttons(Button("Close", id="result-close"))

    @on(Button.Pressed, "#result-close")
    def _close(self) -> None:
        self.dismiss(None)
