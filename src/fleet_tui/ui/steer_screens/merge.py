"""The merge modal: the preflight's checks (verify output too), a commit message when there is
uncommitted work, then Merge or Cancel."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Static

from fleet_tui.engine.actions import Preflight
from fleet_tui.engine.text import listed
from fleet_tui.ui.format import error_words
from fleet_tui.ui.steer_screens.base import SteerModal

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
        if check.ok and check.warning:
            text.append(" warn ", style="bold yellow")
        else:
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

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="merge.cancel"),
        Binding("a", "accept_drift", "Accept drift", id="merge.accept_drift"),
    ]

    def __init__(self, agent: str, base: str) -> None:
        super().__init__()
        self.agent = agent
        self.base = base
        self.preflight: Preflight | None = None
        # Set when the person cancels or the screen goes (quitting too): a hanging verify ends
        # with its whole process group, and nothing waits for it.
        self.cancelled = threading.Event()

    def on_unmount(self) -> None:
        self.cancelled.set()

    def action_cancel(self) -> None:
        self.cancelled.set()
        self.dismiss(None)

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
                Button("Accept drift (a)", variant="warning", id="merge-accept-drift"),
                Button("Cancel", id="merge-no"),
            )

    def on_mount(self) -> None:
        self.query_one("#merge-message", Input).display = False
        self.query_one("#verify-output", Static).display = False
        self.query_one("#merge-accept-drift", Button).display = False
        self.query_one("#merge-no", Button).focus()
        self.run_preflight()

    @work(thread=True, exclusive=True, group="steer-preflight", exit_on_error=False, name="the preflight")
    def run_preflight(self) -> None:
        pre = self.fleet_app.source.preflight(self.agent, cancel=self.cancelled.is_set)
        self.post_message(PreflightRead(self.agent, pre))

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
            output.border_title = Text(f"output of {pre.verify_command}")
            output.update(Text("\n".join(pre.verify_output.rstrip().splitlines()[-60:])))
            output.display = True
        self.query_one("#merge-accept-drift", Button).display = bool(pre.drift)
        if pre.uncommitted:
            self.query_one("#merge-message", Input).display = True
            self.query_one("#merge-message", Input).focus()
        self._update_button()
        merge = self.query_one("#merge-yes", Button)
        if not merge.disabled and not pre.uncommitted:
            merge.focus()  # every check passed: enter merges (Cancel stays focused until then)

    @on(Button.Pressed, "#merge-accept-drift")
    def action_accept_drift(self) -> None:
        """Accept the drift the preflight found (logged), then check again."""
        if self.preflight is None or not self.preflight.drift:
            return
        self.query_one("#merge-checks", Static).update("accepting the drift, then checking again…")
        self.query_one("#merge-accept-drift", Button).display = False
        self.accept_and_check(self.preflight.drift)

    @work(thread=True, exclusive=True, group="steer-preflight", exit_on_error=False, name="accepting drift")
    def accept_and_check(self, drift: tuple[str, ...]) -> None:
        source = self.fleet_app.source
        source.accept_drift(self.agent, drift)
        self.post_message(PreflightRead(self.agent, source.preflight(self.agent)))

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
        self.cancelled.set()
        self.dismiss(None)
