"""The texts of a review: the prompt a reviewer is given, and the verdict file it writes back
(its fixed form, and reading it into a `Verdict` of pass or fail with comments). Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

VERDICT_FILE = "verdict.md"


class Comment(BaseModel):
    """One review comment; `path` and `line` when the reviewer named them."""

    model_config = ConfigDict(frozen=True)

    text: str
    path: str | None = None
    line: int | None = None

    def render(self) -> str:
        where = f"{self.path}:{self.line}" if self.path and self.line else self.path or ""
        return f"{where}: {self.text}" if where else self.text


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    passed: bool
    comments: tuple[Comment, ...] = ()


VERDICT_HELP = """Write your verdict to {path} in exactly this form:

    verdict: pass          (or: verdict: fail)
    - src/module.py:42: what is wrong there and what to do instead
    - README.md: a comment about a file as a whole
    - a comment about the work as a whole

One comment per line, each starting with "- ". Name a file (and a line) wherever you can."""


_VERDICT_LINE = re.compile(r"^\s*verdict\s*:\s*(\w+)\s*$", re.IGNORECASE)


_WHERE = re.compile(r"^(?P<path>[^\s:]+\.[^\s:]+|[^\s:]*/[^\s:]+)(?::(?P<line>\d+))?:\s*(?P<text>.+)$")


class VerdictError(ValueError):
    """A verdict file that does not say pass or fail in the fixed format."""


def parse_verdict(text: str) -> Verdict:
    """Read a verdict file: a `verdict: pass|fail` line, then `- ` comment lines."""
    passed: bool | None = None
    comments: list[Comment] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found = _VERDICT_LINE.match(line)
        if found:
            word = found.group(1).lower()
            if word not in ("pass", "fail"):
                raise VerdictError(f"the verdict must be pass or fail, not {found.group(1)!r}")
            if passed is not None:
                raise VerdictError("the verdict file has more than one `verdict:` line")
            passed = word == "pass"
            continue
        if line.startswith(("- ", "* ")):
            comments.append(parse_comment(line[2:].strip()))
        elif comments:  # a comment that wrapped onto the next line
            last = comments[-1]
            comments[-1] = last.model_copy(update={"text": f"{last.text} {line}"})
    if passed is None:
        raise VerdictError("no `verdict: pass` or `verdict: fail` line")
    return Verdict(passed=passed, comments=tuple(comments))


def parse_comment(text: str) -> Comment:
    found = _WHERE.match(text)
    if not found:
        return Comment(text=text)
    line = found.group("line")
    number = int(line) if line else None
    return Comment(text=found.group("text").strip(), path=found.group("path"), line=number)


PROMPT_MAX = 96 * 1024  # bytes: Linux refuses any one command-line argument over 128 KiB


def review_prompt(
    *,
    doer: str,
    task: str,
    scope: Sequence[str],
    done_when: Sequence[str],
    base: str,
    branch: str,
    diff: str,
    verdict_path: str,
    instructions: str = "",
    diff_limit: int = 60_000,
) -> str:
    """The reviewer's prompt: what the doer was asked, its criteria, its diff, where the verdict goes."""
    lines = [
        f"# Review of agent {doer}",
        "",
        f"You are a reviewer. Another agent ({doer}) did the task below on branch `{branch}`; this "
        f"worktree is at its last commit. Check the work against the task and the acceptance "
        "criteria. Do not fix anything yourself: your changes are never merged. Your verdict decides "
        "whether the work is ready to merge or goes back to the agent with your comments.",
        "",
        "## The task",
        "",
        task.strip(),
        "",
        "## Scope (the files it was meant to change)",
        "",
        *[f"- `{p}`" for p in scope if p.strip() and not p.strip().startswith("#")],
    ]
    if done_when:
        lines += ["", "## Acceptance criteria (done when)", "", *[f"- {c}" for c in done_when]]
    if instructions.strip():
        lines += ["", "## Review instructions", "", instructions.strip()]
    verdict = ["## Your verdict", "", VERDICT_HELP.format(path=verdict_path), ""]
    # The whole prompt must fit in one command-line argument (the claude and codex presets pass it
    # as one): the diff gets what room the rest leaves, counted in bytes, not characters.
    room = PROMPT_MAX - len("\n".join(lines + verdict).encode()) - 200
    cut = "\n[... diff cut: see `git diff` ...]"
    shown = diff if len(diff) <= diff_limit else diff[:diff_limit] + cut
    if len(shown.encode()) > room:
        shown = shown.encode()[: max(0, room)].decode("utf-8", "ignore") + cut
    lines += ["", f"## The diff against `{base}`", "", "~~~~diff", shown.rstrip(), "~~~~", ""]
    return "\n".join(lines + verdict)
