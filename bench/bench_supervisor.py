"""Benchmark of the supervisor's idle cost (a script, not a test).

    .venv/bin/python bench/bench_supervisor.py --agents 10 50 --window 30 --json

For each fleet size N it makes a git repository of 500 tracked files, brings up N scripted fake
agents (script: `idle`; `--untracked M` puts M untracked files in the first one's worktree) on a
tmux socket of its own, starts the real supervisor process the way `fleet-tui up` does, lets it
settle, then reads from /proc over a quiet window of `--window` seconds: the supervisor's own CPU
(utime + stime) plus what it reaped (cutime + cstime: the git and tmux clients it ran), and the
tmux server's CPU in the same window. It also reports how many snapshots it wrote in the window (an
idle fleet should write none) and its RSS.

Everything lives in a temporary folder and a uniquely named tmux socket, both removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from fleet_tui.engine import actions, supervisor
from fleet_tui.engine.fleet import Fleet

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(own CPU, reaped children's CPU) of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime) / TICKS, (cutime + cstime) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_repo(root: Path, files: int) -> None:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for i in range(files):
        path = root / f"pkg{i % 20}" / f"mod{i}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"VALUE = {i}\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "-c", "user.name=bench", "-c", "user.email=b@example.com", "commit", "-qm", "initial")


def add_untracked(worktree: Path, count: int) -> None:
    """`count` untracked files in one worktree (a build's output, a vendored tree nobody ignored)."""
    for i in range(count):
        path = worktree / "pkg0" / "generated" / f"d{i // 500}" / f"gen{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{i}\n", encoding="utf-8")


def measure(agents: int, window: float, settle: float, untracked: int = 0) -> dict[str, float | int]:
    tmp = Path(tempfile.mkdtemp(prefix="fleet-bench-sup-"))
    socket = f"fleet-bench-{secrets.token_hex(3)}"
    root = tmp / "repo"
    try:
        make_repo(root, 500)
        script = tmp / "idle.txt"
        script.write_text("idle\n", encoding="utf-8")
        lines = ["[fleet]", f'socket = "{socket}"', "panes_per_window = 10", "notify = false"]
        for i in range(agents):
            lines += ["[[agent]]", f'name = "a{i}"', f'task = "task {i}"', f'scope = ["pkg{i % 20}/**"]']
            lines.append(f'command = "fleet-fake-agent --script {script} --prompt-file {{prompt_file}}"')
        fleet_file = tmp / "fleet.toml"
        fleet_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        fleet = Fleet.open(root, fleet_file)
        actions.up(fleet)
        if untracked:
            add_untracked(fleet.layout.worktree("a0"), untracked)
        started = supervisor.start(fleet)
        assert started.pid is not None
        pid = started.pid
        server = int(subprocess.run(
            ["tmux", "-L", socket, "display-message", "-p", "#{pid}"],
            capture_output=True, text=True, check=True,
        ).stdout.strip())  # fmt: skip
        time.sleep(settle)  # first readings, first snapshot, watchers set up
        snapshot_before = fleet.layout.snapshot_file.stat().st_mtime_ns
        own0, kids0 = cpu_seconds(pid)
        server0, _ = cpu_seconds(server)
        wall0 = time.monotonic()
        time.sleep(window)
        wall = time.monotonic() - wall0
        own1, kids1 = cpu_seconds(pid)
        server1, _ = cpu_seconds(server)
        rewritten = fleet.layout.snapshot_file.stat().st_mtime_ns != snapshot_before
        supervisor.stop(fleet.layout)
        fleet.down(grace=0.5)
        total = (own1 - own0) + (kids1 - kids0)
        return {
            "agents": agents,
            "untracked": untracked,
            "window_s": round(wall, 1),
            "supervisor_cpu_pct": round(100 * total / wall, 2),
            "supervisor_own_cpu_pct": round(100 * (own1 - own0) / wall, 2),
            "tmux_server_cpu_pct": round(100 * (server1 - server0) / wall, 2),
            "snapshot_rewritten_while_idle": int(rewritten),
            "supervisor_rss_mb": round(rss_mb(pid), 1) if Path(f"/proc/{pid}").exists() else -1,
        }
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--untracked", type=int, default=0, help="untracked files in the first worktree")
    args = parser.parse_args()
    results = [measure(n, args.window, args.settle, args.untracked) for n in args.agents]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(
                f"N={r['agents']:>4} untracked={r['untracked']}  supervisor {r['supervisor_cpu_pct']}% "
                f"of a core over {r['window_s']} s "
                f"(own {r['supervisor_own_cpu_pct']}%), tmux server {r['tmux_server_cpu_pct']}%, "
                f"snapshot rewritten while idle: {bool(r['snapshot_rewritten_while_idle'])}"
            )


if __name__ == "__main__":
    main()
