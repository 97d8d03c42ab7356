"""The agents' own signals: the hook writer, the incremental reader, the fold, and the verdict rules
that weigh hooks against the screen (exit code > question on screen > fresh hooks > screen > timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleet_tui import hook
from fleet_tui.models import Status
from fleet_tui.presets import BUILTIN_PRESETS
from fleet_tui.signals import (
    Signal,
    SignalReader,
    context_from_screen,
    fold,
    read_signals,
    read_statusline,
)
from fleet_tui.status import HOOK_SETTLE, NO_SIGNALS_GRACE, classify

CLAUDE = BUILTIN_PRESETS["claude"]
NOW = 1_000_000.0
CORPUS = Path(__file__).parent / "fixtures" / "screens"
PERMISSION_SCREEN = (CORPUS / "claude" / "permission-bash-command.txt").read_text(encoding="utf-8")
IDLE_SCREEN = (CORPUS / "claude" / "idle-after-answer.txt").read_text(encoding="utf-8")
BUSY_SCREEN = (CORPUS / "claude" / "working-after-tool.txt").read_text(encoding="utf-8")
INTERRUPTED_SCREEN = (CORPUS / "claude" / "idle-interrupted-prompt-restored.txt").read_text(encoding="utf-8")


def sig(event: str, t: float, **kw: Any) -> Signal:
    return Signal(t=t, event=event, src="claude", **kw)


def verdict(screen: str, signals: list[Signal] | None, **kw: Any):  # type: ignore[no-untyped-def]
    args: dict[str, Any] = {
        "preset": CLAUDE,
        "screen": screen,
        "exit_code": None,
        "dead": False,
        "now": NOW,
        "started_at": NOW - 120,
        "last_change": NOW - 30,
        "idle_after": 15.0,
        "hooks": fold(signals, NOW - 120) if signals else None,
        "hooked": True,
    }
    args.update(kw)
    return classify(**args)


# -- the writer -------------------------------------------------------------------------------


def test_hook_writer_keeps_only_what_the_rules_read(tmp_path: Path) -> None:
    out = tmp_path / "signals.jsonl"
    payload = {
        "hook_event_name": "PreToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": "big.txt", "content": "x" * 100_000},
        "session_id": "abc",
        "transcript_path": "/tmp/t.jsonl",
    }
    subprocess.run(
        [sys.executable, "-S", "-E", hook.__file__, "event", str(out), "claude"],
        input=json.dumps(payload),
        text=True,
        check=True,
    )
    line = out.read_text()
    assert line.endswith("\n") and len(line) < 400  # the tool's 100 kB input is not copied
    record = json.loads(line)
    assert record["event"] == "PreToolUse" and record["tool"] == "Write" and record["session"] == "abc"
    assert record["src"] == "claude" and record["t"] > 0


def test_codex_notify_passes_its_json_as_the_last_argument(tmp_path: Path) -> None:
    out = tmp_path / "signals.jsonl"
    note = {"type": "agent-turn-complete", "thread-id": "t1", "last-assistant-message": "Done."}
    assert hook.main(["event", str(out), "codex", json.dumps(note)]) == 0
    [signal] = read_signals(out)
    assert (signal.event, signal.session, signal.message, signal.src) == (
        "agent-turn-complete",
        "t1",
        "Done.",
        "codex",
    )


def test_codex_side_threads_do_not_end_the_turn(tmp_path: Path) -> None:
    out = tmp_path / "signals.jsonl"
    title = {
        "type": "agent-turn-complete",
        "input-messages": '["Generate a concise, single-line task title of at most 36 characters"]',
        "last-assistant-message": '{"title": "x"}',
    }
    hook.main(["event", str(out), "codex", json.dumps(title)])
    [side] = read_signals(out)
    assert side.kind == "side-thread"
    state = fold([sig("UserPromptSubmit", 1), side.model_copy(update={"t": 2})])
    assert state is not None and state.status == Status.WORKING
    main = {
        "type": "agent-turn-complete",
        "input-messages": ["Create hello.txt"],
        "last-assistant-message": "Done.",
    }
    hook.main(["event", str(out), "codex", json.dumps(main)])
    assert read_signals(out)[-1].kind == ""


def test_bad_input_never_fails_the_agent(tmp_path: Path) -> None:
    out = tmp_path / "signals.jsonl"
    assert hook.main(["event", str(out), "claude", "not json"]) == 0
    assert read_signals(out)[0].event == "unknown"
    assert hook.main(["event", str(tmp_path / "no" / "such" / "dir.jsonl"), "claude", "{}"]) == 0


def test_statusline_keeps_context_cost_and_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "statusline.json"
    payload = {
        "model": {"id": "claude-x", "display_name": "Fake"},
        "context_window": {"used_percentage": 42.5, "context_window_size": 200000},
        "cost": {"total_cost_usd": 0.1234},
        "transcript_path": "/tmp/t.jsonl",
    }
    assert hook.main(["statusline", str(out), "claude", json.dumps(payload)]) == 0
    printed = capsys.readouterr().out
    assert "context 42%" in printed and "$0.12" in printed
    reading = read_statusline(out)
    assert reading is not None
    assert (reading.used, reading.cost_usd, reading.model) == (42.5, 0.1234, "Fake")
    assert reading.source == "statusline"
    # remaining_percentage alone is enough
    remaining = {"context_window": {"remaining_percentage": 30}}
    hook.main(["statusline", str(out), "claude", json.dumps(remaining)])
    assert read_statusline(out).used == 70.0  # type: ignore[union-attr]


# -- the reader -------------------------------------------------------------------------------


def test_reader_reads_only_what_was_appended(tmp_path: Path) -> None:
    path = tmp_path / "signals.jsonl"
    reader = SignalReader(path)
    assert reader.read() is False and reader.state(None) is None  # no file yet: no signals
    hook.append(str(path), hook.signal_line({"hook_event_name": "UserPromptSubmit"}, "claude", 10.0))
    assert reader.read() is True and [s.event for s in reader.signals] == ["UserPromptSubmit"]
    assert reader.read() is False  # nothing new
    # half a line (a writer caught mid-way) waits for its end
    with path.open("a") as fh:
        fh.write('{"t": 11, "event": "St')
    assert reader.read() is False
    with path.open("a") as fh:
        fh.write('op"}\ngarbage line\n')
    assert reader.read() is True
    assert [s.event for s in reader.signals] == ["UserPromptSubmit", "Stop"]
    version = reader.version
    path.write_text('{"t": 20, "event": "SessionStart"}\n')  # truncated and rewritten: start over
    reader.read()
    assert [s.event for s in reader.signals] == ["SessionStart"] and reader.version > version
    path.unlink()
    assert reader.read() is True and not reader.signals


# -- the fold ---------------------------------------------------------------------------------


def test_latest_status_setting_signal_wins() -> None:
    state = fold([sig("UserPromptSubmit", 1), sig("PreToolUse", 2, tool="Bash"), sig("Stop", 3)])
    assert state is not None and state.status == Status.IDLE and state.signal.event == "Stop"
    state = fold([sig("Stop", 1), sig("UserPromptSubmit", 2)])
    assert state is not None and state.status == Status.WORKING


def test_signals_from_an_earlier_run_do_not_count() -> None:
    signals = [sig("Notification", 1, kind="permission_prompt")]
    assert fold(signals, since=5) is None
    assert fold(signals, since=1).status == Status.WAITING  # type: ignore[union-attr]


def test_subagent_stop_is_not_the_end_of_a_turn() -> None:
    state = fold([sig("UserPromptSubmit", 1), sig("SubagentStop", 2)])
    assert state is not None and state.status == Status.WORKING


def test_notification_after_stop_is_stale() -> None:
    state = fold([sig("PreToolUse", 1), sig("Stop", 2), sig("Notification", 3, kind="permission_prompt")])
    assert state is not None and state.status == Status.IDLE
    assert "ignored" in state.stale[0]
    # a new turn makes the next question count again
    state = fold([sig("Stop", 2), sig("PreToolUse", 4), sig("Notification", 5, kind="permission_prompt")])
    assert state is not None and state.status == Status.WAITING


def test_notification_older_than_the_next_tool_is_stale() -> None:
    state = fold([sig("Notification", 1, kind="permission_prompt"), sig("PreToolUse", 2)])
    assert state is not None and state.status == Status.WORKING


def test_stop_failure_ends_the_turn_as_an_error() -> None:
    state = fold([sig("UserPromptSubmit", 1), sig("StopFailure", 2)])
    assert state is not None and state.status == Status.IDLE and state.failed


def test_unknown_events_set_nothing() -> None:
    state = fold([sig("Notification", 1, kind="auth_success"), sig("SomethingNew", 2)])
    assert state is not None and state.status is None and state.count == 2


# -- the verdict ------------------------------------------------------------------------------


def test_exit_code_beats_every_signal() -> None:
    v = verdict(PERMISSION_SCREEN, [sig("PreToolUse", NOW - 5)], exit_code=0, dead=True)
    assert (v.status, v.source) == (Status.EXITED, "exit")


def test_a_dialog_on_screen_beats_a_stale_working_hook() -> None:
    v = verdict(PERMISSION_SCREEN, [sig("PreToolUse", NOW - 5, tool="Bash")])
    assert v.status == Status.WAITING and v.source == "screen"
    assert "beats hook PreToolUse(Bash)" in v.reason


def test_a_permission_notification_is_waiting_with_its_evidence() -> None:
    signals = [
        sig("PreToolUse", NOW - 20),
        sig("Notification", NOW - 12, kind="permission_prompt", message="m"),
    ]
    v = verdict(IDLE_SCREEN, signals, last_change=NOW - 12)
    assert (v.status, v.source, v.signal_at) == (Status.WAITING, "hook", NOW - 12)
    assert v.reason == "hook Notification(permission_prompt)" and v.evidence == "m"


def test_a_stop_then_a_quiet_screen_is_idle() -> None:
    v = verdict(IDLE_SCREEN, [sig("UserPromptSubmit", NOW - 40), sig("Stop", NOW - 30)], last_change=NOW - 30)
    assert (v.status, v.reason, v.timed) == (Status.IDLE, "hook Stop", False)


def test_busy_screen_after_a_stop_is_working_again() -> None:
    signals = [sig("Stop", NOW - 30)]
    v = verdict(BUSY_SCREEN, signals, last_change=NOW - 30 + HOOK_SETTLE + 1)
    assert v.status == Status.WORKING and "newer than hook Stop" in v.reason
    # a redraw right after the Stop does not contradict it
    assert verdict(BUSY_SCREEN, signals, last_change=NOW - 30 + 0.5).status == Status.IDLE


def test_no_stop_after_an_interrupt_is_caught_by_the_quiet_prompt() -> None:
    signals = [sig("UserPromptSubmit", NOW - 60)]
    v = verdict(INTERRUPTED_SCREEN, signals, last_change=NOW - 40)
    assert v.status == Status.IDLE and "no Stop after hook UserPromptSubmit" in v.reason
    # while the quiet time is short, the hook still holds, and the verdict says it may change
    v = verdict(INTERRUPTED_SCREEN, signals, last_change=NOW - 5)
    assert (v.status, v.source, v.timed) == (Status.WORKING, "hook", True)


def test_stop_failure_reads_as_idle_on_an_api_error() -> None:
    v = verdict(IDLE_SCREEN, [sig("UserPromptSubmit", NOW - 40), sig("StopFailure", NOW - 35)])
    assert v.status == Status.IDLE and "API error" in v.reason


def test_a_hooked_agent_without_signals_is_unknown_with_the_screens_reading() -> None:
    v = verdict(BUSY_SCREEN, None)
    assert v.status == Status.UNKNOWN and "no signals" in v.reason and "screen says working" in v.reason
    assert v.evidence  # the screen's matched line comes along
    # shortly after the start, the screen is given the time for the first signal to arrive
    early = verdict(BUSY_SCREEN, None, started_at=NOW - NO_SIGNALS_GRACE / 2)
    assert early.status == Status.WORKING and early.timed
    # an agent started without hooks is read from its screen as before
    assert verdict(BUSY_SCREEN, None, hooked=False).status == Status.WORKING


def test_a_waiting_screen_is_waiting_even_without_signals() -> None:
    assert verdict(PERMISSION_SCREEN, None).status == Status.WAITING


# -- context ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("screen", "used"),
    [
        ("  Context left until auto-compact: 12%\n", 88.0),
        ("› \n  gpt-5-codex · 87% context left · ~/repo\n", 13.0),
        ("nothing here\n", None),
    ],
)
def test_context_from_screen(screen: str, used: float | None) -> None:
    reading = context_from_screen(screen)
    assert (reading.used if reading else None) == used
    if reading:
        assert reading.source.startswith("screen: ")


# -- debounce ---------------------------------------------------------------------------------


def test_a_status_must_hold_before_it_is_shown() -> None:
    from fleet_tui.models import StatusVerdict
    from fleet_tui.status import Debounce

    def v(status: Status) -> StatusVerdict:
        return StatusVerdict(status=status, reason=status.value)

    d = Debounce(hold=1.5)
    assert d.feed(v(Status.WORKING), 0).status == Status.WORKING  # the first one at once
    assert d.feed(v(Status.IDLE), 1).status == Status.WORKING and d.pending  # a blip ...
    assert d.feed(v(Status.WORKING), 2).status == Status.WORKING and not d.pending  # ... is gone
    assert d.feed(v(Status.WAITING), 3).status == Status.WORKING
    assert d.feed(v(Status.WAITING), 4).status == Status.WORKING
    assert d.feed(v(Status.WAITING), 4.5).status == Status.WAITING  # held 1.5 s
    assert d.feed(v(Status.EXITED), 4.6).status == Status.EXITED  # endings at once
    assert Debounce(hold=0).feed(v(Status.IDLE), 0).status == Status.IDLE


def test_leaving_a_status_fleet_tui_set_is_not_held_back() -> None:
    from fleet_tui.models import StatusVerdict
    from fleet_tui.status import Debounce

    d = Debounce(hold=5)
    d.feed(StatusVerdict(status=Status.QUEUED, reason="q"), 0)
    assert d.feed(StatusVerdict(status=Status.STARTING, reason="s"), 0.1).status == Status.STARTING


def test_hook_and_screen_agreeing_on_a_question_name_both() -> None:
    signals = [sig("PreToolUse", NOW - 20), sig("Notification", NOW - 10, kind="permission_prompt")]
    v = verdict(PERMISSION_SCREEN, signals)
    assert (v.status, v.source, v.signal_at) == (Status.WAITING, "hook", NOW - 10)
    assert v.reason == "hook Notification(permission_prompt); the screen agrees"
    assert "Do you want to proceed?" in v.evidence
