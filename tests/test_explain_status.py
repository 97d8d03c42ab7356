"""`fleet-tui explain-status`: the tool for writing a preset shows the status, rule and evidence."""

from __future__ import annotations

import json

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


def _signals(tmp_path, *lines: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "signals.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


IDLE_CLAUDE = "● Done.\n\n❯ \n  ? for shortcuts\n"


def test_signals_file_is_weighed_with_the_screen(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _signals(
        tmp_path,
        '{"t": 100, "event": "UserPromptSubmit"}',
        '{"t": 101, "event": "PreToolUse", "tool": "Bash"}',
        '{"t": 108, "event": "Notification", "kind": "permission_prompt", "message": "Claude needs you"}',
    )
    code, output = explain(IDLE_CLAUDE, "-p", "claude", "--signals", path, "--at", "120", "--quiet-for", "12")
    assert code == 0, output
    assert "status:   waiting" in output
    assert "reason:   hook Notification(permission_prompt)" in output
    assert "decided:  by the hook" in output
    assert "Notification(permission_prompt) 12s ago says waiting" in output
    assert "PreToolUse(Bash)" in output  # the signals are listed


def test_a_stale_notification_is_listed_as_set_aside(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _signals(
        tmp_path,
        '{"t": 100, "event": "Stop"}',
        '{"t": 101, "event": "Notification", "kind": "permission_prompt"}',
    )
    code, output = explain(IDLE_CLAUDE, "-p", "claude", "--signals", path, "--at", "130", "--quiet-for", "29")
    assert code == 0, output
    assert "status:   idle" in output and "hook Stop" in output
    assert "set aside: Notification(permission_prompt) came after Stop: ignored" in output


def test_an_empty_signals_file_is_unknown(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, output = explain(IDLE_CLAUDE, "-p", "claude", "--signals", _signals(tmp_path), "--quiet-for", "60")
    assert code == 0, output
    assert "status:   unknown" in output and "no signals" in output and "screen says idle" in output


def test_a_missing_signals_file_is_one_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, output = explain(IDLE_CLAUDE, "-p", "claude", "--signals", str(tmp_path / "nope.jsonl"))
    assert code != 0 and "does not exist" in output and "Traceback" not in output


def test_hook_command_appends_a_signal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.jsonl"
    result = CliRunner().invoke(cli, ["hook", "event", str(path), "mytool", '{"event": "Stop"}'])
    assert result.exit_code == 0 and result.output == ""
    result = CliRunner().invoke(cli, ["hook", "event", str(path), "mytool"], input='{"event": "PreToolUse"}')
    assert result.exit_code == 0
    assert [json.loads(line)["event"] for line in path.read_text().splitlines()] == ["Stop", "PreToolUse"]
