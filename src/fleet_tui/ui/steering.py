"""Steering keys of the dashboard: kill (k), restart (r), merge (m), merge queue (M), event log (l).

The steering engineer fills this module; the dashboard engineer does not edit it after creating it.
"""

from __future__ import annotations


class SteeringActions:
    """Mixin of `FleetApp` (ui/app.py) holding the steering bindings and actions. To be filled in.

    How it plugs in:
    - `BINDINGS`: `Binding(key, action, description, id=...)` entries. `FleetApp` splices this list into
      its own BINDINGS, so they show in the Footer, the help screen (`?`) and the command palette.
    - `action_<name>` methods are found on the app. What they can use: `self.selected_agent`
      (`AgentSnapshot | None`), `self.snapshot` (the newest `FleetSnapshot`), `self.fleet` (the live
      `Fleet`, None when the app runs on canned snapshots in tests), `self.request_refresh(names)`
      (ask the monitor for a fresh reading), `self.notify(...)`, `self.push_screen(...)`.
    - Engine calls (git, tmux, processes) must run in `@work(thread=True, exclusive=True,
      group=..., exit_on_error=False)` workers, never on the UI thread.
    - To dim keys that do not apply, define `check_action(self, action, parameters)` here, answer for
      your own actions (None = dimmed, False = hidden) and `return super().check_action(action,
      parameters)` for the rest; call `self.refresh_bindings()` when the answer may change.
    """

    BINDINGS: list = []  # noqa: RUF012
