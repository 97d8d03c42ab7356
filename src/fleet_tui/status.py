"""Status from evidence, strongest first: exit code, a question on screen, the agent's own signals,
the rest of the screen, then timing."""

from __future__ import annotations

import re
from functools import lru_cache

from fleet_tui.models import Status, StatusVerdict
from fleet_tui.presets import Preset, StatusPatterns
from fleet_tui.signals import HookState

# CSI sequences, OSC sequences (title setting, hyperlinks), and lone two-byte escapes.
ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
STARTING_GRACE = 5.0
# A hooked agent that has sent nothing this long after its start has no working hooks.
NO_SIGNALS_GRACE = 20.0
# The screen keeps redrawing for a moment after a hook fires; only later changes contradict it.
HOOK_SETTLE = 2.0
# What a shell means by these exit codes (the launcher runs the command through sh).
SHELL_EXIT_MEANINGS = {
    126: "the command is not executable",
    127: "command not found (is the agent's program installed and on PATH?)",
    130: "interrupted (Ctrl-C)",
    137: "killed (SIGKILL)",
    143: "terminated (SIGTERM)",
}


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def bottom_lines(screen: str, count: int) -> list[str]:
    """The last `count` non-empty lines of a screen, escapes stripped, trailing spaces removed."""
    lines = [line.rstrip() for line in strip_ansi(screen).splitlines()]
    return [line for line in lines if line.strip()][-count:]


def screen_tail(screen: str, count: int) -> tuple[str, ...]:
    """The agent's last `count` lines of output; tmux's own "Pane is dead (status N, <date>)"
    notice is not the agent's output."""
    lines = (line.rstrip() for line in strip_ansi(screen).splitlines())
    return tuple(ln for ln in lines if ln.strip() and not ln.startswith("Pane is dead"))[-count:]


@lru_cache(maxsize=256)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def _first_match(lines: list[str], patterns: tuple[str, ...]) -> tuple[str, str] | None:
    for regex in _compiled(patterns):
        for line in lines:
            if regex.search(line):
                return regex.pattern, line.strip()
    return None


def classify_screen(screen: str, preset: Preset) -> StatusVerdict | None:
    """What the bottom of the screen says, or None when it says nothing the preset knows."""
    lines = bottom_lines(screen, preset.bottom_lines)
    patterns: StatusPatterns = preset.patterns
    rules = (
        (patterns.waiting, Status.WAITING, "question on screen"),
        (patterns.working, Status.WORKING, "busy indicator on screen"),
        (patterns.error, Status.IDLE, "error at the prompt"),
        (patterns.idle, Status.IDLE, "input prompt on screen"),
    )
    for regexes, status, reason in rules:
        found = _first_match(lines, regexes)
        if found:
            pattern, line = found
            return StatusVerdict(status=status, reason=reason, rule=pattern, evidence=line, source="screen")
    return None


def _exit_verdict(exit_code: int | None, dead: bool) -> StatusVerdict | None:
    if exit_code is not None:
        if exit_code == 0:
            return StatusVerdict(status=Status.EXITED, reason="exit code 0", source="exit")
        meaning = SHELL_EXIT_MEANINGS.get(exit_code)
        reason = f"exit code {exit_code}" + (f": {meaning}" if meaning else "")
        return StatusVerdict(status=Status.CRASHED, reason=reason, source="exit")
    if dead:
        return StatusVerdict(status=Status.CRASHED, reason="process died, exit code unknown", source="exit")
    return None


def _timing_verdict(
    screen: str, now: float, started_at: float | None, last_change: float | None, idle_after: float
) -> StatusVerdict:
    has_output = bool(strip_ansi(screen).strip())
    if not has_output and started_at is not None and now - started_at < STARTING_GRACE:
        return StatusVerdict(
            status=Status.STARTING, reason="started, no output yet", source="timing", timed=True
        )
    if last_change is not None and now - last_change < idle_after:
        return StatusVerdict(status=Status.WORKING, reason="output changing", source="timing", timed=True)
    quiet_since = last_change if last_change is not None else started_at
    quiet = f" for {int(now - quiet_since)}s" if quiet_since is not None else ""
    return StatusVerdict(status=Status.IDLE, reason=f"no output{quiet}", source="timing", timed=True)


