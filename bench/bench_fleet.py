"""Benchmark of what a person gets from a fleet (a script, not a test).

    .venv/bin/python bench/bench_fleet.py --agents 10 50 100 250 --runs 3

One synthetic repository of 2,000 tracked files in nested folders (~3 KB each) is built once. Each
run of each fleet size N starts from a fresh copy of it (no worktree, branch, state or tmux server
yet) and brings up N scripted fake agents (`fleet-fake-agent`, a script ending in `idle`) on a tmux
socket of its own, then measures:

- cold up: `up` of the N agents from nothing (wall; CPU of this process, its children and the
  fleet's tmux server), and `up` again with nothing to do;
- git reading of the fresh worktrees, exactly as `up` left them (no extra index refresh): the
  monitor's reading of every worktree (`Monitor.read_git`, READ_WORKERS threads) against two floors,
  the same git commands via subprocess with the same READ_WORKERS threads and sequentially; CPU
  time (this process and its children) is the figure to compare, wall time is printed beside it;
- the dashboard as a person runs it: `fleet-tui` in a 200x50 pane of a separate tmux server (the
  "terminal"), read back with `capture-pane`; for the latencies, keys are sent and the screen is
  read through a tmux control client that is told of every write the dashboard makes to its
  terminal (bench/control_client.py), so the screen is looked at once per write, not polled (a
  `capture-pane` process every 2 ms took most of a core, which the dashboard then competed with):
  - start with no supervisor running (the dashboard starts it, as after a reboot): launch to a
    full screen (summary counts N agents, first row drawn), and the full paint (from the app's
    first frame to that); then, as a person gets it after `fleet-tui up` (the supervisor runs), the
    same two figures for a second dashboard opened on the running supervisor;
  - write-to-screen latency: a new out-of-scope file in an agent's worktree, timed from just
    before the write to the screen's summary counting one more drifted agent;
  - key latency: `Down`/`Up` sent to the terminal, until the screen changes; idle, and right after
    a commit on base (every worktree re-read at once);
  - RSS of the dashboard process after 50 and after 500 cursor moves;
  - idle CPU over a quiet window that starts past the rolling resync's first cycle: the
    supervisor (its git and tmux children included), the dashboard process and the fleet's tmux
    server, as % of a core, together and each alone (the terminal's own tmux server is printed
    beside it, not counted: it is the person's terminal); RSS of the dashboard and the supervisor.

At N >= BIG (250) the slowest parts are cut down so a full run stays reasonable on 2 cores: fewer
writes for the screen latency, shorter key walks and fewer cursor moves; every figure is still taken.

Every figure is printed as min / median / max over the runs, with its target beside it. The load
average is printed with each run: the machine may be shared, so prefer the CPU figures.

Everything lives in a temporary folder and uniquely named tmux sockets, removed at the end (also on
Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psutil
from control_client import ControlClient

from fleet_tui.adapters import processes
from fleet_tui.adapters.git import READ_ENV
from fleet_tui.engine import supervisor
from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.launcher import AGENT_MARKER, agent_id
from fleet_tui.engine.monitor import Monitor
from fleet_tui.engine.monitor.core import READ_WORKERS
from fleet_tui.models import Status

# (key, label, target, unit): a figure at or under its target meets it (None: no target, shown only).
FIGURES: tuple[tuple[str, str, float | None, str], ...] = (
    ("cold_up_s", "cold up, wall", None, "s"),
    ("cold_up_cpu_s", "cold up, CPU (incl. git, tmux server)", None, "s"),
    ("noop_up_s", "up with nothing to do, wall", None, "s"),
    ("noop_up_cpu_per_agent_ms", "up with nothing to do, CPU per agent", 10.0, "ms"),
    ("read_cpu_s", "monitor reading of every worktree, CPU", None, "s"),
    ("floor_cpu_s", "floor: same git commands, CPU", None, "s"),
    ("read_cpu_ratio", "monitor / floor, CPU", 1.5, "x"),
    ("read_wall_s", "monitor reading, wall", None, "s"),
    ("floor_parallel_wall_s", f"floor, {READ_WORKERS} threads, wall", None, "s"),
    ("floor_sequential_wall_s", "floor, sequential, wall", None, "s"),
    ("read_wall_ratio", f"monitor / {READ_WORKERS}-thread floor, wall", 1.5, "x"),
    ("cold_start_to_full_screen_s", "no supervisor yet: launch to full screen", None, "s"),
    ("cold_full_paint_s", "no supervisor yet: full paint", None, "s"),
    ("start_to_full_screen_s", "dashboard launch to full screen", None, "s"),
    ("full_paint_s", "full paint (first frame to full screen)", 1.0, "s"),
    ("screen_latency_median_s", "write to screen, median", 0.3, "s"),
    ("screen_latency_max_s", "write to screen, max", 1.0, "s"),
    ("key_latency_median_s", "key to screen, median", 0.1, "s"),
    ("key_latency_max_s", "key to screen, max", 0.2, "s"),
    ("key_latency_reread_max_s", "key to screen during a fleet-wide re-read, max", 0.3, "s"),
    ("rss_50_moves_mb", "dashboard RSS after 50 cursor moves", None, "MB"),
    ("rss_growth_500_moves_mb", "RSS growth, 50 to 500 cursor moves", 5.0, "MB"),
    ("rss_dashboard_mb", "dashboard RSS at the end", 100.0, "MB"),
    ("rss_supervisor_mb", "supervisor RSS at the end", None, "MB"),
    ("idle_fleet_pct", "idle: supervisor + dashboard + tmux server", 1.0, "% core"),
    ("idle_supervisor_pct", "idle: supervisor (+ its git, tmux clients)", None, "% core"),
    ("idle_dashboard_pct", "idle: dashboard process alone", None, "% core"),
    ("idle_tmux_server_pct", "idle: fleet tmux server alone", None, "% core"),
    ("idle_terminal_pct", "idle: the terminal's tmux server (not counted)", None, "% core"),
)
BIG = 250  # from this fleet size on, the slowest parts are cut down (see the docstring)
PACKAGES = 40  # src/pkgNN: one scope per agent (agents share packages beyond 40)
WORDS = (
    "fleet", "agent", "worktree", "branch", "scope", "drift", "overlap", "snapshot", "monitor",
    "pane", "status", "merge", "handoff", "reading", "tick", "event", "watch", "commit", "diff",
)  # fmt: skip
TERMINAL = (200, 50)
FAKE_AGENT = Path(sys.executable).with_name("fleet-fake-agent")
FLEET_TUI = Path(sys.executable).with_name("fleet-tui")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def wait_until(check: Callable[[], Any], timeout: float, what: str, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(step)


# -- CPU and memory from /proc ---------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int | None, children: bool = False, apart: int | None = None) -> float:
    """utime + stime of a process, in seconds; 0 when it is gone. With `children`, also what it
    reaped (git, tmux clients) and what its live descendants used so far: a child that outlives
    the window (the monitor's tmux control client) is never reaped inside it, and one that ends
    in it moves from the live figure to the reaped one, so the difference over a window is right.
    `apart`: a descendant counted on its own (the supervisor a dashboard started), left out with
    its own descendants."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    used = int(fields[11]) + int(fields[12])
    if children:
        used += int(fields[13]) + int(fields[14])
        return used / TICK + live_descendants_cpu(pid, apart)
    return used / TICK


def live_descendants_cpu(pid: int, apart: int | None = None) -> float:
    """CPU seconds of a process's live descendants, each with what it reaped itself (but none of
    `apart` and its descendants)."""
    try:
        descendants = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return 0.0
    skipped = {apart} if apart else set()
    if apart:
        with suppress(psutil.Error):  # gone: nothing of it is left to skip
            skipped.update(p.pid for p in psutil.Process(apart).children(recursive=True))
    used = 0.0
    for child in (p for p in descendants if p.pid not in skipped):
        try:
            t = child.cpu_times()
        except psutil.Error:
            continue  # ended meanwhile: its parent reaps it into the figure above
        used += t.user + t.system + t.children_user + t.children_system
    return used


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def own_cpu() -> float:
    """This process and its reaped children (git, tmux clients)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def thread_cpu() -> float:
    return time.thread_time()


# -- the synthetic repository ---------------------------------------------------------------------


def _text_file(rng: random.Random, size: int) -> str:
    lines: list[str] = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        indent = "    " * rng.randint(0, 3)
        lines.append(indent + line)
        total += len(line) + len(indent) + 1
    return "\n".join(lines) + "\n"


def build_repo(root: Path, files: int, seed: int = 7) -> dict[str, int]:
    """`files` tracked files in nested folders, sizes drawn from a log-normal (~3 KB)."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    layout: list[Path] = []
    for p in range(PACKAGES):
        for sub in ("", "core", "io", "util/helpers", "tests"):
            layout.append(Path("src") / f"pkg{p:02d}" / sub)
    for d in range(20):
        layout.append(Path("docs") / f"chapter{d:02d}" / ("figures" if d % 3 == 0 else ""))
    total = 0
    for i in range(files):
        folder = layout[i % len(layout)]
        suffix = ".md" if folder.parts[0] == "docs" else ".py"
        path = root / folder / f"file{i:04d}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        size = int(min(60_000, max(80, rng.lognormvariate(math.log(3000), 0.9))))
        text = _text_file(rng, size)
        path.write_text(text, encoding="utf-8")
        total += len(text)
    (root / "README.md").write_text("# synthetic repository for the fleet-tui benchmark\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "synthetic repository")
    tracked = len(git(root, "ls-files").splitlines())
    return {"tracked_files": tracked, "bytes": total}


def agent_name(i: int) -> str:
    return f"a{i:03d}"


def write_fleet_file(path: Path, socket: str, worktrees: Path, script: Path, count: int) -> None:
    command = f"{FAKE_AGENT} --script {script} --prompt-file {{prompt_file}}"
    lines = [
        "[fleet]",
        'name = "bench"',
        f'socket = "{socket}"',
        f'worktree_root = "{worktrees}"',
        "panes_per_window = 4",
    ]
    for i in range(count):
        lines += [
            "",
            "[[agent]]",
            f'name = "{agent_name(i)}"',
            f'task = "benchmark agent {i}"',
            f'scope = ["src/pkg{i % PACKAGES:02d}/**"]',
            f'command = "{command}"',
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=False).stdout


def server_pid(socket: str) -> int | None:
    out = tmux(socket, "display-message", "-p", "#{pid}").strip()
    return int(out) if out.isdigit() else None


def kill_server(socket: str) -> None:
    """Stop a tmux server and remove its socket file (tmux leaves it behind)."""
    path = tmux(socket, "display-message", "-p", "#{socket_path}").strip()
    tmux(socket, "kill-server")
    if path.endswith(socket):
        Path(path).unlink(missing_ok=True)


# -- one run ----------------------------------------------------------------------------------------


class Run:
    """A fresh copy of the repository, a fleet of N agents on its own socket, and its terminal."""

    def __init__(self, tmp: Path, base_repo: Path, count: int, index: int) -> None:
        self.dir = tmp / f"n{count}-run{index}"
        self.dir.mkdir()
        self.repo = self.dir / "repo"
        shutil.copytree(base_repo, self.repo, symlinks=True)
        self.count = count
        tag = f"{os.getpid()}-{secrets.token_hex(3)}"
        self.socket = f"fleet-bench-{tag}"
        self.terminal = f"fleet-bench-term-{tag}"
        script = self.dir / "agent-script.txt"
        script.write_text('say "benchmark agent ready"\nidle\n', encoding="utf-8")
        self.fleet_file = self.dir / "fleet.toml"
        write_fleet_file(self.fleet_file, self.socket, self.dir / "worktrees", script, count)
        self.fleet = Fleet.open(self.repo, self.fleet_file)

    def close(self) -> None:
        kill_server(self.terminal)
        supervisor.stop(self.fleet.layout)  # the dashboard started it; it would outlive the run
        kill_server(self.socket)
        for agent in self.fleet.agents:
            processes.stop_pids(
                processes.with_env(AGENT_MARKER, agent_id(self.fleet.layout, agent.name)), 0.5
            )
        shutil.rmtree(self.dir, ignore_errors=True)


def measure_up(run: Run) -> dict[str, float]:
    cpu0, wall0 = own_cpu(), time.perf_counter()
    up(run.fleet)
    wall = time.perf_counter() - wall0
    cpu = own_cpu() - cpu0 + proc_cpu(server_pid(run.socket))  # the server was born in this up
    result = {"cold_up_s": wall, "cold_up_cpu_s": cpu}
    wait_ready(run)
    server = server_pid(run.socket)
    cpu0, server0, wall0 = own_cpu(), proc_cpu(server), time.perf_counter()
    report = up(run.fleet)
    result["noop_up_s"] = time.perf_counter() - wall0
    cpu = own_cpu() - cpu0 + proc_cpu(server) - server0
    result["noop_up_cpu_per_agent_ms"] = cpu / run.count * 1000
    if report.changes:
        raise SystemExit(f"bench: a second up changed things: {report.changes[:3]}")
    return result


def wait_ready(run: Run) -> None:
    monitor = Monitor(run.fleet)
    try:

        def ready() -> bool:
            snap = monitor.tick()
            done = [a for a in snap.agents if a.status == Status.IDLE and "ready" in "\n".join(a.tail)]
            return len(done) == run.count

        wait_until(ready, 300, "every agent to be idle", step=1.0)
    finally:
        monitor.close()


def floor(run: Run, workers: int) -> tuple[float, float]:
    """The monitor's git commands for every worktree, via subprocess: (wall, CPU)."""
    env = {**os.environ, **READ_ENV}
    base = run.fleet.base

    def read(cwd: Path) -> None:
        for argv in (
            ["git", "diff", "--numstat", "-z", "--merge-base", base],
            ["git", "ls-files", "--others", "--exclude-standard", "-z"],
            ["git", "rev-list", "--count", f"{base}..HEAD"],
        ):
            subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)

    trees = [run.fleet.layout.worktree(a.name) for a in run.fleet.agents]
    cpu0, wall0 = own_cpu(), time.perf_counter()
    if workers == 1:
        for tree in trees:
            read(tree)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(read, trees))
    return time.perf_counter() - wall0, own_cpu() - cpu0


