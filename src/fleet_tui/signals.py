"""The agents' own signals: what their hooks wrote to `.fleet/agents/<name>/signals.jsonl`.

Hooks say what an agent is doing in its own words (a prompt was submitted, a tool is about to run,
a permission dialog is up, the turn stopped), which beats reading its screen; but they have known
failure modes, so the result here is only one piece of evidence. `status.classify` weighs it
against the exit code, the screen and timing. This module only turns the lines into a `HookState`:
the status the latest meaningful signal implies, the signal that set it, and the signals it set
aside as stale.

Known failure modes handled here (from the trackers of tools that rely on Claude Code hooks):
`SubagentStop` is not the end of a turn; a `Notification` that arrives after `Stop` (with no new
prompt or tool in between) is stale, not a question; `StopFailure` ends a turn on an API error.
The ones that need the screen (no `Stop` after an interrupt, hooks missing) are in `status.py`.
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from fleet_tui.models import Status

SIGNALS_FILE = "signals.jsonl"
STATUSLINE_FILE = "statusline.json"
KEEP_SIGNALS = 64  # the fold needs only recent lines: a turn's last few events decide its state

# Event names as Claude Code and Codex spell them (Codex notify types are kebab-case).
WORKING_EVENTS = frozenset(
    {
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PostToolUseFailure",
        "SubagentStart",
        "SubagentStop",  # a subagent ended; the main turn goes on
        "PreCompact",
        "PostCompact",
        "user-prompt-submit",
        "pre-tool-use",
        "post-tool-use",
    }
)
IDLE_EVENTS = frozenset({"Stop", "StopFailure", "SessionStart", "agent-turn-complete", "Interrupt", "stop"})
WAITING_EVENTS = frozenset({"PermissionRequest", "approval-requested", "permission-request"})
WAITING_NOTIFICATIONS = frozenset({"permission_prompt", "elicitation_dialog"})
IDLE_NOTIFICATIONS = frozenset({"idle_prompt"})
ENDED_EVENTS = frozenset({"SessionEnd"})


class Signal(BaseModel):
    """One line of a signals file (see fleet_tui/hook.py for the writer)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    t: float
    event: str
    src: str = ""
    kind: str = ""
    message: str = ""
    tool: str = ""
    session: str = ""
    transcript: str = ""

    @property
    def label(self) -> str:
        """How the evidence names it: 'Notification(permission_prompt)', 'PreToolUse(Bash)'."""
        detail = self.kind or self.tool
        return f"{self.event}({detail})" if detail else self.event


class HookState(BaseModel):
    """What an agent's signals since its start say, and which signal says it."""

    model_config = ConfigDict(frozen=True)

    status: Status | None  # None: signals came, but none that sets a status
    signal: Signal | None  # the one that set `status`
    count: int  # signals since the start of this run
    last: Signal  # the newest signal of any kind
    failed: bool = False  # the turn ended on an API error (StopFailure)
    ended: bool = False  # SessionEnd: the process is about to exit
    stale: tuple[str, ...] = ()  # signals set aside, in words


def parse_line(line: str) -> Signal | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        return Signal.model_validate(data)
    except ValidationError:
        return None


def _implied(signal: Signal) -> Status | None:
    if signal.kind == "side-thread":
        return None  # a turn of the agent's own helper thread (see hook.CODEX_SIDE_PROMPTS)
    if signal.event in WORKING_EVENTS:
        return Status.WORKING
    if signal.event in WAITING_EVENTS:
        return Status.WAITING
    if signal.event in IDLE_EVENTS or signal.event in ENDED_EVENTS:
        return Status.IDLE
    if signal.event == "Notification":
        if signal.kind in WAITING_NOTIFICATIONS:
            return Status.WAITING
        if signal.kind in IDLE_NOTIFICATIONS:
            return Status.IDLE
    return None  # e.g. Notification(auth_success), or an event this version does not know


