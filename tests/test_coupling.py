"""Coupling from history: real repositories with a made-up history, and the counting on its own."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from click.testing import CliRunner, Result
from conftest import git, write_files
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet_tui.adapters import git as gitad
from fleet_tui.cli import cli
from fleet_tui.coupling import coupled_pairs, importer_index, is_manifest, joints, owners
from fleet_tui.models import OverlapEntry
from fleet_tui.scope import Scope

FLEET = """
[[agent]]
name = "left"
task = "t"
scope = ["a.py", "left/**"]
preset = "shell"

[[agent]]
name = "right"
task = "t"
scope = ["b.py", "right/**"]
preset = "shell"
{depends}
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def commit(root: Path, files: dict[str, str], message: str) -> None:
    write_files(root, dict(files))
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def coupled_history(root: Path, together: int = 20) -> None:
    """a.py and b.py change together `together` times; other commits touch one side or neither."""
    for i in range(together):
        commit(root, {"a.py": f"A = {i}\n", "b.py": f"B = {i}\n"}, f"a and b {i}")
        if i % 3 == 0:
            commit(root, {"a.py": f"A = {i}  # alone\n"}, f"a alone {i}")
            commit(root, {"other.py": f"O = {i}\n"}, f"elsewhere {i}")
    # One sweeping commit touches both sides too, but it is too large to say anything about joints.
    commit(root, {f"sweep/f{n}.py": "x\n" for n in range(60)} | {"a.py": "A\n", "b.py": "B\n"}, "sweep")


def test_commit_files_reads_each_commit_in_one_log(repo: Path) -> None:
    commit(repo, {"a.py": "1\n", "b c.py": "1\n"}, "two files, one with a space")
    commit(repo, {"a.py": "2\n"}, "one file")
    assert gitad.commit_files(repo, "main", 2) == [("a.py",), ("a.py", "b c.py")]
    assert len(gitad.commit_files(repo, "main", 100)) == 3  # with the initial commit
    assert gitad.commit_files(repo, "main", 0) == []


def test_plan_reports_the_coupled_pair_and_strict_fails(repo: Path) -> None:
    coupled_history(repo)
    (repo / "fleet.toml").write_text(FLEET.format(depends=""), encoding="utf-8")
    result = run("plan", "-C", str(repo))
    assert result.exit_code == 0, result.output
    text = result.output
    assert "left + right: 20 commits together" in text  # the sweep is not counted
    assert "a.py + b.py: 20x" in text
    assert "no dependency between them" in text
    assert 'fix: serialise them (depends_on = ["left"] in right)' in text
    assert "1 of over 50 files left out" in text
    assert "no predicted overlaps" in text  # coupling is not an overlap: no file is in both scopes

    strict = run("plan", "--strict", "-C", str(repo))
    assert strict.exit_code == 1
    assert "scopes are coupled between agents that do not depend on each other" in strict.output

    # A higher threshold than the history shows: not coupled, strict passes.
    assert run("plan", "--strict", "--coupling-min", "21", "-C", str(repo)).exit_code == 0
    # Reading less history sees fewer joint commits.
    short = run("plan", "--history", "10", "-C", str(repo))
    assert "left + right" in short.output and "20 commits" not in short.output


def test_serialised_agents_pass_strict(repo: Path) -> None:
    coupled_history(repo)
    (repo / "fleet.toml").write_text(FLEET.format(depends='depends_on = ["left"]'), encoding="utf-8")
    strict = run("plan", "--strict", "-C", str(repo))
    assert strict.exit_code == 0, strict.output
    assert "already serialised by depends_on" in strict.output


def test_plan_markdown_lists_agents_and_predictions(repo: Path) -> None:
    coupled_history(repo)
    (repo / "fleet.toml").write_text(FLEET.format(depends=""), encoding="utf-8")
    result = run("plan", "--markdown", "-C", str(repo))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "| agent | branch | worktree | scope | depends on | predicted | status |" in lines
    left = next(line for line in lines if line.startswith("| **left**"))
    assert "`fleet/left`" in left and "`a.py`, `left/**`" in left and "coupled right (20x)" in left
    assert any(line.startswith("- coupled left + right: changed together in 20 commits") for line in lines)