def monitor_read(run: Run) -> tuple[float, float]:
    monitor = Monitor(run.fleet)
    try:
        cpu0, wall0 = own_cpu(), time.perf_counter()
        monitor.read_git([a.name for a in run.fleet.agents])
        wall, cpu = time.perf_counter() - wall0, own_cpu() - cpu0
    finally:
        monitor.close()
    errors = [r.error for r in monitor._readings.values() if r.error]
    if errors or monitor.git_reads != run.count:
        raise SystemExit(f"bench: reading incomplete: {monitor.git_reads} readings, errors {errors[:3]}")
    return wall, cpu


def measure_reading(run: Run, rounds: int = 2) -> dict[str, float]:
    reads: list[tuple[float, float]] = []
    parallel: list[tuple[float, float]] = []
    sequential: list[tuple[float, float]] = []
    for _ in range(rounds):  # interleaved, so a burst of load weighs on each alike
        reads.append(monitor_read(run))
        parallel.append(floor(run, READ_WORKERS))
        sequential.append(floor(run, 1))
    read_wall, read_cpu = min(w for w, _ in reads), min(c for _, c in reads)
    floor_cpu = min(c for _, c in parallel + sequential)
    par_wall = min(w for w, _ in parallel)
    return {
        "read_cpu_s": read_cpu,
        "floor_cpu_s": floor_cpu,
        "read_cpu_ratio": read_cpu / floor_cpu,
        "read_wall_s": read_wall,
        "floor_parallel_wall_s": par_wall,
        "floor_sequential_wall_s": min(w for w, _ in sequential),
        "read_wall_ratio": read_wall / par_wall,
    }