def fold(signals: list[Signal] | tuple[Signal, ...], since: float | None = None) -> HookState | None:
    """The state the signals (oldest first) leave, counting only those at or after `since`."""
    relevant = [s for s in signals if since is None or s.t >= since]
    if not relevant:
        return None
    status: Status | None = None
    setter: Signal | None = None
    failed = ended = False
    stale: list[str] = []
    turn_over = False  # the last status-setting signal ended a turn (Stop, turn complete, ...)
    for signal in relevant:
        implied = _implied(signal)
        if implied is None:
            continue
        if implied == Status.WAITING and signal.event == "Notification" and turn_over:
            # A question raised after the turn stopped, with no prompt or tool since, is an
            # echo of one already answered (or of the stop itself): not a person needed.
            stale.append(f"{signal.label} came after {setter.label if setter else 'the stop'}: ignored")
            continue
        if implied == Status.IDLE and signal.event == "Notification" and status == Status.WORKING:
            # idle_prompt is Claude's 'waiting for your input' reminder; mid-turn it is stale.
            stale.append(f"{signal.label} during a turn: ignored")
            continue
        status, setter = implied, signal
        turn_over = implied == Status.IDLE
        failed = signal.event == "StopFailure"
        ended = signal.event in ENDED_EVENTS
    return HookState(
        status=status,
        signal=setter,
        count=len(relevant),
        last=relevant[-1],
        failed=failed,
        ended=ended,
        stale=tuple(stale[-3:]),
    )


class SignalReader:
    """Reads one signals file incrementally: each `read()` parses only the bytes appended since."""

    def __init__(self, path: Path, keep: int = KEEP_SIGNALS) -> None:
        self.path = path
        self._offset = 0
        self._inode: int | None = None
        self._partial = b""
        self.signals: deque[Signal] = deque(maxlen=keep)
        self.version = 0  # bumped whenever a signal was added (callers cache on it)

    def read(self) -> bool:
        """Take in new lines; True when there were any. A missing file is no signals."""
        try:
            st = os.stat(self.path)
        except OSError:
            if self._inode is not None:
                self._reset(None)
                self.version += 1
                return True
            return False
        if st.st_ino != self._inode or st.st_size < self._offset:
            changed = self._inode is not None
            self._reset(st.st_ino)  # a new or truncated file: start over
            if changed:
                self.version += 1
        if st.st_size == self._offset:
            return False
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            data = fh.read(st.st_size - self._offset)
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        added = False
        for raw in lines:
            signal = parse_line(raw.decode("utf-8", errors="replace"))
            if signal is not None:
                self.signals.append(signal)
                added = True
        if added:
            self.version += 1
        return added

    def _reset(self, inode: int | None) -> None:
        self._inode, self._offset, self._partial = inode, 0, b""
        self.signals.clear()

    def state(self, since: float | None) -> HookState | None:
        return fold(tuple(self.signals), since)


def read_signals(path: Path) -> list[Signal]:
    """Every signal in a file, oldest first (for explain-status and tests)."""
    reader = SignalReader(path, keep=100_000)
    reader.read()
    return list(reader.signals)


# -- context and cost ------------------------------------------------------------------------


class ContextReading(BaseModel):
    """How full an agent's context window is, and what the agent says it has cost so far."""

    model_config = ConfigDict(frozen=True)

    used: float | None = None  # percent of the window
    source: str = ""  # "statusline" or "screen: <the text>"
    cost_usd: float | None = None
    model: str = ""
    at: float | None = None


# Claude: 'Context left until auto-compact: 12%'; Codex: '87% context left'.
SCREEN_CONTEXT = (
    (re.compile(r"Context left until auto-compact: (\d{1,3})%"), True),
    (re.compile(r"\b(\d{1,3})% context left"), True),
    (re.compile(r"\bcontext (\d{1,3})% used"), False),
)


def context_from_screen(screen: str) -> ContextReading | None:
    for regex, remaining in SCREEN_CONTEXT:
        matches = list(regex.finditer(screen))
        if matches:
            found = matches[-1]  # the last one on screen is the newest
            value = min(100.0, float(found.group(1)))
            return ContextReading(used=100.0 - value if remaining else value, source="screen: " + found[0])
    return None


def read_statusline(path: Path) -> ContextReading | None:
    """The latest reading Claude's statusLine command left (hook.py statusline)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None

    def number(key: str) -> float | None:
        value = data.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return ContextReading(
        used=number("context_used"),
        source="statusline",
        cost_usd=number("cost_usd"),
        model=str(data.get("model") or ""),
        at=number("t"),
    )
