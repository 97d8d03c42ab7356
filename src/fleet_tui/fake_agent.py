"""A scripted stand-in for an AI coding agent: it really writes files, commits, asks and crashes.

Tests and the demo fleet run it in real tmux panes. A script is one step per line:

    say TEXT              print a line                    sleep SECONDS
    write PATH TEXT       write a file (\\n escapes)       append PATH TEXT
    delete PATH           rename OLD NEW                   binary PATH BYTES
    commit MESSAGE        commit everything in the worktree (skipped when nothing changed)
    ask QUESTION          print a y/n question and wait for the answer on stdin
    wait-file PATH        wait until a file exists (a cue from a test)
    work SECONDS TEXT     print progress lines with a spinner for a while
    show-prompt           print the task it was given      show-handoff   print the handoff
    orphan                start a background child that ignores SIGTERM and SIGHUP
    exit CODE             exit with that code              crash          raise an exception
    idle                  show an input prompt and wait (also what happens at the end of a script)
    touch PATH            create an empty file (a cue for a test, or for the next run)
    if-file PATH STEP...  run the rest of the line as a step only when PATH exists
    unless-file PATH STEP...  the same, only when PATH does not exist
    == restart ==         steps after this line run instead when started with --handoff-file

$VARS in paths are expanded (a reviewer writes its verdict to $FLEET_VERDICT_FILE).

Arguments of steps are split like a shell line, so quote text with spaces: say "hello there".
"""

from __future__ import annotations

import argparse
import codecs
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
RESTART_MARKER = "== restart =="


def _text(raw: str) -> str:
    return codecs.decode(raw, "unicode_escape")


def _print(*parts: str, end: str = "\n") -> None:
    sys.stdout.write(" ".join(parts) + end)
    sys.stdout.flush()


def steps_for(script: str, restarted: bool) -> list[str]:
    lines = [ln.strip() for ln in script.splitlines()]
    if RESTART_MARKER in lines:
        cut = lines.index(RESTART_MARKER)
        lines = lines[cut + 1 :] if restarted else lines[:cut]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def run_step(line: str, prompt: Path | None, handoff: Path | None, speed: float) -> None:
    verb, _, rest = line.partition(" ")
    args = shlex.split(rest) if rest else []
    if verb in ("write", "append", "delete", "binary", "touch", "wait-file") and args:
        args[0] = os.path.expandvars(args[0])
    if verb in ("if-file", "unless-file"):
        cue, *step = args
        if step and Path(os.path.expandvars(cue)).exists() == (verb == "if-file"):
            run_step(shlex.join(step), prompt, handoff, speed)
        return
    if verb == "touch":
        Path(args[0]).parent.mkdir(parents=True, exist_ok=True)
        Path(args[0]).touch()
        return
    if verb == "say":
        _print(_text(" ".join(args)))
    elif verb == "sleep":
        time.sleep(float(args[0]) / speed)
    elif verb in ("write", "append"):
        path = Path(args[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if verb == "append" else "w", encoding="utf-8") as fh:
            fh.write(_text(" ".join(args[1:])))
        _print(f"  ✎ {'edited' if verb == 'append' else 'wrote'} {path}")
    elif verb == "delete":
        Path(args[0]).unlink(missing_ok=True)
        _print(f"  ✗ deleted {args[0]}")
    elif verb == "rename":
        Path(args[1]).parent.mkdir(parents=True, exist_ok=True)
        Path(args[0]).rename(args[1])
        _print(f"  → renamed {args[0]} to {args[1]}")
    elif verb == "binary":
        Path(args[0]).parent.mkdir(parents=True, exist_ok=True)
        Path(args[0]).write_bytes(bytes(range(256)) * (int(args[1]) // 256 + 1))
        _print(f"  ✎ wrote binary {args[0]}")
    elif verb == "commit":
        _git("add", "-A")
        if _git("diff", "--cached", "--quiet").returncode != 0:
            _git("commit", "-q", "-m", " ".join(args))
            _print(f"  ● committed: {' '.join(args)}")
    elif verb == "ask":
        _print(_text(" ".join(args)) + " [y/n] ", end="")
        answer = sys.stdin.readline().strip().lower()
        _print("  ok, going ahead" if answer.startswith("y") else "  ok, leaving it as it is")
    elif verb == "wait-file":
        while not Path(args[0]).exists():
            time.sleep(0.05)
    elif verb == "work":
        seconds, text = float(args[0]) / speed, _text(" ".join(args[1:]))
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            _print(f"{SPINNER[i % len(SPINNER)]} {text} ({i + 1})")
            i += 1
            time.sleep(min(0.5, max(0.05, end - time.monotonic())))
    elif verb == "show-prompt":
        _print("Task:")
        _print(prompt.read_text(encoding="utf-8") if prompt and prompt.exists() else "(none)")
    elif verb == "show-handoff":
        _print("Handoff received:")
        _print(handoff.read_text(encoding="utf-8") if handoff and handoff.exists() else "(none)")
    elif verb == "orphan":
        child = subprocess.Popen(
            [sys.executable, "-c", _ORPHAN],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert child.stdout is not None
        child.stdout.readline()  # it has installed its SIGTERM handler
        child.stdout.close()
        _print(f"  started background helper {child.pid}")
    elif verb == "exit":
        _print(f"done, exiting with {args[0] if args else 0}")
        sys.exit(int(args[0]) if args else 0)
    elif verb == "crash":
        raise RuntimeError(" ".join(args) or "the fake agent crashed on cue")
    elif verb == "idle":
        idle()
    else:
        raise SystemExit(f"fake agent: unknown step {line!r}")


# A background helper that ignores SIGTERM and SIGHUP, like the stray (nohup'd) processes some
# agent CLIs leave behind.
_ORPHAN = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "sys.stdout.close()\n"
    "while True: time.sleep(1)"
)


def idle() -> None:
    """Sit at an input prompt like an interactive agent; echo what the person sends."""
    while True:
        _print("> ", end="")
        line = sys.stdin.readline()
        if not line:
            time.sleep(3600)
            continue
        _print(f"received: {line.rstrip()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fleet-fake-agent", description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, required=True)
    parser.add_argument("--prompt-file", type=Path)
    parser.add_argument("--handoff-file", type=Path)
    parser.add_argument("--speed", type=float, default=float(os.environ.get("FAKE_AGENT_SPEED", 1)))
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    restarted = args.handoff_file is not None and args.handoff_file.exists()
    for line in steps_for(args.script.read_text(encoding="utf-8"), restarted):
        run_step(line, args.prompt_file, args.handoff_file, args.speed)
    idle()


if __name__ == "__main__":
    main()