# -- the dashboard in a terminal -------------------------------------------------------------------


class Terminal:
    """`fleet-tui` running in a 200x50 pane of its own tmux server, read back with capture-pane."""

    def __init__(self, run: Run, session: str = "term") -> None:
        self.run = run
        self.socket = run.terminal
        self.session = session
        width, height = TERMINAL
        command = f"exec {FLEET_TUI} -C {run.repo} -f {run.fleet_file}"
        self.launched = time.perf_counter()
        subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", "new-session", "-d", "-s", session,
             "-x", str(width), "-y", str(height), command],
            check=True, env={**os.environ, "TERM": "xterm-256color"},
        )  # fmt: skip
        tmux(self.socket, "set-option", "-g", "status", "off")
        pid = tmux(self.socket, "display-message", "-p", "-t", session, "#{pane_pid}").strip()
        self.pid = int(pid)
        self.server = server_pid(self.socket)
        self.control = ControlClient(self.socket, session)  # keys and the latency figures

    def screen(self, colours: bool = False) -> str:
        return tmux(self.socket, "capture-pane", "-p", *(["-e"] if colours else []), "-t", self.session)

    def keys(self, *keys: str) -> None:
        tmux(self.socket, "send-keys", "-t", self.session, *keys)

    def full_screen(self, count: int) -> tuple[float, float]:
        """Wait for every agent on screen: (launch to full screen, first frame to full screen)."""
        first_frame: list[float] = []

        def full() -> bool:
            screen = self.screen()
            if not first_frame and screen.strip():
                first_frame.append(time.perf_counter())
            idle = re.search(r"(\d+) idle", screen)
            return bool(idle and int(idle.group(1)) == count and agent_name(0) in screen)

        wait_until(full, 120, "the dashboard's full screen", step=0.01)
        now = time.perf_counter()
        # The app's first frame: the screen is drawn all at once (the summary says "reading the
        # fleet" until the first snapshot), so the full paint is from that frame to every row.
        return now - self.launched, now - first_frame[0]

    def quit(self) -> None:
        self.control.close()
        self.keys("q")
        wait_until(lambda: not Path(f"/proc/{self.pid}").exists(), 20, "the dashboard to quit")


