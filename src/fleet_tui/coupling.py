"""Coupling from history: agents whose scopes hold files that keep changing in the same commit.

Files that change together are joined (a shared type, a config, a route table): two agents on the
two sides of a joint collide at merge time even when their scopes do not overlap. Everything here
is pure and linear in the history read (commit sizes are capped), so `plan` can run it every time.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from fleet_tui.models import OverlapEntry
from fleet_tui.scope import Scope

HISTORY = 500  # commits read by default
MIN_TOGETHER = 5  # commits changing both scopes before a pair counts as coupled,
MIN_STRENGTH = 0.3  # and the share of their changes those are (below it: busy scopes meeting by chance)
MAX_COMMIT_FILES = 50  # bigger commits (reformats, renames of a tree) say nothing about joints
HUB_IMPORTERS = 10  # a file imported by this many others is a joint
SHOWN_FILE_PAIRS = 5

# Files whose change ripples through everything: a shared one is a joint whatever history says.
MANIFEST_NAMES = frozenset(
    {
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "requirements.txt",
        "package.json",
        "tsconfig.json",
        "go.mod",
        "go.sum",
        "Cargo.toml",
        "Gemfile",
        "pom.xml",
        "build.gradle",
        "Makefile",
        "Dockerfile",
    }
)
LOCK_SUFFIXES = (".lock", "-lock.json", "-lock.yaml", ".lockb")
MIGRATION_DIRS = frozenset({"migrations", "alembic", "migrate"})


@dataclass(frozen=True)
class FilePair:
    a: str  # a file of the pair's first agent
    b: str  # a file of the pair's second agent
    together: int


@dataclass(frozen=True)
class CoupledPair:
    agents: tuple[str, str]
    together: int  # commits that changed files of both scopes
    strength: float  # together / the average of the commits touching each scope (code-maat's "degree")
    files: tuple[FilePair, ...]  # the file pairs that changed together most
    related: bool  # one depends on the other already: they run one after another

    @property
    def fix(self) -> str:
        a, b = self.agents
        if self.related:
            return "already serialised by depends_on"
        top = self.files[0] if self.files else None
        joint = f"move {top.a} and {top.b} into one agent's scope" if top else "move the joint into one scope"
        return f'serialise them (depends_on = ["{a}"] in {b}), or {joint}'


@dataclass(frozen=True)
class Joint:
    path: str
    agents: tuple[str, ...]
    why: str  # "a manifest", "imported by 14 files"


@dataclass(frozen=True)
class Coupling:
    commits: int  # commits read
    skipped: int  # commits left out for changing more than MAX_COMMIT_FILES files
    pairs: tuple[CoupledPair, ...]
    joints: tuple[Joint, ...] = ()

    @property
    def unrelated(self) -> tuple[CoupledPair, ...]:
        return tuple(p for p in self.pairs if not p.related)


GLOB_CHARS = "*?[\\"


def _anchor(pattern: str) -> str | None:
    """The folder a scope pattern can only match below ("" anywhere), None for no positive match.

    Gitignore rules: a pattern with a slash before its end is anchored at the root, so nothing
    outside its literal leading folders can match it; one without (`*.py`, `README.md`) matches
    at any depth."""
    p = pattern.strip()
    if not p or p.startswith(("#", "!")):
        return None
    p = p.lstrip("/") if p.startswith("/") else p
    body = p.rstrip("/")
    if "/" not in body:
        return ""
    cut = min((i for i, c in enumerate(body) if c in GLOB_CHARS), default=len(body))
    literal = body[:cut]
    return literal.rsplit("/", 1)[0] if "/" in literal else ""


def owners(scopes: Mapping[str, Scope], paths: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each path and the agents whose scope matches it (paths no scope matches are left out).

    Only the scopes anchored at one of a path's folders (or anywhere) are asked, so thousands of
    agents with folder scopes cost about one match per path and agent that could own it."""
    order = {name: i for i, name in enumerate(scopes)}
    anywhere: set[str] = set()
    below: dict[str, set[str]] = defaultdict(set)
    for name, scope in scopes.items():
        for pattern in scope.patterns:
            anchor = _anchor(pattern)
            if anchor == "":
                anywhere.add(name)
            elif anchor is not None:
                below[anchor].add(name)
    found: dict[str, tuple[str, ...]] = {}
    for path in paths:
        candidates = set(anywhere)
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            candidates |= below.get("/".join(parts[:depth]), set())
        names = tuple(sorted((n for n in candidates if path in scopes[n]), key=order.__getitem__))
        if names:
            found[path] = names
    return found


