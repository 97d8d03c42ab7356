"""How the person arranges the dashboard: `/` filters the agents, `o` changes their order, and the
person's settings (theme, keymap, sort, notifications) are applied and the palette's theme saved.

The filter and the sort are kept while the dashboard runs (every snapshot is shown through them).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Input

from fleet_tui.errors import SpecError
from fleet_tui.settings import Settings, save_setting
from fleet_tui.ui.arrange import SORT_LABELS, arrange, next_sort
from fleet_tui.ui.host import AppMixin

if TYPE_CHECKING:
    from fleet_tui.engine.fleet import Fleet
    from fleet_tui.models import AgentSnapshot, FleetSnapshot
    from fleet_tui.ui.source import FleetSource
    from fleet_tui.ui.widgets import AgentTable


class FilterInput(Input):
    """The `/` filter: hidden until asked for; Enter keeps the filter, Escape clears it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear filter", id="filter.clear"),
    ]

    def action_clear(self) -> None:
        self.value = ""
        self.post_message(self.Submitted(self, ""))


def binding_ids(app_class: type[Any]) -> set[str]:
    """Every binding id of the dashboard (`app_class`, with its mixins) and its screens: what a
    keymap may remap. The class is passed in: ui/app.py imports this module."""
    found = {
        b.id
        for base in app_class.__mro__
        for b in base.__dict__.get("BINDINGS", [])
        if isinstance(b, Binding) and b.id
    }
    pending: list[type[Any]] = [Screen, Input]
    seen: set[type[Any]] = set()
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub in seen:
                continue
            seen.add(sub)
            pending.append(sub)
            if sub.__module__.startswith("fleet_tui."):
                for binding in sub.__dict__.get("BINDINGS", []):
                    if isinstance(binding, Binding) and binding.id:
                        found.add(binding.id)
    return found


def check_settings(settings: Settings, file: str, themes: set[str], app_class: type[Any]) -> None:
    """Names in the settings that only the UI knows: themes and binding ids (SpecError if wrong)."""
    if settings.theme is not None and settings.theme not in themes:
        raise SpecError(
            file, "theme", f"unknown theme {settings.theme!r}", f"themes: {', '.join(sorted(themes))}"
        )
    known = binding_ids(app_class)
    for binding in settings.keymap:
        if binding not in known:
            raise SpecError(
                file,
                f"keymap.{binding}",
                "no key binding has this id",
                f"binding ids: {', '.join(sorted(known))}",
            )


class ViewActions(AppMixin):
    """Mixin of `FleetApp`: the filter, the sort, the settings."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="view.filter",
            key_display="/",
            tooltip="Filter by name, status or file",
        ),
        Binding(
            "o",
            "sort",
            "Sort",
            id="view.sort",
            tooltip="Order by fleet, status, attention age, name, changes",
        ),
    ]

    if TYPE_CHECKING:
        snapshot: FleetSnapshot | None
        attention: dict[str, str]
        source: FleetSource
        theme: str

        fleet: Fleet | None

        @property
        def table(self) -> AgentTable: ...
        @property
        def selected_agent(self) -> AgentSnapshot | None: ...
        def redraw_agents(self) -> None: ...

    filter_text = ""  # not `query`: that would hide DOMNode.query on the app
    sort = "fleet"
    settings = Settings()
    settings_file: Path | None = None  # where the palette's theme is saved (None: not saved)

    def apply_settings(self, settings: Settings, settings_file: Path | None) -> None:
        """Called on mount: the person's theme, keymap, sort and notifications."""
        self.settings = settings
        self.sort = settings.sort
        if settings.theme:
            self.theme = settings.theme
        if settings.keymap:
            self.set_keymap(dict(settings.keymap))
        if settings.notify is not None:
            self.source.notify = settings.notify
        if settings.bell is not None:
            self.source.bell = settings.bell
        self.settings_file = settings_file  # only now: the theme set above is not a change to save
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        if self.settings_file is not None and theme.name != self.settings.theme:
            self.settings = self.settings.model_copy(update={"theme": theme.name})
            self.save_theme(theme.name, self.settings_file)

    @work(thread=True, exclusive=True, group="settings", exit_on_error=False)
    def save_theme(self, name: str, path: Path) -> None:
        try:
            save_setting("theme", name, path)
        except (OSError, SpecError) as exc:
            self.notify(f"the theme was not saved in {path}: {exc}", severity="warning")

    def visible_agents(self, snapshot: FleetSnapshot) -> list[AgentSnapshot]:
        return arrange(snapshot.agents, self.filter_text, self.sort, set(self.attention))

    def arrangement_title(self, shown: int, total: int) -> str:
        parts = ["agents"]
        if self.filter_text:
            parts.append(f"filter “{self.filter_text}”: {shown} of {total}")
        if self.sort != "fleet":
            parts.append(f"by {SORT_LABELS[self.sort]}")
        return " · ".join(parts)

    def action_filter(self) -> None:
        box = self.query_one("#filter", FilterInput)
        box.display = True
        box.focus()

    def action_sort(self) -> None:
        self.sort = next_sort(self.sort)
        self.notify(f"sorted by {SORT_LABELS[self.sort]}", timeout=2)
        self.redraw_agents()

    def on_key(self, event: events.Key) -> None:
        """A dimmed key was pressed: say why it does not apply instead of doing nothing silently."""
        if len(self.screen_stack) > 1:  # only on the dashboard itself; modals have their own keys
            return
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.enabled:
            return
        why = self.source.permit(active.binding.action, self.selected_agent).why
        if not why:  # an action the engine does not rule on (add, remove): no fleet, or no agent
            why = "no fleet is open" if self.fleet is None else "no agent is selected"
        self.notify(f"{self.get_key_display(active.binding)}: {why}", severity="warning", timeout=4)

    # Named handlers, not @on: a mixin's decorated handlers are not collected by Textual.
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        self.filter_text = event.value.strip()
        self.redraw_agents()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return
        self.filter_text = event.value.strip()
        box = self.query_one("#filter", FilterInput)
        box.display = bool(self.filter_text)  # a kept filter stays in sight
        self.redraw_agents()
        self.table.focus()