def drifted_on(screen: str) -> int | None:
    found = re.search(r"(\d+) drifted", screen)
    return int(found.group(1)) if found else None


def measure_dashboard(run: Run, args: argparse.Namespace, rng: random.Random) -> dict[str, float]:
    result: dict[str, float] = {}
    count = run.count
    big = count >= BIG
    supervisor.stop(run.fleet.layout)  # none runs yet: the first dashboard starts it
    cold = Terminal(run, session="cold")
    result["cold_start_to_full_screen_s"], result["cold_full_paint_s"] = cold.full_screen(count)
    cold.quit()
    wait_until(lambda: supervisor.status(run.fleet.layout).fresh(), 30, "the supervisor it started")
    time.sleep(1.0)
    term = Terminal(run)  # as a person gets it after `fleet-tui up`: the supervisor runs
    result["start_to_full_screen_s"], result["full_paint_s"] = term.full_screen(count)
    time.sleep(1.0)

    # Key latency, idle: until the screen (colours included: the cursor row) changes, looked at
    # after each write to the terminal (control_client.py: polling was most of a core's load).
    control = term.control

    def press(key: str) -> float:
        before = control.screen(colours=True)
        t0 = time.perf_counter()
        control.keys(key)
        if control.wait_screen(lambda screen: screen != before, 10, colours=True) is None:
            log("the screen that did not change:\n" + term.screen())
            raise SystemExit(f"bench: timed out after 10s waiting for the screen to show {key}")
        return time.perf_counter() - t0

    span = min(10, count - 1)  # the cursor walks rows 0..span and back, never pressing at an edge
    cursor = {"row": 0, "step": 1}

    def walk(presses: int) -> list[float]:
        latencies = []
        for _ in range(presses):
            if not 0 <= cursor["row"] + cursor["step"] <= span:
                cursor["step"] = -cursor["step"]
            latencies.append(press("Down" if cursor["step"] > 0 else "Up"))
            cursor["row"] += cursor["step"]
            time.sleep(0.05)
        return latencies

    keys = walk(10 if big else 20)
    result["key_latency_median_s"] = statistics.median(keys)
    result["key_latency_max_s"] = max(keys)

    # Write-to-screen latency: each write drifts one more agent; the summary counts it.
    screen_latencies = []
    agents = list(run.fleet.agents)
    rng.shuffle(agents)
    for i, agent in enumerate(agents[: min(args.writes // 2 if big else args.writes, count)]):
        drifted = drifted_on(control.screen()) or 0
        target = run.fleet.layout.worktree(agent.name) / "docs" / f"bench-drift-{i:03d}.md"
        t0 = time.perf_counter()
        target.write_text(f"drift {i}\n", encoding="utf-8")
        if control.wait_screen(lambda screen, d=drifted: (drifted_on(screen) or 0) > d, 20) is None:
            raise SystemExit("bench: timed out after 20s waiting for the drift on screen")
        screen_latencies.append(time.perf_counter() - t0)
        time.sleep(rng.uniform(0.2, 0.5))
    result["screen_latency_median_s"] = statistics.median(screen_latencies)
    result["screen_latency_max_s"] = max(screen_latencies)

    # Keys while every worktree is re-read: a commit on base moves every agent's merge-base.
    (run.repo / "docs" / "bench-base.md").write_text("base moved\n", encoding="utf-8")
    git(run.repo, "add", "docs/bench-base.md")
    git(run.repo, "commit", "-q", "-m", "base moves")
    result["key_latency_reread_max_s"] = max(walk(5 if big else 10))

    # Memory after cursor use.
    def moves(total: int) -> None:
        if cursor["row"]:
            term.keys("-N", str(cursor["row"]), "Up")
            cursor["row"] = 0
        for i in range(total // span):
            term.keys("-N", str(span), "Down" if i % 2 == 0 else "Up")
            time.sleep(0.02)
        cursor["row"] = span if (total // span) % 2 else 0
        time.sleep(1.0)

    moves(50)
    result["rss_50_moves_mb"] = proc_rss_mb(term.pid)
    moves(450)
    result["rss_growth_500_moves_mb"] = proc_rss_mb(term.pid) - result["rss_50_moves_mb"]

    # Idle, once the rolling resync runs at its steady pace (readings older than its age).
    rest = args.warmup - (time.perf_counter() - term.launched)
    if rest > 0:
        log(f"N={count}: waiting {rest:.0f}s for the rolling resync's steady state")
        time.sleep(rest)
    fleet_server = server_pid(run.socket)
    sup = supervisor.status(run.fleet.layout).pid
    if sup is None:
        raise SystemExit("bench: the supervisor is not running for the idle window")
    dash0, fleet0, term0 = proc_cpu(term.pid, True, sup), proc_cpu(fleet_server), proc_cpu(term.server)
    sup0 = proc_cpu(sup, children=True)
    wall0 = time.perf_counter()
    time.sleep(args.idle)
    wall = time.perf_counter() - wall0
    dash = proc_cpu(term.pid, True, sup) - dash0
    server = proc_cpu(fleet_server) - fleet0
    kept = proc_cpu(sup, children=True) - sup0
    result["idle_supervisor_pct"] = 100 * kept / wall
    result["idle_dashboard_pct"] = 100 * dash / wall
    result["idle_tmux_server_pct"] = 100 * server / wall
    result["idle_fleet_pct"] = 100 * (dash + server + kept) / wall
    result["idle_terminal_pct"] = 100 * (proc_cpu(term.server) - term0) / wall
    result["rss_dashboard_mb"] = proc_rss_mb(term.pid)
    result["rss_supervisor_mb"] = proc_rss_mb(sup)
    term.quit()
    return result


# -- main -------------------------------------------------------------------------------------------


@contextmanager
def hermetic(tmp: Path) -> Iterator[None]:
    """No developer config leaks in: git identity and HOME are the benchmark's own."""
    home = tmp / "home"
    home.mkdir()
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Fleet Bench\n\temail = fleet-bench@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        encoding="utf-8",
    )
    saved = dict(os.environ)
    os.environ.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "SHELL": "/bin/sh",
        }
    )
    for var in ("TMUX", "TMUX_PANE", "GIT_DIR", "GIT_WORK_TREE"):
        os.environ.pop(var, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 50, 100, 250], help="fleet sizes")
    parser.add_argument("--runs", type=int, default=3, help="runs per fleet size (min/median/max)")
    parser.add_argument("--files", type=int, default=2000, help="tracked files in the repository")
    parser.add_argument("--writes", type=int, default=10, help="writes for the screen latency figure")
    parser.add_argument("--idle", type=float, default=30.0, help="quiet window in seconds")
    parser.add_argument(
        "--warmup",
        type=float,
        default=65.0,
        help="seconds from the dashboard's launch to the quiet window (past the resync age)",
    )
    parser.add_argument("--no-dashboard", action="store_true", help="skip the dashboard figures")
    parser.add_argument("--json", type=Path, help="also write every figure of every run here")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (debugging)")
    return parser.parse_args(argv)


def machine() -> dict[str, Any]:
    def version(argv: list[str]) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()

    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "git": version(["git", "--version"]),
        "tmux": version(["tmux", "-V"]),
    }


