"""The handoff document: what a fresh agent process needs to continue where the last one stopped.

Pure: builds markdown from plain data. The engine gathers the data (git, tmux) and writes the file
into `.fleet/agents/<name>/handoff.md`, outside the agent's worktree and diff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fleet_tui.models import FileChange
from fleet_tui.pipeline_rules import RetryContext

FENCE = "~~~~"  # tildes, so backticks in pane text cannot end the block
# The codex and gemini presets (and your own `"$(cat {handoff_file})"`) pass the handoff as one
# command-line argument (claude reads it from the file), and Linux
# refuses any single argument over 128 KiB ("Argument list too long"): the handoff stays well
# below that, whatever the agent did. Long lists are summarised; the drift is listed in full.
MAX_BYTES = 96 * 1024
LISTED = 150  # files, commits, overlaps listed one by one before the rest is summarised


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
    lines += _listed([f"- {h} {s}" for h, s in data.commits], "commits", f"git log {data.base}..HEAD")
    lines += _none_if_empty(lines, "- none yet")
    lines += ["", "### Files changed (committed and uncommitted)", ""]
    lines += _summarised([f.path for f in data.files], [_file_line(f) for f in data.files])
    lines += _none_if_empty(lines, "- none")
    lines += ["", "### Uncommitted files", ""]
    lines += _summarised(list(data.uncommitted), [f"- `{p}`" for p in data.uncommitted])
    lines += _none_if_empty(lines, "- none: everything is committed")

    if data.drift or data.overlap:
        lines += ["", "## Warnings", ""]
        for path in data.drift:
            lines.append(f"- DRIFT: `{path}` is outside your scope; undo it unless the task needs it")
        overlaps = [
            f"- OVERLAP: `{path}` is also changed by {', '.join(others)}: expect a merge conflict"
            for path, others in sorted(data.overlap.items())
        ]
        lines += _listed(overlaps, "overlapping files", "fleet-tui status")

    if data.pane_tail:
        lines += ["", "## Last lines of the previous process's screen", "", FENCE]
        lines += [ln.replace(FENCE, "~~~") for ln in data.pane_tail]
        lines.append(FENCE)
    lines += ["", "Continue the task from here."]
    return _bounded("\n".join(lines) + "\n")


def _none_if_empty(lines: list[str], none: str) -> list[str]:
    """`none` when the section just started (its heading and blank line are the last lines)."""
    return [none] if lines[-1] == "" and lines[-2].startswith("#") else []


def _listed(items: list[str], what: str, command: str) -> list[str]:
    if len(items) <= LISTED:
        return items
    return [*items[:LISTED], f"- ... and {len(items) - LISTED} more {what} (see `{command}`)"]


def _summarised(paths: list[str], items: list[str]) -> list[str]:
    """Up to LISTED lines one by one; past that, the first ones and a count per folder."""
    if len(items) <= LISTED:
        return items
    folders: dict[str, int] = {}
    for path in paths:
        parts = path.split("/")
        folder = (
            "/".join(parts[:2]) + "/" if len(parts) > 2 else (parts[0] + "/" if len(parts) > 1 else "(top)")
        )
        folders[folder] = folders.get(folder, 0) + 1
    counts = sorted(folders.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = [f"- `{folder}`: {n} files" for folder, n in counts[:LISTED]]
    if len(counts) > LISTED:
        shown.append(f"- ... and {len(counts) - LISTED} more folders")
    return [
        f"{len(items)} files; by folder:",
        "",
        *shown,
        "",
        f"The first {LISTED} (all of them: `git status` and `git diff --stat` in the worktree):",
        "",
        *items[:LISTED],
    ]


def _bounded(text: str) -> str:
    """At most MAX_BYTES (UTF-8), cut at a line, saying so: the last guard for a huge task or drift."""
    data = text.encode("utf-8")
    if len(data) <= MAX_BYTES:
        return text
    note = "\n\n(The handoff was cut here to fit on a command line: read the files and `git status`.)\n"
    cut = data[: MAX_BYTES - len(note.encode())].decode("utf-8", "ignore")
    return cut[: cut.rfind("\n") + 1 or len(cut)] + note


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
