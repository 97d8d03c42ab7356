"""What the screens, the palette and the mixins may ask of the dashboard app, as a Protocol.

They reach the app through `dashboard(node)` instead of importing `FleetApp`: ui/app.py imports
them, so importing it back would make an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

if TYPE_CHECKING:
    from textual.binding import Binding, BindingsMap
    from textual.command import Provider
    from textual.dom import DOMNode
    from textual.message import Message
    from textual.worker import Worker

    from fleet_tui.models import AgentSnapshot, FleetSnapshot
    from fleet_tui.ui.source import FleetSource


if TYPE_CHECKING:
    from textual.app import App

    # The app's mixins (views, roster, steering) type-check as the App they are mixed into; at
    # run time they are plain classes, FleetApp puts App last in its bases.
    AppMixin = App[None]
else:
    AppMixin = object


class Dashboard(Protocol):
    TARGETED_ACTIONS: ClassVar[frozenset[str]]
    source: FleetSource
    snapshot: FleetSnapshot | None
    clock: Callable[[], float]

    @property
    def selected_agent(self) -> AgentSnapshot | None: ...
    def applies(self, action: str) -> bool: ...
    def merged_bindings(self) -> BindingsMap: ...
    def get_key_display(self, binding: Binding) -> str: ...
    def select_agent(self, name: str) -> None: ...
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None: ...
    def post_message(self, message: Message) -> bool: ...
    async def run_action(self, action: str, default_namespace: Any = None) -> bool: ...


def dashboard(node: DOMNode | Provider) -> Dashboard:
    """The app `node` (a widget, a screen, a palette provider) runs in, as the dashboard."""
    return cast("Dashboard", node.app)
