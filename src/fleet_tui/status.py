"""Status from evidence, strongest first: exit code, then the bottom of the screen, then timing."""

from __future__ import annotations

import re
from functools import lru_cache

from fleet_tui.models import Status, StatusVerdict
from fleet_tui.presets import Preset, StatusPatterns

# CSI sequences, OSC sequences (title setting, hyperlinks), and lone two-byte escapes.
ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
STARTING_GRACE = 5.0
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
            return StatusVerdict(status=status, reason=reason, rule=pattern, evidence=line)
    return None


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
) -> StatusVerdict:
    """Decide one agent's status and say which evidence decided it."""
    if exit_code is not None:
        if exit_code == 0:
            return StatusVerdict(status=Status.EXITED, reason="exit code 0")
        meaning = SHELL_EXIT_MEANINGS.get(exit_code)
        reason = f"exit code {exit_code}" + (f": {meaning}" if meaning else "")
        return StatusVerdict(status=Status.CRASHED, reason=reason)
    if dead:
        return StatusVerdict(status=Status.CRASHED, reason="process died, exit code unknown")
    verdict = classify_screen(screen, preset)
    if verdict is not None:
        return verdict
    has_output = bool(strip_ansi(screen).strip())
    if not has_output and started_at is not None and now - started_at < STARTING_GRACE:
        return StatusVerdict(status=Status.STARTING, reason="started, no output yet")
    if last_change is not None and now - last_change < idle_after:
        return StatusVerdict(status=Status.WORKING, reason="output changing")
    quiet_since = last_change if last_change is not None else started_at
    quiet = f" for {int(now - quiet_since)}s" if quiet_since is not None else ""
    return StatusVerdict(status=Status.IDLE, reason=f"no output{quiet}")
