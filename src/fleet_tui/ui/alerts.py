"""The dashboard's alerts to the terminal it runs in: an OSC 9 notification per agent that needs
the person (a terminal emulator that knows OSC 9, such as iTerm2, WezTerm or Ghostty, shows it as
a desktop notification even when its window is in the background; others ignore it), and
the bell. Never for the agent the dashboard shows: the person is looking at it.

Inside tmux an OSC 9 reaches the outer terminal only through tmux's passthrough (DCS `tmux;`,
honoured when `allow-passthrough` is on); tmux drops it otherwise, which is harmless, and the bell
still goes through tmux's own alerts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from fleet_tui.engine.supervisor import attention_event
from fleet_tui.models import AgentSnapshot, FleetSnapshot

# Control characters end or corrupt an escape sequence: a notice is plain text on one line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
NOTICE_CHARS = 240  # terminals cut long notifications anyway; the agent and the reason come first


def notice_text(snapshot: FleetSnapshot, agent: AgentSnapshot, reason: str) -> str:
    """What the notification says: the fleet, the agent, the reason, and how to get there."""
    event = attention_event(snapshot, agent, reason)
    text = f"fleet-tui {event['fleet']}: {event['message']} · {event['attach']}"
    return _CONTROL.sub(" ", text)[:NOTICE_CHARS]


def osc9(text: str, *, inside_tmux: bool) -> str:
    """The escape sequence that asks the terminal to show `text` as a notification."""
    sequence = f"\x1b]9;{_CONTROL.sub(' ', text)}\x07"
    if inside_tmux:  # passthrough: the sequence wrapped in a DCS, its escapes doubled
        return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def terminal_notices(snapshot: FleetSnapshot, fresh: Sequence[tuple[AgentSnapshot, str]]) -> str:
    """The OSC 9 notifications, one per agent that turned (the caller leaves out the one shown)."""
    inside_tmux = bool(os.environ.get("TMUX"))
    return "".join(
        osc9(notice_text(snapshot, agent, reason), inside_tmux=inside_tmux) for agent, reason in fresh
    )
