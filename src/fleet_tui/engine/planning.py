"""Plan readings that need git: coupling from the base branch's history, imports of shared files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from fleet_tui.adapters import git
from fleet_tui.coupling import (
    HISTORY,
    MAX_COMMIT_FILES,
    MIN_TOGETHER,
    Coupling,
    coupled_pairs,
    importer_index,
    joints,
)
from fleet_tui.engine.fleet import Fleet, Plan, dependency_relation

SOURCE_SUFFIXES = (".py", ".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs")


def related_by_dependency(fleet: Fleet) -> Callable[[str, str], bool]:
    """Does one agent (transitively) depend on the other? Asked only for the pairs found coupled."""
    return dependency_relation(fleet.spec)


def read_coupling(
    fleet: Fleet,
    plan: Plan,
    *,
    history: int = HISTORY,
    min_together: int = MIN_TOGETHER,
    max_files: int = MAX_COMMIT_FILES,
) -> Coupling:
    """Coupled agent pairs from the last `history` commits of base (one `git log`), and the joints
    among the plan's predicted overlaps (one `git grep` for imports, only when a shared file is code)."""
    commits = git.commit_files(fleet.root, fleet.base, history)
    result = coupled_pairs(
        commits,
        fleet.doer_scopes,
        related_by_dependency(fleet),
        min_together=min_together,
        max_files=max_files,
    )
    code = any(e.path.endswith(SOURCE_SUFFIXES) for e in plan.overlaps)
    index = importer_index(git.import_lines(fleet.root, fleet.base)) if code else {}
    return replace(result, joints=joints(plan.overlaps, index))