def summarize(rows: list[dict[str, Any]]) -> str:
    sizes = sorted({row["agents"] for row in rows})
    lines = []
    header = f"{'figure':<50} {'target':>8} " + " ".join(f"{'N=' + str(n):>22}" for n in sizes)
    lines.append(header)
    lines.append(" " * 60 + " ".join(f"{'min / median / max':>22}" for _ in sizes))
    for key, label, target, unit in FIGURES:
        cells = []
        for n in sizes:
            values = [row[key] for row in rows if row["agents"] == n and key in row]
            if not values:
                cells.append(f"{'-':>22}")
                continue
            low, mid, high = min(values), statistics.median(values), max(values)
            mark = "" if target is None else (" ok" if mid <= target else " !!")
            cells.append(f"{f'{low:.3g} / {mid:.3g} / {high:.3g}{mark}':>22}")
        shown = "-" if target is None else f"<= {target:g}"
        lines.append(f"{label + ' (' + unit + ')':<50} {shown:>8} " + " ".join(cells))
    loads = {n: [row["load"] for row in rows if row["agents"] == n] for n in sizes}
    lines.append("load average (1, 5, 15 min) at each run's start:")
    lines += [f"  N={n}: " + " | ".join(loads[n]) for n in sizes]
    lines.append("ok: the median meets the target; !!: it does not")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.agents = sorted(set(args.agents))
    tmp = Path(tempfile.mkdtemp(prefix="fleet-bench-"))

    def on_term(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    rows: list[dict[str, Any]] = []
    report: dict[str, Any] = {"machine": machine(), "runs": rows}
    run: Run | None = None
    try:
        with hermetic(tmp):
            started = time.perf_counter()
            report["repo"] = build_repo(tmp / "repo", args.files)
            log(f"built repository {report['repo']} in {time.perf_counter() - started:.1f}s")
            for count in args.agents:
                for index in range(args.runs):
                    rng = random.Random(count * 100 + index)
                    row: dict[str, Any] = {"agents": count, "run": index + 1, "load": loadavg()}
                    log(f"N={count} run {index + 1}/{args.runs}: cold up (load {row['load']})")
                    run = Run(tmp, tmp / "repo", count, index)
                    row.update(measure_up(run))
                    log(f"N={count}: git readings against the floors")
                    row.update(measure_reading(run))
                    if not args.no_dashboard:
                        log(f"N={count}: the dashboard in a {TERMINAL[0]}x{TERMINAL[1]} terminal")
                        row.update(measure_dashboard(run, args, rng))
                    row["load_at_end"] = loadavg()
                    rows.append(row)
                    log(
                        f"N={count}: "
                        + json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
                    )
                    run.close()
                    run = None
    finally:
        if run is not None:
            run.close()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"machine: {report['machine']}")
    print(summarize(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