def classify(
    *,
    preset: Preset,
    screen: str,
    exit_code: int | None,
    dead: bool,
    now: float,
    started_at: float | None,
    last_change: float | None,
    idle_after: float,
    hooks: HookState | None = None,
    hooked: bool = False,
) -> StatusVerdict:
    """Decide one agent's status and say which evidence decided it.

    Evidence, strongest first: the exit code; a question on screen (a person is needed, whatever a
    hook said last); the agent's own signals (`hooks`), checked against the screen for their known
    failure modes; the rest of the screen; timing. `hooked` says the agent was started with
    fleet-tui's hooks installed, so silence from them means they are missing, not that all is well.
    """
    ended = _exit_verdict(exit_code, dead)
    if ended is not None:
        return ended
    on_screen = classify_screen(screen, preset)
    if on_screen is not None and on_screen.status == Status.WAITING:
        if hooks is not None and hooks.signal is not None and hooks.status == Status.WAITING:
            # Both say so: the agent's own word decides, the screen's line is the evidence.
            return on_screen.model_copy(
                update={
                    "reason": f"hook {hooks.signal.label}; the screen agrees",
                    "source": "hook",
                    "signal_at": hooks.signal.t,
                }
            )
        if hooks is not None and hooks.status is not None and hooks.signal is not None:
            note = f" (beats hook {hooks.signal.label}, which said {hooks.status.value})"
            return on_screen.model_copy(update={"reason": on_screen.reason + note})
        return on_screen
    if hooked and hooks is None:
        if started_at is not None and now - started_at < NO_SIGNALS_GRACE:
            verdict = on_screen or _timing_verdict(screen, now, started_at, last_change, idle_after)
            return verdict.model_copy(update={"timed": True})  # becomes "unknown" if no signal comes
        reading = on_screen or _timing_verdict(screen, now, started_at, last_change, idle_after)
        return StatusVerdict(
            status=Status.UNKNOWN,
            reason=f"no signals from its hooks; screen says {reading.status.value} ({reading.reason})",
            rule=reading.rule,
            evidence=reading.evidence,
            source="hook",
            timed=reading.timed,
        )
    if hooks is not None and hooks.status is not None and hooks.signal is not None:
        return _with_hooks(hooks, on_screen, now, last_change, idle_after)
    return on_screen or _timing_verdict(screen, now, started_at, last_change, idle_after)


def _with_hooks(
    hooks: HookState,
    on_screen: StatusVerdict | None,
    now: float,
    last_change: float | None,
    idle_after: float,
) -> StatusVerdict:
    """The hooks' status, unless the screen shows that it went stale."""
    assert hooks.status is not None and hooks.signal is not None
    signal = hooks.signal
    said = f"hook {signal.label}"
    screen_moved = last_change is not None and last_change > signal.t + HOOK_SETTLE
    busy_on_screen = on_screen is not None and on_screen.status == Status.WORKING
    if hooks.status in (Status.WAITING, Status.IDLE) and busy_on_screen and screen_moved:
        # Busy again with no signal since: the dialog was answered, or hooks stopped arriving.
        assert on_screen is not None
        note = f" (newer than hook {signal.label})"
        return on_screen.model_copy(update={"reason": on_screen.reason + note})
    if hooks.status == Status.WORKING and on_screen is not None and on_screen.status == Status.IDLE:
        quiet_since = max(signal.t, last_change or 0.0)
        if now - quiet_since >= idle_after:
            # No Stop came: an interrupt (Esc) or an API error ended the turn, and the prompt shows.
            return on_screen.model_copy(
                update={"reason": f"{on_screen.reason}, quiet; no Stop after {said} (interrupted?)"}
            )
        return StatusVerdict(
            status=Status.WORKING,
            reason=said,
            evidence=signal.message,
            source="hook",
            signal_at=signal.t,
            timed=True,  # turns idle once the quiet prompt outlasts idle_after
        )
    reason = said
    if hooks.failed:
        reason += ": the turn ended on an API error"
    elif hooks.ended:
        reason += ": the session ended"
    return StatusVerdict(
        status=hooks.status, reason=reason, evidence=signal.message, source="hook", signal_at=signal.t
    )


# Statuses read from evidence that can disagree for a moment; a change between two of them is
# held back. Any other change (an exit, a kill, a merge, a queued agent starting) shows at once.
# (Leaving `starting` is not flicker: the first output came.)
GUESSED = frozenset({Status.WORKING, Status.WAITING, Status.IDLE, Status.UNKNOWN})


class Debounce:
    """A new status is reported only once it has held for `hold` seconds, so a hook and a screen
    that disagree for a moment do not make the status flicker (see GUESSED)."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.shown: StatusVerdict | None = None
        self._candidate: Status | None = None
        self._candidate_since = 0.0

    @property
    def pending(self) -> bool:
        """A different status is waiting out its hold: the next look may change what is shown."""
        return self._candidate is not None

    def feed(self, verdict: StatusVerdict, now: float) -> StatusVerdict:
        shown = self.shown
        if (
            shown is None
            or self.hold <= 0
            or verdict.status == shown.status
            or verdict.status not in GUESSED
            or shown.status not in GUESSED
        ):
            self.shown, self._candidate = verdict, None
            return verdict
        if self._candidate != verdict.status:
            self._candidate, self._candidate_since = verdict.status, now
        if now - self._candidate_since >= self.hold:
            self.shown, self._candidate = verdict, None
            return verdict
        return shown
