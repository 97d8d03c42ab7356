"""Every built-in preset against screens captured from the real agent CLIs, labelled by a person.

The corpus lives in tests/fixtures/screens (see labels.toml and scripts/capture_agent_screens.py).
Exited screens are judged with their recorded exit code; the others by the screen alone, as if the
output had been quiet for a while (so timing cannot rescue a missing pattern).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from fleet_tui.models import Status
from fleet_tui.presets import BUILTIN_PRESETS
from fleet_tui.status import classify

CORPUS = Path(__file__).parent / "fixtures" / "screens"
LABELS = tomllib.loads((CORPUS / "labels.toml").read_text(encoding="utf-8"))["screen"]
QUIET = 3600.0


def verdict_for(label: dict) -> tuple[Status, str]:
    screen = (CORPUS / label["file"]).read_text(encoding="utf-8")
    exit_code = label.get("exit_code") if label["status"] == "exited" else None
    verdict = classify(
        preset=BUILTIN_PRESETS[label["preset"]],
        screen=screen,
        exit_code=exit_code,
        dead=exit_code is not None,
        now=QUIET * 2,
        started_at=0.0,
        last_change=QUIET,
        idle_after=15.0,
    )
    return verdict.status, verdict.reason


def expected(label: dict) -> Status:
    if label["status"] == "exited":
        return Status.EXITED if label.get("exit_code", 0) == 0 else Status.CRASHED
    return Status(label["status"])


def test_corpus_covers_every_agent_and_label() -> None:
    presets = Counter(label["preset"] for label in LABELS)
    assert set(presets) >= {"claude", "codex", "gemini", "aider", "shell"}
    statuses = Counter(label["status"] for label in LABELS)
    assert statuses["waiting"] >= 5 and statuses["idle"] >= 5


# Screens the presets are known to misread, and what they read them as instead. A working shell
# that prints nothing has no busy indicator: only its output moving shows work, which a screen
# judged as quiet for an hour cannot (the live monitor sees the output change).
KNOWN_MISSES = {
    "shell/working-loop-printing.txt": Status.IDLE,
    "shell/working-sleep-no-output.txt": Status.IDLE,
}


@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
def test_each_screen_reads_as_labelled(label: dict) -> None:
    status, reason = verdict_for(label)
    wanted = KNOWN_MISSES.get(label["file"], expected(label))
    assert status == wanted, f"{label['file']}: expected {wanted.value}, got {status.value} ({reason})"
    if label["status"] == "waiting":
        assert status != Status.WORKING, f"{label['file']}: a question read as work ({reason})"


def test_accuracy_per_agent_and_overall() -> None:
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    wrong = []
    for label in LABELS:
        status, reason = verdict_for(label)
        total[label["preset"]] += 1
        if status == expected(label):
            right[label["preset"]] += 1
        else:
            wrong.append(f"{label['file']}: expected {expected(label).value}, got {status.value} ({reason})")
    accuracy = sum(right.values()) / sum(total.values())
    per_agent = {name: f"{right[name]}/{total[name]}" for name in sorted(total)}
    print(f"\npreset accuracy: {accuracy:.1%} overall; {per_agent}")
    assert accuracy >= 0.95, f"{accuracy:.1%} < 95%: " + "; ".join(wrong)
