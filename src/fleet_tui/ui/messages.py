"""What background workers send back to the UI: small typed messages, never widget calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.message import Message

from fleet_tui.models import FleetSnapshot


@dataclass
class SnapshotArrived(Message):
    """A new fleet snapshot. Only the newest matters, so a queued older one is dropped."""

    snapshot: FleetSnapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotArrived)


@dataclass
class ReadingFailed(Message):
    """A reading or a request to tmux/git failed: shown as a notification."""

    what: str
    error: str


@dataclass
class FileStatesRead(Message):
    agent: str
    states: dict[str, tuple[str, ...]]


@dataclass
class DiffRead(Message):
    """One file's diff, split into display lines in the worker (the UI only assigns them)."""

    agent: str
    path: str
    lines: Sequence[str]
    width: int


@dataclass
class TextSent(Message):
    agent: str
    text: str


@dataclass
class AttachReady(Message):
    """The tmux client command for an agent is prepared; the UI hands the terminal over."""

    agent: str
    argv: list[str]
    env: dict[str, str]


@dataclass
class HistoryRead(Message):
    """A pane's history, read in a worker for the preview's scrollback."""

    agent: str
    text: str
