"""Scope, drift and overlap maths: pure functions over plain data."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fleet_tui.models import FileChange, OverlapEntry
from fleet_tui.scope import (
    Scope,
    drift,
    mark_scope,
    overlap_for,
    overlaps,
    predicted_overlaps,
    touched_paths,
    unmatched_patterns,
)


def change(path: str, old: str | None = None) -> FileChange:
    return FileChange(path=path, added=1, removed=0, old_path=old)


SCOPE_CASES = [
    # `dir/**` takes everything below, at any depth
    (["src/**"], ["src/a.py", "src/pkg/deep/x.py"], ["srcx/a.py", "docs/src/a.py", "README.md"]),
    # a pattern without a slash matches at any level
    (["*.md"], ["README.md", "docs/guide.md", "a/b/c/NOTES.md"], ["README.md.bak", "src/a.py"]),
    # a leading slash anchors to the repository root
    (["/README.md"], ["README.md"], ["docs/README.md"]),
    # a trailing slash means a folder: everything in it, wherever it is
    (["docs/"], ["docs/guide.md", "docs/a/b.md"], ["docsx/a.md", "src/docs.py"]),
    (["build/"], ["build/x", "pkg/build/y"], ["building/x"]),
    # a slash in the middle anchors the pattern
    (["src/*.py"], ["src/a.py"], ["src/pkg/deep.py", "lib/src/a.py"]),
    (["src/**/test_*.py"], ["src/test_a.py", "src/x/y/test_b.py"], ["src/x/a_test.py", "tests/test_a.py"]),
    # negation carves a file out again; later patterns win
    (["src/**", "!src/secret.py"], ["src/a.py", "src/x/secret.py"], ["src/secret.py"]),
    # as in git, re-including a folder does not un-match the files `src/**` matches one by one
    (["src/**", "!src/gen/"], ["src/gen/other.py"], []),
    # comments and blank lines are ignored
    (["# a comment", "", "tests/**"], ["tests/t.py"], ["# a comment", "src/a.py"]),
    # character classes and single-character wildcards
    (["src/[ab].py", "docs/?.md"], ["src/a.py", "src/b.py", "docs/x.md"], ["src/c.py", "docs/xy.md"]),
]


# Where a scope and git part ways: git cannot re-include a file whose parent folder is excluded
# (`src/**` excludes the folder src/gen), so for git src/gen/other.py stays ignored. A scope is
# a list of files, not a directory walk: "all of src except src/gen" means what it says.
CARVED_OUT = (
    ["src/**", "!src/gen/**", "src/gen/keep.py"],
    ["src/a.py", "src/gen/keep.py"],
    ["src/gen/other.py"],
)


@pytest.mark.parametrize(("patterns", "inside", "outside"), [*SCOPE_CASES, CARVED_OUT])
def test_scope_has_gitignore_semantics(patterns: list[str], inside: list[str], outside: list[str]) -> None:
    scope = Scope(patterns)
    for path in inside:
        assert path in scope, f"{path} should be in {patterns}"
    for path in outside:
        assert path not in scope, f"{path} should not be in {patterns}"


@pytest.mark.parametrize(("patterns", "inside", "outside"), SCOPE_CASES)
def test_scope_agrees_with_git_check_ignore(
    patterns: list[str], inside: list[str], outside: list[str], tmp_path: Path
) -> None:
    """git itself is the oracle: a scope matches exactly what the same .gitignore would ignore."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("\n".join(patterns) + "\n", encoding="utf-8")
    paths = [*inside, *outside]
    for rel in paths:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n", encoding="utf-8")
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin", "-z"],
        cwd=tmp_path,
        input="\0".join(paths) + "\0",
        capture_output=True,
        text=True,
        check=False,
    )
    ignored = {p for p in result.stdout.split("\0") if p}
    scope = Scope(patterns)
    assert {p for p in paths if p in scope} == ignored


def test_mark_scope_and_drift() -> None:
    files = [change("src/a.py"), change("docs/x.md"), change("src/b.py", old="src/old/b.py")]
    marked = mark_scope(files, Scope(["src/**"]))
    assert [f.in_scope for f in marked] == [True, False, True]
    assert drift(marked) == ("docs/x.md",)


@pytest.mark.parametrize(
    ("new", "old"),
    [
        ("docs/moved.py", "src/a.py"),  # moved out of scope
        ("src/new.py", "docs/old.md"),  # moved in from someone else's files: that file is gone there
    ],
)
def test_a_rename_touching_an_out_of_scope_path_is_drift(new: str, old: str) -> None:
    marked = mark_scope([change(new, old=old)], Scope(["src/**"]))
    assert drift(marked) == (new,)
    assert not marked[0].in_scope


def test_touched_paths_include_both_sides_of_a_rename() -> None:
    assert touched_paths([change("b.py", old="a.py"), change("c.py")]) == {"a.py", "b.py", "c.py"}


def test_overlaps_between_agents() -> None:
    changed = {
        "api": [change("src/a.py"), change("src/shared.py")],
        "docs": [change("docs/x.md"), change("src/shared.py")],
        "web": [change("web/new.py", old="src/a.py")],  # a rename touches its old path too
        "solo": [change("solo.txt")],
    }
    entries = overlaps(changed)
    assert entries == (
        OverlapEntry(path="src/a.py", agents=("api", "web")),
        OverlapEntry(path="src/shared.py", agents=("api", "docs")),
    )
    assert overlap_for("api", entries) == {"src/a.py": ("web",), "src/shared.py": ("docs",)}
    assert overlap_for("docs", entries) == {"src/shared.py": ("api",)}
    assert overlap_for("solo", entries) == {}


def test_three_agents_on_one_file() -> None:
    entries = overlaps({n: [change("x")] for n in ("c", "a", "b")})
    assert entries == (OverlapEntry(path="x", agents=("a", "b", "c")),)
    assert overlap_for("b", entries) == {"x": ("a", "c")}


def test_no_overlap_with_oneself() -> None:
    assert overlaps({"api": [change("a"), change("b", old="a")]}) == ()


def test_predicted_overlaps_from_scopes_and_tracked_files() -> None:
    files = ["src/a.py", "src/api/x.py", "docs/g.md", "README.md", "tests/t.py"]
    scopes = {
        "api": Scope(["src/api/**", "tests/**"]),
        "core": Scope(["src/**", "!src/api/**"]),
        "docs": Scope(["docs/**", "*.md"]),
        "tests": Scope(["tests/**"]),
    }
    assert predicted_overlaps(scopes, files) == (OverlapEntry(path="tests/t.py", agents=("api", "tests")),)
    assert predicted_overlaps({"a": Scope(["src/**"])}, files) == ()


def test_unmatched_patterns_are_only_reported() -> None:
    files = ["src/a.py", "docs/g.md"]
    patterns = ["src/**", "new/**", "# comment", "", "!src/a.py", "*.rs"]
    assert unmatched_patterns(patterns, files) == ["new/**", "*.rs"]
