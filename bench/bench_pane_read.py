"""Benchmark of one pane read's CPU cost (a script, not a test).

    .venv/bin/python bench/bench_pane_read.py --agents 100 --reads 300 --runs 3

Brings up N idle scripted fake agents on a tmux socket of its own (no supervisor), then reads the
session with a `PaneReader` the way the monitor does, back to back, once with tmux processes per
read (`control=False`, the old way) and once through the reader's control client. Per read it
reports CPU time, not wall time (the machine is shared): this process (the monitor's side), its
reaped children (one tmux process per call), its live children (the control client) and the tmux
server. Idle reads are listings only (no screen changed); `--capture` also times reads that capture
every screen.
"""

from __future__ import annotations

import argparse
import json
import resource
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from statistics import median

import psutil

from fleet_tui.adapters.tmux import PaneReader
from fleet_tui.engine import actions
from fleet_tui.engine.fleet import Fleet


def reaped() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def live_children() -> float:
    total = 0.0
    for kid in psutil.Process().children(recursive=True):
        try:
            t = kid.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def server_cpu(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def per_read(reader: PaneReader, server: int, reads: int, capture: bool) -> dict[str, float]:
    """CPU milliseconds per read: (own, reaped children, live children, tmux server)."""
    reader.read()  # the control client starts here (its start is not a read's cost)
    for _ in range(3):
        reader.read()
    before = (time.process_time(), reaped(), live_children(), server_cpu(server))
    for _ in range(reads):
        if capture:
            reader._panes = {}  # every screen is new to it: each read captures them all
        reader.read()
    after = (time.process_time(), reaped(), live_children(), server_cpu(server))
    own, kids, live, srv = (1000 * (b - a) / reads for a, b in zip(before, after, strict=True))
    total = own + kids + live + srv
    return {"own_ms": own, "reaped_ms": kids, "live_ms": live, "server_ms": srv, "total_ms": total}


def bring_up(tmp: Path, socket: str, agents: int) -> Fleet:
    root = tmp / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    (root / "a.txt").write_text("a\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    who = ["-c", "user.name=bench", "-c", "user.email=b@example.com"]
    subprocess.run(["git", *who, "commit", "-qm", "initial"], cwd=root, check=True)
    script = tmp / "idle.txt"
    script.write_text('say "benchmark agent ready"\nidle\n', encoding="utf-8")
    lines = ["[fleet]", f'socket = "{socket}"', "panes_per_window = 10", "notify = false"]
    for i in range(agents):
        lines += ["[[agent]]", f'name = "a{i}"', f'task = "task {i}"', 'scope = ["**"]']
        lines.append(f'command = "fleet-fake-agent --script {script} --prompt-file {{prompt_file}}"')
    (tmp / "fleet.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fleet = Fleet.open(root, tmp / "fleet.toml")
    actions.up(fleet)
    return fleet


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--capture", action="store_true", help="also time reads that capture every screen")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fleet-bench-read-"))
    socket = f"fleet-bench-{secrets.token_hex(3)}"
    try:
        fleet = bring_up(tmp, socket, args.agents)
        server = int(fleet.tmux._cmd("display-message", "-p", "#{pid}")[0])
        time.sleep(3)  # the agents print their line and go quiet
        results: dict[str, list[dict[str, float]]] = {}
        kinds = [("idle", False)] + ([("capture", True)] if args.capture else [])
        for _ in range(args.runs):
            for kind, capture in kinds:
                for way, control in (("process", False), ("control", True)):
                    reader = PaneReader(fleet.tmux, fleet.session, control=control)
                    try:
                        runs = results.setdefault(f"{kind}/{way}", [])
                        runs.append(per_read(reader, server, args.reads, capture))
                    finally:
                        reader.close()
        summary = {
            key: {field: [round(min(v), 3), round(median(v), 3), round(max(v), 3)] for field, v in
                  ((f, [run[f] for run in runs]) for f in runs[0])}
            for key, runs in results.items()
        }  # fmt: skip
        print(f"N={args.agents}, {args.reads} reads x {args.runs} runs; CPU ms per read, min/median/max")
        for key, fields in summary.items():
            print(f"  {key:16}", "  ".join(f"{f} {'/'.join(str(x) for x in v)}" for f, v in fields.items()))
        print(json.dumps({"agents": args.agents, "reads": args.reads, "min_median_max": summary}))
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