def coupled_pairs(
    commits: Sequence[Sequence[str]],
    scopes: Mapping[str, Scope],
    related: Callable[[str, str], bool] = lambda a, b: False,
    *,
    min_together: int = MIN_TOGETHER,
    min_strength: float = MIN_STRENGTH,
    max_files: int = MAX_COMMIT_FILES,
) -> Coupling:
    """Pairs of agents whose files changed in at least `min_together` of the same commits, and in
    at least `min_strength` of their changes: two busy scopes meet often by chance alone.

    A file both scopes match is an overlap (reported as such), not coupling, so it is left out here.
    """
    kept = [c for c in commits if len(c) <= max_files]
    owner = owners(scopes, {p for c in kept for p in c})
    touched: Counter[str] = Counter()  # commits per agent
    together: Counter[tuple[str, str]] = Counter()
    file_pairs: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
    for commit in kept:
        mine: dict[str, list[str]] = defaultdict(list)
        for path in dict.fromkeys(commit):
            names = owner.get(path, ())
            if len(names) == 1:
                mine[names[0]].append(path)
        touched.update(mine.keys())
        agents = sorted(mine)
        for i, a in enumerate(agents):
            for b in agents[i + 1 :]:
                together[a, b] += 1
                counts = file_pairs[a, b]
                for fa in mine[a]:
                    for fb in mine[b]:
                        counts[fa, fb] += 1
    pairs = []
    for (a, b), count in together.items():
        strength = count / ((touched[a] + touched[b]) / 2)
        if count < min_together or strength < min_strength:
            continue
        top = sorted(file_pairs[a, b].items(), key=lambda kv: (-kv[1], kv[0]))[:SHOWN_FILE_PAIRS]
        pairs.append(
            CoupledPair(
                agents=(a, b),
                together=count,
                strength=strength,
                files=tuple(FilePair(fa, fb, n) for (fa, fb), n in top),
                related=related(a, b),
            )
        )
    pairs.sort(key=lambda p: (-p.together, p.agents))
    return Coupling(commits=len(commits), skipped=len(commits) - len(kept), pairs=tuple(pairs))


def is_manifest(path: str) -> bool:
    """Build manifests, lock files and migrations: a change to one ripples through everything."""
    pure = PurePosixPath(path)
    name = pure.name
    return (
        name in MANIFEST_NAMES
        or name.endswith(LOCK_SUFFIXES)
        or (name.startswith("requirements") and name.endswith(".txt"))
        or bool(MIGRATION_DIRS & set(pure.parts[:-1]))
    )


_PY_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w\s,()]+)|import\s+([\w.\s,]+))")
_JS_SPEC = re.compile(r"""(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]""")
_JS_SUFFIXES = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs")


def _module_keys(path: str) -> list[str]:
    """Names an import of this file could use: dotted suffixes for Python, the stem for JS/TS."""
    pure = PurePosixPath(path)
    if pure.suffix == ".py":
        parts = list(pure.with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        # Every dotted suffix (a src layout imports without "src."), but a bare last name ("utils")
        # would count the importers of every utils.py: two parts or more, unless there is one.
        return [".".join(parts[i:]) for i in range(len(parts)) if len(parts) - i >= min(2, len(parts))]
    if pure.suffix in _JS_SUFFIXES:
        stem = pure.stem if pure.stem != "index" else pure.parent.name
        return [f"js:{stem}"]
    return []


def importer_index(lines: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Module key -> the files importing it, from (path, import line) pairs."""
    index: dict[str, set[str]] = defaultdict(set)
    for path, line in lines:
        py = _PY_IMPORT.match(line)
        if py and path.endswith(".py"):
            if py.group(1):
                index[py.group(1)].add(path)
                for name in re.split(r"[\s,()]+", py.group(2)):
                    if name and name != "as":
                        index[f"{py.group(1)}.{name}"].add(path)
            else:
                for name in py.group(3).split(","):
                    index[name.split()[0] if name.split() else ""].add(path)
            continue
        for spec in _JS_SPEC.findall(line):
            stem = PurePosixPath(spec).name.split(".")[0]
            index[f"js:{stem}"].add(path)
    return index


def joints(
    overlaps: Iterable[OverlapEntry],
    index: Mapping[str, set[str]],
    *,
    hub_importers: int = HUB_IMPORTERS,
) -> tuple[Joint, ...]:
    """Files two scopes share that are manifests or that many other files import."""
    found = []
    for entry in overlaps:
        if is_manifest(entry.path):
            found.append(Joint(entry.path, entry.agents, "a manifest: every change to it ripples"))
            continue
        importers: set[str] = set()
        for key in _module_keys(entry.path):
            importers |= index.get(key, set())
        importers.discard(entry.path)
        if len(importers) >= hub_importers:
            found.append(Joint(entry.path, entry.agents, f"imported by {len(importers)} files"))
    return tuple(found)
