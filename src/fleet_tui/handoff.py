"""The handoff document: what a fresh agent process needs to continue where the last one stopped.

Pure: builds markdown from plain data. The engine gathers the data (git, tmux) and writes the file
into `.fleet/agents/<name>/handoff.md`, outside the agent's worktree and diff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fleet_tui.models import FileChange
from fleet_tui.pipeline import RetryContext

FENCE = "~~~~"  # tildes, so backticks in pane text cannot end the block


@dataclass(frozen=True)
class HandoffData:
    agent: str
    task: str
    scope: tuple[str, ...]
    base: str
    branch: str
    worktree: str
    attempt: int  # which restart this is: 1 for the first restart
    max_restarts: int
    reason: str
    commits: Sequence[tuple[str, str]] = ()  # (short hash, subject), newest first
    files: Sequence[FileChange] = ()  # everything changed against the merge-base with base
    uncommitted: Sequence[str] = ()
    drift: Sequence[str] = ()
    overlap: dict[str, tuple[str, ...]] = field(default_factory=dict)  # path -> other agents
    pane_tail: Sequence[str] = ()
    snapshot_ref: str | None = None
    status: str = ""
    retry: RetryContext = field(default_factory=RetryContext)  # what the checks found, the note


def _count(change: FileChange) -> str:
    if change.binary:
        return "binary"
    return f"+{change.added or 0} -{change.removed or 0}"


def _file_line(change: FileChange) -> str:
    notes = []
    if change.old_path:
        notes.append(f"renamed from `{change.old_path}`")
    if change.untracked:
        notes.append("new, not committed")
    if not change.in_scope:
        notes.append("OUTSIDE SCOPE")
    suffix = f" ({'; '.join(notes)})" if notes else ""
    return f"- `{change.path}` {_count(change)}{suffix}"


def build_handoff(data: HandoffData) -> str:
    """The handoff markdown for one restart."""
    lines: list[str] = [
        f"# Handoff for agent {data.agent}",
        "",
        f"You are continuing work that an earlier agent process started in this worktree "
        f"(`{data.worktree}`, branch `{data.branch}`, based on `{data.base}`). "
        "The files are exactly as it left them: read them before changing anything, "
        "and do not redo what is already done.",
        "",
        "## Why you were restarted",
        "",
        f"- Reason: {data.reason}",
        f"- Attempt: restart {data.attempt} of {data.max_restarts} allowed"
        + (" (past the limit: a person confirmed it)" if data.attempt > data.max_restarts else ""),
    ]
    if data.status:
        lines.append(f"- Status of the previous process: {data.status}")
    if data.snapshot_ref:
        lines.append(
            f"- Uncommitted work was saved in git ref `{data.snapshot_ref}` (it is still in the files too)"
        )
    retry = data.retry
    if retry.round:
        lines.append(f"- Automatic round {retry.round} of {retry.max_rounds}: after that a person decides")
    if retry.note:
        lines += ["", "## A note from the person who runs this fleet", "", retry.note]
    lines += _what_to_fix(data)
    lines += ["", "## Task", "", data.task.strip(), "", "## Scope", ""]
    lines.append("Change only files matching these patterns:")
    lines += [f"- `{p}`" for p in data.scope if p.strip() and not p.strip().startswith("#")]

    lines += ["", "## Done so far", "", f"### Commits since `{data.base}`", ""]
    lines += [f"- {h} {s}" for h, s in data.commits] or ["- none yet"]
    lines += ["", "### Files changed (committed and uncommitted)", ""]
    lines += [_file_line(f) for f in data.files] or ["- none"]
    lines += ["", "### Uncommitted files", ""]
    lines += [f"- `{p}`" for p in data.uncommitted] or ["- none: everything is committed"]

    if data.drift or data.overlap:
        lines += ["", "## Warnings", ""]
        for path in data.drift:
            lines.append(f"- DRIFT: `{path}` is outside your scope; undo it unless the task needs it")
        for path, others in sorted(data.overlap.items()):
            lines.append(
                f"- OVERLAP: `{path}` is also changed by {', '.join(others)}: expect a merge conflict"
            )

    if data.pane_tail:
        lines += ["", "## Last lines of the previous process's screen", "", FENCE]
        lines += [ln.replace(FENCE, "~~~") for ln in data.pane_tail]
        lines.append(FENCE)
    lines += ["", "Continue the task from here."]
    return "\n".join(lines) + "\n"


def _what_to_fix(data: HandoffData) -> list[str]:
    """The checks' findings as instructions: the failing verify output, the reviewer's comments,
    drift to undo, conflicts with base to resolve. Empty when there is nothing to fix."""
    retry = data.retry
    lines: list[str] = []
    if retry.verify_failure:
        lines += ["", f"### `{retry.verify_command or 'verify'}` failed on the merge with `{data.base}`", ""]
        lines += [
            f"It was run on your branch merged with `{data.base}`'s latest commit. The failing part:",
            "",
            FENCE,
            *[ln.replace(FENCE, "~~~") for ln in retry.verify_failure.splitlines()],
            FENCE,
        ]
    if retry.review_comments:
        lines += ["", "### The reviewer's comments", ""]
        lines += [f"- {c.render()}" for c in retry.review_comments]
        lines += ["", "Address every comment, then commit."]
    if retry.drift:
        lines += ["", "### Changes outside your scope", ""]
        lines += [
            "Undo these changes, or move them inside your scope; they will not be merged as they are:",
            "",
            *[f"- `{p}`" for p in retry.drift],
        ]
    if retry.conflicts:
        lines += ["", f"### Conflicts with `{data.base}`", ""]
        lines += [
            f"`{data.base}` has moved since you started, and these files conflict with it:",
            "",
            *[f"- `{p}`" for p in retry.conflicts],
            "",
            f"Merge `{data.base}` into your branch (`git merge {data.base}`), resolve the conflicts "
            "keeping both sides' intent, run the tests, and commit the merge. Do not rebase.",
        ]
    return ["", "## What to fix", *lines] if lines else []
