"""Every built-in preset against screens captured from the real agent CLIs, labelled by a person.

The corpus lives in tests/fixtures/screens (see labels.toml and scripts/capture_agent_screens.py).
Exited screens are judged with their recorded exit code; the others by the screen alone, as if the
output had been quiet for a while (so timing cannot rescue a missing pattern).

Every label is checked: a screen either gets its label, or is one of the known misses below (which
fail the test the day they start passing, so the list stays true). Screens marked `heldout` were
never looked at while the patterns were written; their accuracy is reported on its own.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fleet_tui.models import Status
from fleet_tui.presets import BUILTIN_PRESETS
from fleet_tui.status import classify

CORPUS = Path(__file__).parent / "fixtures" / "screens"
LABELS: list[dict[str, Any]] = tomllib.loads((CORPUS / "labels.toml").read_text(encoding="utf-8"))["screen"]
TUNED = [label for label in LABELS if not label.get("heldout")]
HELD_OUT = [label for label in LABELS if label.get("heldout")]
QUIET = 3600.0

# Screens a preset reads wrongly, and why; each is asserted to still be wrong.
KNOWN_MISSES = {
    "shell/working-loop-printing.txt": "a static capture of a busy shell: only output timing tells",
    "shell/working-sleep-no-output.txt": "a static capture of a busy shell: only output timing tells",
    "copilot/copilot-after-trust.txt": "the sign-in notice above the prompt reads as a question (waiting)",
}
# The generic preset read over the whole corpus (as if fleet-tui knew none of these agents).
GENERIC_MISSES = {
    **KNOWN_MISSES,
    "gemini/auth-method-dialog.txt": "its choice list is more than 6 lines above the bottom",
    "aider/idle-after-edit-and-run.txt": "an answered aider question whose answer was Enter",
    "cline/cline-first.txt": "its hint line 'Enter to select' is not one of the generic habits",
    "mistral-vibe/vibe-first.txt": "'Enter continue' is not one of the generic habits",
    "mistral-vibe/vibe-after-enter2.txt": "its choice list is more than 6 lines above the bottom",
}


def verdict_for(label: dict[str, Any], preset: str | None = None) -> tuple[Status, str]:
    screen = (CORPUS / label["file"]).read_text(encoding="utf-8")
    exit_code = label.get("exit_code") if label["status"] == "exited" else None
    verdict = classify(
        preset=BUILTIN_PRESETS[preset or label["preset"]],
        screen=screen,
        exit_code=exit_code,
        dead=exit_code is not None,
        now=QUIET * 2,
        started_at=0.0,
        last_change=QUIET,
        idle_after=15.0,
    )
    return verdict.status, f"{verdict.reason} /{verdict.rule}/ {verdict.evidence!r}"


def expected(label: dict[str, Any]) -> Status:
    if label["status"] == "exited":
        return Status.EXITED if label.get("exit_code", 0) == 0 else Status.CRASHED
    return Status(label["status"])


def test_corpus_covers_every_agent_and_label() -> None:
    presets = Counter(label["preset"] for label in LABELS)
    assert set(presets) >= {"claude", "codex", "gemini", "aider", "shell"}
    statuses = Counter(label["status"] for label in LABELS)
    assert statuses["waiting"] >= 5 and statuses["idle"] >= 5
    assert sum(1 for label in LABELS if label.get("heldout")) >= 3
    for label in LABELS:
        assert (CORPUS / label["file"]).exists(), label["file"]
    assert set(KNOWN_MISSES) <= {label["file"] for label in LABELS}


@pytest.mark.parametrize("label", TUNED, ids=[label["file"] for label in TUNED])
def test_every_screen_gets_its_label(label: dict[str, Any]) -> None:
    status, reason = verdict_for(label)
    if label["file"] in KNOWN_MISSES:
        assert status != expected(label), f"{label['file']} passes now: take it off KNOWN_MISSES"
        return
    assert status == expected(label), f"{label['file']}: expected {expected(label).value}, got {reason}"


@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
def test_no_waiting_screen_is_read_as_working(label: dict[str, Any]) -> None:
    if label["status"] == "waiting":
        for preset in (label["preset"], "generic"):
            status, reason = verdict_for(label, preset)
            assert status != Status.WORKING, f"{label['file']} with {preset}: {reason}"


def accuracy(labels: list[dict[str, Any]], preset: str | None = None) -> tuple[int, int]:
    right = sum(1 for label in labels if verdict_for(label, preset)[0] == expected(label))
    return right, len(labels)


def test_accuracy_tuned_and_held_out() -> None:
    """Held-out screens are checked together, not one by one: a failing one must not become a
    pattern written for it (then it would no longer be held out)."""
    right, total = accuracy(TUNED)
    held_right, held_total = accuracy(HELD_OUT)
    generic_right, generic_total = accuracy(HELD_OUT, "generic")
    print(f"\npresets: {right}/{total} on the screens the patterns were written against")
    print(f"presets: {held_right}/{held_total} on held-out screens; generic: {generic_right}/{generic_total}")
    assert right / total >= 0.95
    assert held_right / held_total >= 0.6  # a floor against regressions; the figure is printed


def test_generic_preset_reads_agents_it_was_not_written_for() -> None:
    for label in TUNED:
        status, reason = verdict_for(label, "generic")
        if label["file"] in GENERIC_MISSES:
            assert status != expected(label), (
                f"{label['file']} passes with generic now: update GENERIC_MISSES"
            )
        else:
            assert status == expected(label), (
                f"generic, {label['file']}: expected {expected(label).value}, {reason}"
            )
    right, total = accuracy(TUNED, "generic")
    print(f"\ngeneric preset: {right}/{total} over the corpus (held-out screens apart)")
