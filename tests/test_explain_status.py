"""`fleet-tui explain-status`: the tool for writing a preset shows the status, rule and evidence."""

from __future__ import annotations

from click.testing import CliRunner

from fleet_tui.cli import cli


def explain(screen: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["explain-status", *args], input=screen)
    return result.exit_code, result.output


def test_question_at_the_bottom_is_waiting_with_evidence() -> None:
    code, output = explain("working on it\nOverwrite config.py? [y/N] ")
    assert code == 0
    assert "status:   waiting" in output
    assert "evidence: Overwrite config.py? [y/N]" in output
    assert "rule:" in output


def test_colour_escapes_are_read_through() -> None:
    code, output = explain("\x1b[1;32muser@host\x1b[0m:\x1b[34m~/repo\x1b[0m$ ", "--quiet-for", "60")
    assert code == 0
    assert "status:   idle" in output and "input prompt" in output


def test_an_answered_question_higher_up_does_not_count() -> None:
    screen = "Continue? [y/n] y\nok, going ahead\nwriting src/app.py\ncompiling module 3 of 9\n"
    code, output = explain(screen)
    assert code == 0
    assert "status:   working" in output  # just changed, no pattern at the bottom
    assert "output changing" in output


def test_exit_code_beats_the_screen() -> None:
    code, output = explain("Continue? [y/n] ", "--exit-code", "2")
    assert code == 0
    assert "status:   crashed" in output and "exit code 2" in output


def test_unknown_preset_is_one_clear_error() -> None:
    code, output = explain("x", "--preset", "nope")
    assert code == 2
    assert "unknown preset 'nope'" in output and "Traceback" not in output


def test_git_password_prompt_is_waiting() -> None:
    code, output = explain("Cloning into 'x'...\nPassword for 'https://me@example.com': ")
    assert code == 0
    assert "status:   waiting" in output
