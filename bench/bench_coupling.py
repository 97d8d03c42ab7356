#!/usr/bin/env python3
"""How long `fleet-tui plan` takes on a large history: coupling from 5,000 commits on 2,000 files.

Builds a throwaway repository with `git fast-import` (seconds, not the minutes of 5,000 `git commit`s):
2,000 files in 40 folders, commits of 1 to 8 files, with a few folders that change together (the
joints). A fleet of agents takes one or more folders each. Then times the plan's parts: the one
`git log --name-only`, the counting, and the whole `plan` command (scope overlaps included).

    .venv/bin/python bench/bench_coupling.py [--commits 5000] [--files 2000] [--agents 20] [--history 500]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from fleet_tui.adapters import git
from fleet_tui.cli import cli
from fleet_tui.coupling import coupled_pairs
from fleet_tui.engine.fleet import Fleet

FOLDERS = 40


def fast_import(root: Path, commits: int, files: int, seed: int) -> None:
    """A linear history on main: the first commit adds every file, the rest change a few each."""
    rng = random.Random(seed)
    paths = [f"pkg{n % FOLDERS:02d}/mod{n:04d}.py" for n in range(files)]
    by_folder = [[p for p in paths if p.startswith(f"pkg{f:02d}/")] for f in range(FOLDERS)]
    # Folders that change together, each pair held by two agents (an agent holds two neighbours).
    joints = [(f, (f + 2) % FOLDERS) for f in range(0, FOLDERS, 8)]
    out: list[bytes] = []

    def blob(text: str) -> bytes:
        data = text.encode()
        return b"data %d\n%s\n" % (len(data), data)

    stamp = 1_700_000_000
    for i in range(commits):
        if i == 0:
            changed = paths
        elif rng.random() < 0.3:
            a, b = rng.choice(joints)
            changed = [rng.choice(by_folder[a]), rng.choice(by_folder[b])]
        else:
            changed = rng.sample(paths, rng.randint(1, 8))
        out.append(b"commit refs/heads/main\n")
        out.append(b"committer Bench <bench@example.com> %d +0000\n" % (stamp + i))
        out.append(blob(f"commit {i}"))  # each commit follows the branch's last one in the stream
        for path in changed:
            out.append(b"M 100644 inline %s\n" % path.encode())
            out.append(blob(f"# {path} at {i}\nVALUE = {i}\n"))
        out.append(b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(out), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)


def write_fleet(root: Path, agents: int) -> None:
    lines = []
    for n in range(agents):
        folders = [f"pkg{f:02d}/**" for f in range(n * FOLDERS // agents, (n + 1) * FOLDERS // agents)]
        lines += [
            "[[agent]]",
            f'name = "a{n:03d}"',
            'task = "t"',
            "scope = [" + ", ".join(f'"{f}"' for f in folders) + "]",
            'preset = "shell"',
            "",
        ]
    (root / "fleet.toml").write_text("\n".join(lines), encoding="utf-8")


def best(fn, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--history", type=int, default=500)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fleet-bench-plan-"))
    try:
        root = tmp / "repo"
        root.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
        start = time.perf_counter()
        fast_import(root, args.commits, args.files, args.seed)
        built = time.perf_counter() - start
        write_fleet(root, args.agents)
        fleet = Fleet.open(root)
        print(f"repository: {args.commits} commits, {args.files} files, {args.agents} agents ({built:.1f}s)")
        for history in sorted({args.history, args.commits}):
            log = best(lambda h=history: git.commit_files(root, "main", h))
            commits = git.commit_files(root, "main", history)
            count = best(lambda c=commits: coupled_pairs(c, fleet.scopes))
            pairs = len(coupled_pairs(commits, fleet.scopes).pairs)
            print(
                f"  history {history:>5}: git log {log * 1000:7.1f} ms, counting {count * 1000:7.1f} ms, "
                f"{pairs} coupled pairs"
            )
        whole = best(
            lambda: CliRunner().invoke(cli, ["plan", "-C", str(root), "--history", str(args.history)]), 3
        )
        print(f"  fleet-tui plan (--history {args.history}), whole command: {whole * 1000:.0f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
