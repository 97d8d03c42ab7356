"""Status classification rules: exit code > bottom of the screen > timing, each with its evidence."""

from __future__ import annotations

from typing import Any

import pytest

from fleet_tui.models import Status
from fleet_tui.presets import BUILTIN_PRESETS, Preset
from fleet_tui.status import STARTING_GRACE, bottom_lines, classify, classify_screen, strip_ansi

SHELL = BUILTIN_PRESETS["shell"]
CLAUDE = BUILTIN_PRESETS["claude"]
NOW = 1_000_000.0


def verdict(screen: str, preset: Preset = SHELL, **kw: Any):  # type: ignore[no-untyped-def]
    args: dict[str, Any] = {
        "preset": preset,
        "screen": screen,
        "exit_code": None,
        "dead": False,
        "now": NOW,
        "started_at": NOW - 60,
        "last_change": NOW - 1,
        "idle_after": 15.0,
    }
    args.update(kw)
    return classify(**args)


def test_exit_code_beats_the_screen() -> None:
    question = "Overwrite the file? [y/n] "
    assert verdict(question).status == Status.WAITING
    exited = verdict(question, exit_code=0, dead=True)
    assert (exited.status, exited.reason) == (Status.EXITED, "exit code 0")
    crashed = verdict(question, exit_code=3, dead=True)
    assert (crashed.status, crashed.reason) == (Status.CRASHED, "exit code 3")
    # an exit code counts even if tmux has not noticed the pane died yet
    assert verdict("> ", exit_code=1).status == Status.CRASHED


def test_shell_exit_codes_say_what_they_mean() -> None:
    missing = verdict("sh: 1: claude: not found", exit_code=127, dead=True)
    assert missing.status == Status.CRASHED
    assert missing.reason.startswith("exit code 127: command not found")
    assert verdict("", exit_code=143, dead=True).reason == "exit code 143: terminated (SIGTERM)"


def test_a_dead_pane_without_exit_code_is_crashed_and_says_so() -> None:
    result = verdict("> ", dead=True)
    assert result.status == Status.CRASHED
    assert "unknown" in result.reason


def test_waiting_beats_working() -> None:
    screen = "✻ Thinking… (esc to interrupt)\n Do you want to make this edit to app.py?\n❯ 1. Yes\n"
    result = verdict(screen, CLAUDE)
    assert result.status == Status.WAITING
    assert result.reason == "question on screen"
    assert result.evidence in {"Do you want to make this edit to app.py?", "❯ 1. Yes"}
    assert result.rule
    working = verdict("✻ Thinking… (esc to interrupt)\n", CLAUDE)
    assert (working.status, working.reason) == (Status.WORKING, "busy indicator on screen")
    assert working.evidence == "✻ Thinking… (esc to interrupt)"


def test_only_the_bottom_lines_count() -> None:
    # The shell preset reads its bottom 2 non-empty lines: an answered question higher up is history.
    answered = "Continue? [y/n] y\n  ok, going ahead\n\nreceived: y\n> \n\n\n"
    result = verdict(answered)
    assert result.status == Status.IDLE
    assert result.reason == "input prompt on screen"
    asked = "building\nstill building\nContinue? [y/n] \n\n\n"
    assert verdict(asked).status == Status.WAITING
    assert bottom_lines("a\n\nb\n  \nc\n\n", 2) == ["b", "c"]


def test_pattern_order_inside_the_bottom_lines() -> None:
    # A prompt line and a question both in the bottom lines: the question wins.
    assert verdict("Proceed? [y/n] \n> ").status == Status.WAITING


def test_ansi_escapes_are_stripped_before_matching() -> None:
    coloured = "\x1b[1;33mContinue?\x1b[0m \x1b[2m[y/n]\x1b[0m \x1b]0;title\x07"
    result = verdict(coloured)
    assert result.status == Status.WAITING
    assert "\x1b" not in result.evidence
    assert result.evidence == "Continue? [y/n]"
    assert strip_ansi("\x1b[31mred\x1b[0m \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "red link"


def test_error_at_the_prompt_counts_as_idle() -> None:
    result = verdict("$ frobnicate\nsh: frobnicate: command not found\n")
    assert result.status == Status.IDLE
    assert result.reason == "error at the prompt"


def test_starting_grace_then_idle_without_output() -> None:
    fresh = verdict("", started_at=NOW - 1, last_change=None)
    assert (fresh.status, fresh.reason) == (Status.STARTING, "started, no output yet")
    # escapes alone are not output
    assert verdict("\x1b[0m\x1b[H", started_at=NOW - 1, last_change=None).status == Status.STARTING
    late = verdict("", started_at=NOW - STARTING_GRACE - 1, last_change=None)
    assert late.status == Status.IDLE
    assert late.reason == f"no output for {int(STARTING_GRACE + 1)}s"


def test_output_changing_is_working_until_quiet_for_idle_after() -> None:
    screen = "compiling module 3 of 9"  # matches no pattern of the shell preset
    assert classify_screen(screen, SHELL) is None
    busy = verdict(screen, last_change=NOW - 2, idle_after=5)
    assert (busy.status, busy.reason) == (Status.WORKING, "output changing")
    quiet = verdict(screen, last_change=NOW - 7, idle_after=5)
    assert (quiet.status, quiet.reason) == (Status.IDLE, "no output for 7s")
    # never changed since we started watching: quiet since the start
    unseen = verdict(screen, last_change=None, started_at=NOW - 30, idle_after=5)
    assert (unseen.status, unseen.reason) == (Status.IDLE, "no output for 30s")


@pytest.mark.parametrize(
    ("screen", "status"),
    [
        ("Overwrite? [Y/n]", Status.WAITING),
        ("Delete it (y/N)? ", Status.WAITING),
        ("[sudo] password for fleet: ", Status.WAITING),
        ("user@host:~/w$ ", Status.IDLE),
        ("# ", Status.IDLE),
    ],
)
def test_shell_preset_patterns(screen: str, status: Status) -> None:
    assert verdict(screen, last_change=NOW).status == status
