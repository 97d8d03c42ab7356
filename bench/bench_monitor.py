"""Benchmark of the fleet monitor on a synthetic repository (a script, not a test).

    .venv/bin/python bench/bench_monitor.py --agents 10 50 100 --json

For each fleet size N it builds (once, growing) a git repository of 2,000 tracked files in nested
folders, brings up N scripted fake agents (`fleet-fake-agent`, script ending in `idle`) on a tmux
socket of its own, and measures:

- cold: the Monitor's first full tick with every worktree dirty (tmux read + every git reading +
  compose), against the floor measured in the same run: one `git diff --numstat --merge-base <base>`
  plus one `git ls-files -o --exclude-standard` per worktree, sequential, via subprocess;
- write-to-snapshot latency: `Monitor.run` in a thread (with its watchfiles watcher); a new
  out-of-scope file is written in a random agent's worktree, timed from just before the write to
  the publish callback whose snapshot first shows it as drift;
- idle: CPU seconds (this process + its reaped children: git, tmux clients) over a quiet window
  once the rolling resync is in its steady state (readings older than the resync age), the git
  readings taken in that window, and the tmux server's own CPU in that window (not counted in the
  target: it is another process, but the batched capture is its work);
- peak RSS of this process (harness + monitor).

`--ui` adds, after the monitor figures, the dashboard's keystroke latency with the largest N (Pilot:
`down`/`up`, until the cursor row changes, Pilot's wait for the redraw included) and the UI thread's
CPU per refresh, idle and with every row changed.

Everything lives in a temporary folder and a uniquely named tmux socket, both removed at the end
(also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet_tui.engine.actions import up
from fleet_tui.engine.fleet import Fleet
from fleet_tui.engine.monitor import Monitor
from fleet_tui.models import FleetSnapshot, Status

TARGETS = {"cold_ratio": 1.5, "idle_cpu_s_per_30s": 0.3, "latency_median_s": 0.3, "latency_p95_s": 1.0}
GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
PACKAGES = 40  # src/pkgNN: one scope per agent (agents share packages beyond 40)
WORDS = (
    "fleet", "agent", "worktree", "branch", "scope", "drift", "overlap", "snapshot", "monitor",
    "pane", "status", "merge", "handoff", "reading", "tick", "event", "watch", "commit", "diff",
)  # fmt: skip


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


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
    """2,000 (or `files`) tracked files in nested folders, sizes drawn from a log-normal (~3 KB)."""
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
    folders = len({p.parent for p in root.rglob("*") if ".git" not in p.parts})
    return {"tracked_files": tracked, "bytes": total, "folders": folders}


# -- the fleet ------------------------------------------------------------------------------------


def agent_name(i: int) -> str:
    return f"a{i:03d}"


def write_fleet_file(
    path: Path, socket: str, worktrees: Path, script: Path, count: int, signals: bool = False
) -> None:
    command = f"fleet-fake-agent --script {script} --prompt-file {{prompt_file}}"
    # --signals: the agents run with Claude-style hooks and statusline installed (the fake agent
    # fires the settings file's hooks), so the monitor reads 100 signals files as it would for claude.
    preset = [
        "[preset.hooked]",
        f"command = 'fleet-fake-agent {{signals}} --script {script} --prompt-file {{prompt_file}}'",
        'signals = ["claude-hooks", "claude-statusline"]',
        "",
    ]
    lines = [
        *(preset if signals else []),
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
            'preset = "hooked"' if signals else f'command = "{command}"',
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class Bench:
    tmp: Path
    socket: str
    repo: Path = field(init=False)
    worktrees: Path = field(init=False)
    fleet_file: Path = field(init=False)
    script: Path = field(init=False)
    signals: bool = False

    def __post_init__(self) -> None:
        self.repo = self.tmp / "repo"
        self.worktrees = self.tmp / "worktrees"
        self.fleet_file = self.tmp / "fleet.toml"
        self.script = self.tmp / "agent-script.txt"
        self.script.write_text('say "benchmark agent ready"\nidle\n', encoding="utf-8")

    def fleet(self, count: int) -> Fleet:
        write_fleet_file(self.fleet_file, self.socket, self.worktrees, self.script, count, self.signals)
        return Fleet.open(self.repo, self.fleet_file)

    def kill_server(self) -> None:
        """Stop this benchmark's tmux server and remove its socket file (tmux leaves it behind)."""
        path = subprocess.run(
            ["tmux", "-L", self.socket, "display-message", "-p", "#{socket_path}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)
        if path.endswith(self.socket):
            Path(path).unlink(missing_ok=True)

    def tmux_server_pid(self) -> int | None:
        out = subprocess.run(
            ["tmux", "-L", self.socket, "display-message", "-p", "#{pid}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return int(out) if out.isdigit() else None


def proc_cpu(pid: int | None) -> float:
    """utime + stime of another process, in seconds (0 when unknown)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def inotify_watches() -> int:
    """Inotify watches this process holds (the monitor's watcher: one per watched folder)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if os.readlink(fd) != "anon_inode:inotify":
                continue
            info = Path(f"/proc/self/fdinfo/{fd.name}").read_text()
        except OSError:
            continue
        count += sum(1 for line in info.splitlines() if line.startswith("inotify "))
    return count


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread of this process, by Python thread name (pool threads summed)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    result: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(task.name), "other (native)")
        name = name.split("_")[0] if name.startswith("fleet-git") else name
        result[name] = result.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return result


def children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def cpu_now() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def bring_up(bench: Bench, count: int) -> Fleet:
    fleet = bench.fleet(count)
    started = time.perf_counter()
    up(fleet)
    log(f"up {count} agents in {time.perf_counter() - started:.1f}s; waiting for them to idle")
    # Fresh checkouts leave racily-clean index entries that make every `git diff` hash files;
    # an agent's own git use refreshes them, so do that once (the bench's setup, not the monitor).
    time.sleep(1.1)
    for agent in fleet.agents:
        subprocess.run(
            ["git", "update-index", "-q", "--refresh"],
            cwd=fleet.layout.worktree(agent.name),
            capture_output=True,
            check=False,
        )
    monitor = Monitor(fleet)
    deadline = time.monotonic() + 180
    try:
        while True:
            snap = monitor.tick()
            ready = [a for a in snap.agents if a.status == Status.IDLE and "ready" in "\n".join(a.tail)]
            if len(ready) == count:
                break
            if time.monotonic() > deadline:
                states = {a.name: (a.status.value, a.tail[-1:]) for a in snap.agents if a not in ready}
                raise SystemExit(f"agents did not become idle in 180 s: {states}")
            time.sleep(1.0)
    finally:
        monitor.close()
    return fleet


# -- measurements -----------------------------------------------------------------------------------


def floor_once(fleet: Fleet) -> float:
    env = {**os.environ, **GIT_ENV}
    started = time.perf_counter()
    for agent in fleet.agents:
        cwd = fleet.layout.worktree(agent.name)
        for argv in (
            ["git", "diff", "--numstat", "--merge-base", fleet.base],
            ["git", "ls-files", "-o", "--exclude-standard"],
        ):
            subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def cold_once(fleet: Fleet) -> tuple[float, int]:
    monitor = Monitor(fleet)
    try:
        started = time.perf_counter()
        snap = monitor.tick()
        elapsed = time.perf_counter() - started
    finally:
        monitor.close()
    errors = [a.git_error for a in snap.agents if a.git_error]
    if errors or monitor.git_reads != len(fleet.agents):
        raise SystemExit(f"cold reading incomplete: {monitor.git_reads} readings, errors {errors[:3]}")
    return elapsed, monitor.git_reads


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


class Feed:
    """The publish callback of the live monitor: counts snapshots and spots awaited drift."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.last: FleetSnapshot | None = None
        self.awaiting: tuple[str, str, float] | None = None  # agent, path, t0
        self.seen = threading.Event()
        self.latency = 0.0

    def __call__(self, snap: FleetSnapshot) -> None:
        now = time.perf_counter()
        self.count += 1
        self.last = snap
        with self.lock:
            awaiting = self.awaiting
        if awaiting is None:
            return
        name, path, t0 = awaiting
        agent = snap.agent(name)
        if agent is not None and path in agent.drift:
            with self.lock:
                self.awaiting = None
            self.latency = now - t0
            self.seen.set()


def measure_live(
    fleet: Fleet, *, idle_seconds: float, writes: int, warmup: float, seed: int
) -> dict[str, Any]:
    """Run the monitor loop: latency of writes first, then a quiet window in steady state."""
    monitor = Monitor(fleet)
    feed = Feed()
    stop = threading.Event()
    errors: list[str] = []
    thread = threading.Thread(
        target=monitor.run,
        args=(feed, stop),
        kwargs={"on_error": errors.append},
        daemon=True,
        name="fleet-monitor",
    )
    started = time.monotonic()
    thread.start()
    rng = random.Random(seed)
    result: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 120
        while feed.count == 0:
            if time.monotonic() > deadline:
                raise SystemExit("the live monitor published nothing in 120 s")
            time.sleep(0.05)
        time.sleep(3.0)  # let the watcher set its inotify watches on every worktree

        latencies: list[float] = []
        misses = 0
        names = [a.name for a in fleet.agents]
        for i in range(writes):
            name = rng.choice(names)
            tree = fleet.layout.worktree(name)
            docs = sorted(p.name for p in (tree / "docs").glob("chapter*") if p.is_dir())
            folder = f"docs/{rng.choice(docs)}/" if docs else ""  # an existing folder, out of scope
            rel = f"{folder}bench-drift-{i:03d}-{secrets.token_hex(3)}.md"
            target = tree / rel
            feed.seen.clear()
            t0 = time.perf_counter()
            with feed.lock:
                feed.awaiting = (name, rel, t0)
            target.write_text(f"drift {i}\n", encoding="utf-8")
            if feed.seen.wait(timeout=10.0):
                latencies.append(feed.latency)
            else:
                misses += 1
                with feed.lock:
                    feed.awaiting = None
            time.sleep(rng.uniform(0.2, 0.6))
        result["latency_samples"] = len(latencies)
        result["latency_misses_10s"] = misses
        result["latency_median_s"] = round(statistics.median(latencies), 4) if latencies else None
        result["latency_p95_s"] = round(percentile(latencies, 95), 4) if latencies else None
        result["latency_max_s"] = round(max(latencies), 4) if latencies else None

        # Quiet window: start once the readings taken at start are older than the resync age,
        # so the rolling resync runs at its steady pace during the window.
        rest = warmup - (time.monotonic() - started)
        if rest > 0:
            log(f"waiting {rest:.0f}s for the rolling resync to reach its steady state")
            time.sleep(rest)
        server = bench_server_pid.get(fleet.tmux.socket)
        reads0, count0, cpu0, server0 = monitor.git_reads, feed.count, cpu_now(), proc_cpu(server)
        threads0, kids0 = thread_cpu(), children_cpu()
        wall0 = time.perf_counter()
        time.sleep(idle_seconds)
        wall = time.perf_counter() - wall0
        cpu = cpu_now() - cpu0
        threads1 = thread_cpu()
        breakdown = {k: round(v - threads0.get(k, 0.0), 3) for k, v in threads1.items()}
        breakdown["children (git, tmux clients)"] = round(children_cpu() - kids0, 3)
        result["idle_cpu_breakdown_s"] = {k: v for k, v in breakdown.items() if v}
        result["idle_window_s"] = round(wall, 2)
        result["idle_cpu_s"] = round(cpu, 4)
        result["idle_cpu_s_per_30s"] = round(cpu * 30 / wall, 4)
        result["idle_git_readings"] = monitor.git_reads - reads0
        result["idle_publishes"] = feed.count - count0
        result["idle_tmux_server_cpu_s"] = round(proc_cpu(server) - server0, 4)
        result["inotify_watches"] = inotify_watches()
        result["monitor_watching"] = monitor.watching
    finally:
        stop.set()
        monitor._wake.set()
        thread.join(timeout=10)
        monitor.close()
    result["monitor_errors"] = list(monitor.errors) + errors
    return result


bench_server_pid: dict[str, int | None] = {}


def measure(bench: Bench, count: int, args: argparse.Namespace) -> dict[str, Any]:
    fleet = bring_up(bench, count)
    bench_server_pid[bench.socket] = bench.tmux_server_pid()
    log(f"N={count}: cold readings vs floor ({args.repeats} rounds), load {loadavg()}")
    floors: list[float] = []
    colds: list[float] = []
    load_before = loadavg()
    for _ in range(args.repeats):
        floors.append(floor_once(fleet))
        colds.append(cold_once(fleet)[0])
    row: dict[str, Any] = {
        "agents": count,
        "load_at_start": load_before,
        "cold_s": round(statistics.median(colds), 4),
        "cold_best_s": round(min(colds), 4),
        "cold_first_s": round(colds[0], 4),
        "floor_s": round(statistics.median(floors), 4),
        "floor_best_s": round(min(floors), 4),
        "cold_ratio": round(statistics.median(colds) / statistics.median(floors), 3),
        "cold_ratio_best": round(min(colds) / min(floors), 3),
    }
    log(f"N={count}: cold {row['cold_s']}s floor {row['floor_s']}s ratio {row['cold_ratio']}")
    log(f"N={count}: live monitor: {args.writes} writes, then {args.idle}s idle")
    row.update(
        measure_live(fleet, idle_seconds=args.idle, writes=args.writes, warmup=args.warmup, seed=count)
    )
    row["load_at_end"] = loadavg()
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    row["peak_rss_children_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    row["meets_targets"] = meets(row)
    log(f"N={count}: {json.dumps({k: v for k, v in row.items() if k != 'monitor_errors'})}")
    return row


def meets(row: dict[str, Any]) -> dict[str, bool]:
    def ok(key: str, limit: float) -> bool:
        value = row.get(key)
        return value is not None and value <= limit

    return {key: ok(key, limit) for key, limit in TARGETS.items()}


# -- the dashboard (optional) -----------------------------------------------------------------------


def measure_ui(fleet: Fleet, presses: int = 30, window: float = 20.0) -> dict[str, Any]:
    """Keystroke latency and redraw CPU of the dashboard on this live fleet (headless Pilot)."""
    try:
        from fleet_tui.ui.app import FleetApp
        from fleet_tui.ui.messages import SnapshotArrived
        from fleet_tui.ui.source import LiveSource
    except ImportError as exc:
        return {"ui": f"not measured: the dashboard does not exist yet ({exc})"}
    import asyncio

    class CountingSource(LiveSource):
        published = 0

        def run(self, publish: Any, stop: threading.Event, on_error: Any) -> None:
            def counted(snapshot: FleetSnapshot) -> None:
                self.published += 1
                publish(snapshot)

            super().run(counted, stop, on_error)

    async def drive() -> dict[str, Any]:
        source = CountingSource(fleet)
        app = FleetApp(source)
        result: dict[str, Any] = {}
        async with app.run_test(size=(200, 60)) as pilot:
            deadline = time.monotonic() + 60
            while app.snapshot is None or app.table.row_count < len(fleet.agents):
                if time.monotonic() > deadline:
                    return {"ui": "not measured: the dashboard showed no fleet in 60 s"}
                await pilot.pause(0.1)
            await pilot.pause(2.0)
            table = app.table
            latencies: list[float] = []
            direction = "down"
            for _ in range(presses):
                before = table.cursor_row
                if before >= table.row_count - 1:
                    direction = "up"
                elif before <= 0:
                    direction = "down"
                key = direction
                t0 = time.perf_counter()
                await pilot.press(key)
                while table.cursor_row == before and time.perf_counter() - t0 < 5:
                    await asyncio.sleep(0.001)
                latencies.append(time.perf_counter() - t0)
                await pilot.pause(0.05)
            result["ui_key_presses"] = len(latencies)
            result["ui_key_latency_median_s"] = round(statistics.median(latencies), 4)
            result["ui_key_latency_p95_s"] = round(percentile(latencies, 95), 4)
            result["ui_key_latency_max_s"] = round(max(latencies), 4)

            # Redraw CPU of the UI thread (this thread: run_test runs the app here) per snapshot
            # while nothing changes (the monitor publishes one per second).
            published, cpu0, wall0 = source.published, time.thread_time(), time.perf_counter()
            await pilot.pause(window)
            refreshes = source.published - published
            cpu = time.thread_time() - cpu0
            result["ui_idle_refreshes"] = refreshes
            result["ui_idle_cpu_s_per_30s"] = round(cpu * 30 / (time.perf_counter() - wall0), 4)
            result["ui_cpu_per_idle_refresh_ms"] = round(cpu / max(1, refreshes) * 1000, 2)

            # A refresh where every row changes (each agent's last line), applied and drawn.
            snapshot = app.snapshot
            assert snapshot is not None
            costs: list[float] = []
            for round_ in range(5):
                agents = tuple(
                    a.model_copy(update={"tail": (*a.tail, f"bench line {round_} of {a.name}")})
                    for a in snapshot.agents
                )
                changed = snapshot.model_copy(update={"agents": agents})
                cpu0 = time.thread_time()
                app.post_message(SnapshotArrived(changed))
                await pilot.pause()
                await pilot.wait_for_scheduled_animations()
                costs.append(time.thread_time() - cpu0)
            result["ui_cpu_per_full_refresh_ms"] = round(statistics.median(costs) * 1000, 2)
            result["ui_cells_rewritten_full_refresh"] = table.cell_updates
        return result

    try:
        return asyncio.run(drive())
    except Exception as exc:  # the monitor figures stand on their own
        return {"ui": f"not measured: {type(exc).__name__}: {exc}"}


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 50, 100], help="fleet sizes")
    parser.add_argument("--files", type=int, default=2000, help="tracked files in the repository")
    parser.add_argument("--repeats", type=int, default=3, help="cold reading / floor rounds")
    parser.add_argument("--writes", type=int, default=25, help="writes for the latency figure (>= 20)")
    parser.add_argument("--idle", type=float, default=30.0, help="quiet window in seconds")
    parser.add_argument(
        "--warmup",
        type=float,
        default=65.0,
        help="seconds from the monitor's start to the quiet window (past the resync age)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--ui", action="store_true", help="also measure the dashboard")
    parser.add_argument("--signals", action="store_true", help="agents with hooks installed (claude-style)")
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
        "inotify_max_user_watches": int(Path("/proc/sys/fs/inotify/max_user_watches").read_text()),
        "uptime": version(["uptime"]),
    }


def print_table(report: dict[str, Any]) -> None:
    keys = [
        ("agents", "N"),
        ("cold_s", "cold s"),
        ("floor_s", "floor s"),
        ("cold_ratio", "ratio"),
        ("idle_cpu_s_per_30s", "idle CPU/30s"),
        ("idle_git_readings", "idle reads"),
        ("latency_median_s", "lat p50"),
        ("latency_p95_s", "lat p95"),
        ("peak_rss_mb", "RSS MB"),
    ]
    print(" | ".join(title for _, title in keys))
    for row in report["results"]:
        print(" | ".join(str(row.get(key)) for key, _ in keys))
    print(f"load: {report['machine']['uptime']}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.agents = sorted(set(args.agents))
    tmp = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    bench: Bench | None = None

    def on_term(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    report: dict[str, Any] = {"targets_at_100": TARGETS, "machine": machine(), "results": []}
    try:
        with hermetic(tmp):
            started = time.perf_counter()
            report["signals"] = args.signals
            report["repo"] = build_repo(tmp / "repo", args.files)
            log(f"built repository {report['repo']} in {time.perf_counter() - started:.1f}s")
            socket = f"fleet-bench-{os.getpid()}-{secrets.token_hex(3)}"
            bench = Bench(tmp=tmp, socket=socket, signals=args.signals)
            for count in args.agents:
                report["results"].append(measure(bench, count, args))
            if args.ui:  # last, so the dashboard's threads and heap do not weigh on the monitor figures
                count = args.agents[-1]
                log(f"N={count}: dashboard (Pilot): keystrokes, then idle and full refreshes")
                ui = {"agents": count, **measure_ui(bench.fleet(count))}
                log(f"N={count}: {json.dumps(ui)}")
                report["ui"] = ui
            report["machine"]["uptime_at_end"] = machine()["uptime"]
    finally:
        if bench is not None:
            bench.kill_server()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
