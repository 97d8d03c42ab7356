"""Benchmark of the hook writer: what one agent event costs the agent (a script, not a test).

    .venv/bin/python bench/bench_hook.py [--events 50] [--json]

Runs each writer as Claude Code runs a hook, `sh -c '<command>'` with the event's JSON on standard
input, and reports the wall time per event (median and p95):

- the command fleet-tui writes into the agents' settings (`python -S -E fleet_tui/hook.py ...`);
- the `fleet-tui hook` console script (the same writer behind the whole CLI's start-up);
- a bare `printf >>` shell line, the floor for any writer that starts a process.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fleet_tui.engine.hooks import hook_argv

PAYLOAD = json.dumps(
    {
        "hook_event_name": "PreToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": "src/app.py", "content": "x = 1\n" * 2000},
        "session_id": "bench",
        "transcript_path": "/tmp/transcript.jsonl",
    }
)


def per_event(command: str, events: int) -> dict[str, float]:
    times = []
    for _ in range(events):
        t0 = time.perf_counter()
        subprocess.run(["sh", "-c", command], input=PAYLOAD, text=True, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "signals.jsonl"
        cli = Path(sys.executable).parent / "fleet-tui"
        writers = {
            "hook.py (what the settings run)": shlex.join(hook_argv("event", out, "claude")),
            "fleet-tui hook (console script)": shlex.join([str(cli), "hook", "event", str(out), "claude"]),
            "printf >> (floor)": f"printf '%s\\n' x >> {shlex.quote(str(out))}",
        }
        report = {name: per_event(command, args.events) for name, command in writers.items()}
        lines = out.read_text(encoding="utf-8").splitlines()
        report["lines_written"] = {"count": len(lines), "bytes_per_event": len(lines[0]) if lines else 0}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, figures in report.items():
            print(f"{name}: {figures}")


if __name__ == "__main__":
    main()
