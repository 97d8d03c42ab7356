"""The handoff document, built from plain data (no git, no tmux)."""

from __future__ import annotations

from fleet_tui.handoff import FENCE, HandoffData, build_handoff
from fleet_tui.models import FileChange


def data(**changes: object) -> HandoffData:
    base = {
        "agent": "api",
        "task": "Add pagination to /items.\nKeep the response shape.",
        "scope": ("src/api/**", "# a comment", "tests/api/**"),
        "base": "main",
        "branch": "fleet/api",
        "worktree": "/repo-fleet/api",
        "attempt": 2,
        "max_restarts": 3,
        "reason": "it stopped making progress",
        "commits": [("abc1234", "add page parameter"), ("def5678", "tests for paging")],
        "files": [
            FileChange(path="src/api/items.py", added=12, removed=3),
            FileChange(path="docs/notes.md", added=1, removed=0, in_scope=False),
            FileChange(path="src/api/logo.png", added=None, removed=None, untracked=True),
            FileChange(path="src/api/new.py", added=4, removed=1, old_path="src/api/old.py"),
        ],
        "uncommitted": ["src/api/logo.png"],
        "drift": ["docs/notes.md"],
        "overlap": {"src/api/items.py": ("ui",)},
        "pane_tail": ["running tests", f"a line with {FENCE} inside", "> "],
        "snapshot_ref": "refs/fleet/snapshots/api/20250101-000000-000000",
        "status": "idle: prompt",
    }
    base.update(changes)
    return HandoffData(**base)  # type: ignore[arg-type]


def test_handoff_names_task_scope_work_warnings_and_attempt() -> None:
    text = build_handoff(data())
    assert text.startswith("# Handoff for agent api\n")
    assert "Add pagination to /items.\nKeep the response shape." in text
    assert "- `src/api/**`" in text and "a comment" not in text
    assert "- Attempt: restart 2 of 3 allowed\n" in text
    assert "it stopped making progress" in text
    assert "- abc1234 add page parameter" in text and "- def5678 tests for paging" in text
    assert "- `src/api/items.py` +12 -3" in text
    assert "- `src/api/logo.png` binary (new, not committed)" in text
    assert "renamed from `src/api/old.py`" in text
    assert "- `docs/notes.md` +1 -0 (OUTSIDE SCOPE)" in text
    assert "DRIFT: `docs/notes.md`" in text
    assert "OVERLAP: `src/api/items.py` is also changed by ui" in text
    assert "refs/fleet/snapshots/api/20250101-000000-000000" in text
    # The pane's lines sit in one fenced block that their own text cannot close.
    block = text.split(f"{FENCE}\n", 1)[1]
    assert block.count(FENCE) == 1 and "running tests" in block


def test_handoff_with_nothing_done_and_past_the_cap() -> None:
    text = build_handoff(
        data(
            commits=[],
            files=[],
            uncommitted=[],
            drift=[],
            overlap={},
            pane_tail=[],
            attempt=4,
            snapshot_ref=None,
        )
    )
    assert "- none yet" in text and "- none: everything is committed" in text
    assert "## Warnings" not in text and FENCE not in text
    assert "past the limit: a person confirmed it" in text
