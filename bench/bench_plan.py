"""Benchmark of `fleet-tui plan` on long dependency chains (a script, not a test).

    .venv/bin/python bench/bench_plan.py --agents 100 1000 5000

For each N it writes a fleet file of N agents in one chain (each depends on the one before it),
every scope covering the same folder of a small repository, so every tracked file there is a
predicted overlap of all N agents: the worst case for the "do overlapping agents depend on each
other" question. It times reading the fleet file (validation, cycle check) and the plan.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fleet_tui.engine.fleet import Fleet


def make_repo(root: Path, files: int) -> None:
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    (root / "src").mkdir()
    for i in range(files):
        (root / "src" / f"f{i}.py").write_text(f"V = {i}\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    who = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", *who, "commit", "-q", "-m", "init"], cwd=root, check=True)


def fleet_text(agents: int) -> str:
    lines = ['[fleet]\nsocket = "fleet-bench-plan"\n']
    for i in range(agents):
        lines.append(f'[[agent]]\nname = "a{i}"\ntask = "t"\nscope = ["src/**"]\ncommand = "true"')
        if i:
            lines.append(f'depends_on = ["a{i - 1}"]')
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        make_repo(repo, args.files)
        for n in args.agents:
            (repo / "fleet.toml").write_text(fleet_text(n), encoding="utf-8")
            start = time.perf_counter()
            fleet = Fleet.open(repo)
            opened = time.perf_counter()
            plan = fleet.plan()
            done = time.perf_counter()
            print(
                f"{n:>6} agents: open {opened - start:6.2f} s  plan {done - opened:6.2f} s  "
                f"({len(plan.overlaps)} overlapping files, {len(plan.unrelated_overlaps)} unrelated)"
            )


if __name__ == "__main__":
    main()
