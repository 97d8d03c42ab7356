"""The dashboard's keys on the selected agent's tmux pane: send text (s), attach (a), and the
preview's scroll back through the pane's history.

`FleetApp` (ui/app.py) inherits this mixin. tmux runs in thread workers only; their results come
back as messages (TextSent, HistoryRead, AttachReady). Attaching hands the terminal to a tmux client
with the app suspended until the person detaches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import SuspendNotSupported

from fleet_tui.adapters.tmux import run_client
from fleet_tui.ui.host import AppMixin
from fleet_tui.ui.messages import AttachReady, HistoryRead, ReadingFailed, TextSent
from fleet_tui.ui.preview import HISTORY_LINES, PanePreview
from fleet_tui.ui.screens import SendScreen

if TYPE_CHECKING:
    from fleet_tui.models import AgentSnapshot
    from fleet_tui.ui.source import FleetSource


class PaneActions(AppMixin):
    """Mixin of `FleetApp`: send, attach, and the preview's history."""

    if TYPE_CHECKING:  # provided by FleetApp
        source: FleetSource

        @property
        def selected_agent(self) -> AgentSnapshot | None: ...
        @property
        def selected_name(self) -> str | None: ...
        def applies(self, action: str) -> bool: ...
        def clear_attention(self, name: str | None) -> None: ...
        def request_refresh(self, names: list[str] | None = None) -> None: ...

    def action_send(self) -> None:
        agent = self.selected_agent
        if agent is None or not self.applies("send"):
            return
        self.clear_attention(agent.name)

        def sent(text: str | None) -> None:
            if text:
                self.send_text(agent, text)

        self.push_screen(SendScreen(agent.name), sent)

    def action_attach(self) -> None:
        agent = self.selected_agent
        if agent is None or not self.applies("attach"):
            return
        self.clear_attention(agent.name)
        self.prepare_attach(agent)

    # -- workers: tmux runs here, in threads ---------------------------------------------------

    @work(thread=True, exclusive=True, group="send", exit_on_error=False, name="sending")
    def send_text(self, agent: AgentSnapshot, text: str) -> None:
        self.source.send(agent, text)
        self.post_message(TextSent(agent.name, text))

    def on_pane_preview_history_wanted(self, message: PanePreview.HistoryWanted) -> None:
        agent = self.selected_agent
        if agent is not None and agent.pane_id is not None:
            self.read_history(agent)
        else:
            message.preview.show_history(agent.screen if agent else "")

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def read_history(self, agent: AgentSnapshot) -> None:
        try:
            text = self.source.pane_history(agent, HISTORY_LINES)
        except Exception as exc:
            self.post_message(ReadingFailed(f"reading the history of {agent.name}", str(exc)))
            return
        self.post_message(HistoryRead(agent.name, text))

    def on_history_read(self, message: HistoryRead) -> None:
        if message.agent == self.selected_name:
            self.query_one(PanePreview).show_history(message.text)

    @work(thread=True, exclusive=True, group="attach", exit_on_error=False, name="attaching")
    def prepare_attach(self, agent: AgentSnapshot) -> None:
        argv, env = self.source.attach_command(agent)
        self.post_message(AttachReady(agent.name, argv, env))

    # -- results -------------------------------------------------------------------------------

    def on_text_sent(self, message: TextSent) -> None:
        first = message.text.splitlines()[0] if message.text.strip() else message.text
        more = " …" if "\n" in message.text.strip() else ""
        self.notify(f"sent to {message.agent}: {first[:60]}{more}", timeout=4)
        self.request_refresh([message.agent])

    def on_attach_ready(self, message: AttachReady) -> None:
        try:
            code = self.run_client(message.argv, message.env)
        except SuspendNotSupported:
            self.notify("this terminal cannot hand over to tmux: use `fleet-tui attach`", severity="error")
            return
        except OSError as exc:
            self.notify(f"could not start tmux: {exc}", severity="error")
            return
        if code:
            self.notify(f"tmux ended with code {code} (is the fleet up?)", severity="warning")
        self.request_refresh()
        self.refresh(layout=True)

    def run_client(self, argv: list[str], env: dict[str, str]) -> int:
        """Hand the terminal to a tmux client until the person detaches. The UI thread waits here on
        purpose: the app is suspended, there is nothing to draw."""
        with self.suspend():
            return run_client(argv, env)