def test_shared_manifest_and_hub_are_joints(repo: Path) -> None:
    files = {f"src/use{n}.py": "from src.core.types import Thing\n" for n in range(12)}
    files |= {"src/core/types.py": "class Thing: ...\n", "src/core/lonely.py": "X = 1\n"}
    files |= {"pyproject.toml": "[project]\nname = 'x'\n"}
    commit(repo, files, "a hub and a manifest")
    (repo / "fleet.toml").write_text(
        '[[agent]]\nname = "one"\ntask = "t"\nscope = ["src/core/**", "pyproject.toml"]\npreset = "shell"\n'
        '[[agent]]\nname = "two"\ntask = "t"\nscope = ["src/core/**", "*.toml"]\npreset = "shell"\n',
        encoding="utf-8",
    )
    result = run("plan", "-C", str(repo))
    assert result.exit_code == 0
    assert "pyproject.toml is in the scopes of one, two and is a manifest" in " ".join(result.output.split())
    assert "src/core/types.py is in the scopes of one, two and is imported by 12 files" in " ".join(
        result.output.split()
    )
    assert "src/core/lonely.py is in" not in result.output  # shared, but nothing imports it


def test_importers_and_manifests() -> None:
    index = importer_index(
        [
            ("app/a.py", "from pkg.models import User"),
            ("app/b.py", "import pkg.models as m"),
            ("app/c.py", "from pkg import models"),
            ("web/x.ts", "import { User } from '../lib/models'"),
            ("web/y.js", "const m = require('./models.js')"),
        ]
    )
    entry = OverlapEntry(path="src/pkg/models.py", agents=("a", "b"))
    assert joints([entry], index, hub_importers=3)[0].why == "imported by 3 files"
    assert joints([entry], index, hub_importers=4) == ()
    ts = OverlapEntry(path="web/lib/models.ts", agents=("a", "b"))
    assert joints([ts], index, hub_importers=2)[0].why == "imported by 2 files"
    assert all(
        map(is_manifest, ["package.json", "uv.lock", "web/package-lock.json", "db/migrations/001.sql"])
    )
    assert not any(map(is_manifest, ["src/app.py", "docs/lock.md"]))


def test_overlapping_files_are_not_coupling() -> None:
    scopes = {"a": Scope(["x.py", "shared.py"]), "b": Scope(["y.py", "shared.py"])}
    result = coupled_pairs([("shared.py", "x.py")] * 9 + [("x.py", "y.py")] * 5, scopes, min_together=5)
    assert [(p.agents, p.together) for p in result.pairs] == [(("a", "b"), 5)]
    assert result.pairs[0].strength == 5 / ((14 + 5) / 2)  # a changed in 14 commits, b in 5
    # The same five joint commits among many more of a's: a busy scope meeting b by chance.
    busy = coupled_pairs([("x.py",)] * 40 + [("x.py", "y.py")] * 5, scopes, min_together=5)
    assert busy.pairs == ()


names = st.sampled_from(["a.py", "b.py", "c.py", "d/e.py", "d/f.py", "g.md"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(names, min_size=1, max_size=6), max_size=40), st.integers(1, 4))
def test_counts_match_a_brute_force_count(commits: list[list[str]], minimum: int) -> None:
    scopes = {"p": Scope(["a.py", "d/**"]), "q": Scope(["b.py", "d/f.py"]), "r": Scope(["c.py"])}
    result = coupled_pairs([tuple(c) for c in commits], scopes, min_together=minimum)
    expected = {}
    for x, y in combinations(sorted(scopes), 2):
        # A commit couples x and y when each changed a file that only its own scope holds.
        def only(name: str, path: str) -> bool:
            return path in scopes[name] and sum(path in s for s in scopes.values()) == 1

        n = sum(1 for c in commits if any(only(x, p) for p in c) and any(only(y, p) for p in c))
        changes = [sum(1 for c in commits if any(only(name, p) for p in c)) for name in (x, y)]
        if n >= minimum and n / (sum(changes) / 2) >= 0.3:
            expected[x, y] = n
    assert {p.agents: p.together for p in result.pairs} == expected


patterns = st.sampled_from(
    ["*.py", "README.md", "src/**", "src/api/*.py", "docs/", "/a/b/**", "a/**/c.py", "!src/api/x.py",
     "**/util.py", "tests/test_*.py", "src/a?i/**", "a/b", "src/[ab]*.py", "/x.md", "docs/*.md"]
)  # fmt: skip
paths = st.builds(
    "/".join,
    st.lists(
        st.sampled_from(["src", "api", "a", "b", "docs", "tests", "c.py", "util.py", "x.md"]),
        min_size=1,
        max_size=4,
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(patterns, min_size=1, max_size=3), min_size=1, max_size=5), st.lists(paths, max_size=30)
)
def test_owners_index_asks_every_scope_that_could_match(scopes: list[list[str]], files: list[str]) -> None:
    compiled = {f"s{i}": Scope(p) for i, p in enumerate(scopes)}
    brute = {f: tuple(n for n, s in compiled.items() if f in s) for f in files}
    assert owners(compiled, files) == {f: names for f, names in brute.items() if names}
