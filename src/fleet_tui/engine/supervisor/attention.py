"""Attention notifications: why an agent needs a person, and telling them where they are not looking.

A notification goes out once per change (a new wait, a new crash, newly drifted files, newly
ready), never for an agent a person is looking at: the active pane of an attached tmux client, or
the agent selected in an open dashboard (each dashboard says which in `.fleet/viewing/`). It goes to
the desktop (`notify-send`, `osascript`) and to the fleet's `on_attention` command, off the
monitor's thread: a slow hook must not hold up the next snapshot.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from fleet_tui.adapters import processes
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.presence import viewed_agents
from fleet_tui.engine.state import log_event
from fleet_tui.errors import FleetError
from fleet_tui.models import AgentSnapshot, FleetSnapshot, Status

Notifier = Callable[[dict[str, Any]], None]


def attention(before: AgentSnapshot | None, after: AgentSnapshot) -> str | None:
    """Why an agent needs a person since `before`: waiting, crashed, drifted, or ready to merge."""
    was = before.status if before is not None else None
    if after.status == Status.WAITING and was != Status.WAITING:
        return "is waiting for an answer"
    if after.status == Status.CRASHED and was != Status.CRASHED:
        return f"crashed (exit {after.exit_code})" if after.exit_code is not None else "crashed"
    new_drift = sorted(set(after.drift) - set(before.drift if before is not None else ()))
    if new_drift:
        return "drifted: " + ", ".join(new_drift[:5]) + (" ..." if len(new_drift) > 5 else "")
    if after.status == Status.READY and was != Status.READY:  # every gate passed (the pipeline)
        return "is ready to merge"
    return None


def attention_event(snapshot: FleetSnapshot, agent: AgentSnapshot, reason: str) -> dict[str, Any]:
    """What every notification carries: the fleet, the agent, the reason, and how to get there."""
    return {
        "fleet": snapshot.fleet,
        "repo": snapshot.repo,
        "agent": agent.name,
        "status": agent.status.value,
        "reason": reason,
        "message": f"{agent.name} {reason}",
        "attach": f"fleet-tui -C {snapshot.repo} attach {agent.name}",
        "time": snapshot.taken_at,
    }


class Notices:
    """The supervisor's notifications: decides who is looked at, then hands the rest to a thread."""

    def __init__(self, fleet: Fleet, log: logging.Logger, notifier: Notifier | None = None) -> None:
        self.fleet = fleet
        self.log = log
        self.notifier = notifier or self._notify
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fleet-notify")

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._queue.put(None)

    def agent_needs(self, snapshot: FleetSnapshot, agent: AgentSnapshot, reason: str) -> None:
        """Log the attention and notify, unless a person is looking at that agent right now."""
        looked_at = self.looked_at(agent)
        log_event(
            self.fleet.layout, agent.name, "attention", reason=reason, notified=looked_at is None,
            **({"looked_at": looked_at} if looked_at else {}),
        )  # fmt: skip
        if looked_at is None:
            self._queue.put(attention_event(snapshot, agent, reason))

    def looked_at(self, agent: AgentSnapshot) -> str | None:
        """Where a person is looking at the agent now ("dashboard", "tmux"); None: nowhere."""
        if agent.name in viewed_agents(self.fleet.layout.state_dir):
            return "dashboard"
        if agent.pane_id is None:
            return None
        try:
            viewed = self.fleet.tmux.viewed_panes(self.fleet.session)
        except FleetError:
            return None
        return "tmux" if agent.pane_id in viewed else None

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            try:
                self.notifier(event)
            except Exception:
                self.log.exception("a notification failed")

    def _notify(self, event: dict[str, Any]) -> None:
        settings = self.fleet.spec.settings
        title = f"fleet-tui: {event['fleet']}"
        body = f"{event['message']}\n{event['attach']}"
        if settings.notify:
            used = processes.desktop_notify(title, body)
            self.log.info("attention: %s (desktop: %s)", event["message"], used or "none available")
        if settings.on_attention:
            code, output = processes.run_hook(settings.on_attention, json.dumps(event), self.fleet.root)
            if code != 0:
                self.log.warning("on_attention ended with %s: %s", code, output.strip()[-500:])
