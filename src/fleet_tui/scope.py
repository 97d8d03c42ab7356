"""Scope, drift and overlap: which files belong to whom, and who collides with whom."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pathspec

from fleet_tui.models import FileChange, OverlapEntry
from fleet_tui.spec import compile_scope

MATCHES_KEPT = 100_000  # paths whose answer a scope remembers before it starts afresh


class Scope:
    """An agent's gitignore-style scope, compiled once; each path's answer is remembered (a
    worktree is re-read often, mostly with the same files: tens of thousands, at worst)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._spec: pathspec.PathSpec[Any] = compile_scope(list(self.patterns))
        self._matches: dict[str, bool] = {}

    def __contains__(self, path: str) -> bool:
        known = self._matches.get(path)
        if known is None:
            if len(self._matches) >= MATCHES_KEPT:
                self._matches.clear()
            known = self._matches[path] = bool(self._spec.match_file(path))
        return known


def mark_scope(files: Iterable[FileChange], scope: Scope) -> tuple[FileChange, ...]:
    """Each file with `in_scope` set. A rename changes both its paths (the old one disappears), so
    it is in scope only when both are: moving a file out of someone else's folder is drift."""
    marked = []
    for f in files:
        inside = f.path in scope and (f.old_path is None or f.old_path in scope)
        marked.append(f if f.in_scope == inside else f.model_copy(update={"in_scope": inside}))
    return tuple(marked)


def drift(files: Iterable[FileChange]) -> tuple[str, ...]:
    return tuple(f.path for f in files if not f.in_scope)


def touched_paths(files: Iterable[FileChange]) -> set[str]:
    """Paths an agent touches: a rename touches both its old and its new path."""
    paths: set[str] = set()
    for f in files:
        paths.add(f.path)
        if f.old_path:
            paths.add(f.old_path)
    return paths


def overlaps(changed: Mapping[str, Iterable[FileChange]]) -> tuple[OverlapEntry, ...]:
    """Files changed by two or more agents, sorted by path."""
    by_path: dict[str, list[str]] = defaultdict(list)
    for agent, files in changed.items():
        for path in touched_paths(files):
            by_path[path].append(agent)
    return tuple(
        OverlapEntry(path=path, agents=tuple(sorted(agents)))
        for path, agents in sorted(by_path.items())
        if len(agents) > 1
    )


def overlap_for(agent: str, entries: Iterable[OverlapEntry]) -> dict[str, tuple[str, ...]]:
    """For one agent: each overlapping file and the other agents that touch it."""
    return {e.path: tuple(a for a in e.agents if a != agent) for e in entries if agent in e.agents}


def predicted_overlaps(scopes: Mapping[str, Scope], files: Iterable[str]) -> tuple[OverlapEntry, ...]:
    """Tracked files matched by two or more agents' scopes: tomorrow's merge conflicts."""
    entries = []
    for path in sorted(files):
        owners = tuple(name for name, scope in scopes.items() if path in scope)
        if len(owners) > 1:
            entries.append(OverlapEntry(path=path, agents=owners))
    return tuple(entries)


def unmatched_patterns(patterns: Iterable[str], files: list[str]) -> list[str]:
    """Scope patterns that match no tracked file (a warning: the agent may create them)."""
    result = []
    for pattern in patterns:
        if not pattern.strip() or pattern.strip().startswith(("#", "!")):
            continue
        spec = compile_scope([pattern])
        if not any(spec.match_file(f) for f in files):
            result.append(pattern)
    return result
