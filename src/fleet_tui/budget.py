"""Context budget: how much of an agent's context window its start takes, before it does anything.

The rule of thumb (task + the relevant source + the output under 60% of the window; agents degrade
as the context fills, they do not simply fail) is checked at `plan` time from what is known then:
the task text and the tracked files its scope matches, at ~4 characters a token. It is an
estimate: an agent reads less than its whole scope, and more than its task (its own system
prompt, tool definitions), so it is a warning, not a limit.
"""

from __future__ import annotations

from dataclasses import dataclass

CHARS_PER_TOKEN = 4
BUDGET_SHARE = 0.60  # of the window, for the start: the rest is the work and its output
BIGGEST_SHOWN = 3


def tokens(chars: int) -> int:
    return (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass(frozen=True)
class Budget:
    """One agent's estimated start against its preset's context window."""

    agent: str
    task_tokens: int
    scope_tokens: int
    files: int
    window: int | None  # tokens; None when the preset does not say
    biggest: tuple[tuple[str, int], ...]  # (path, tokens), largest first

    @property
    def total(self) -> int:
        return self.task_tokens + self.scope_tokens

    @property
    def share(self) -> float | None:
        return self.total / self.window if self.window else None

    @property
    def over(self) -> bool:
        return self.share is not None and self.share > BUDGET_SHARE

    def warning(self) -> str | None:
        if not self.over or self.share is None:
            return None
        names = ", ".join(f"{path} (~{count:,} tokens)" for path, count in self.biggest)
        return (
            f"{self.agent}: its task and scope take ~{self.total:,} tokens, {self.share:.0%} of a "
            f"{self.window:,}-token context window (keep it under {BUDGET_SHARE:.0%}); "
            f"the biggest files: {names}. Narrow the scope or split the task."
        )


def estimate(agent: str, task: str, sizes: dict[str, int], window: int | None) -> Budget:
    """`sizes`: bytes of each tracked file the agent's scope matches."""
    counted = sorted(((path, tokens(size)) for path, size in sizes.items()), key=lambda x: (-x[1], x[0]))
    return Budget(
        agent=agent,
        task_tokens=tokens(len(task)),
        scope_tokens=sum(count for _, count in counted),
        files=len(counted),
        window=window,
        biggest=tuple(counted[:BIGGEST_SHOWN]),
    )


def handoff_warning(agent: str, handoff: str, window: int | None) -> str | None:
    """A handoff that itself fills the window defeats a restart with a fresh context."""
    if not window:
        return None
    share = tokens(len(handoff)) / window
    if share <= BUDGET_SHARE:
        return None
    return (
        f"{agent}: the handoff is ~{tokens(len(handoff)):,} tokens, {share:.0%} of the "
        f"{window:,}-token window: the fresh agent starts nearly full"
    )
