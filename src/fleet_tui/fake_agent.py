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
    hook EVENT [KIND]     fire a hook from the --settings file (e.g. hook Notification permission_prompt)
    == restart ==         steps after this line run instead when started with --handoff-file

$VARS in paths are expanded (a reviewer writes its verdict to $FLEET_VERDICT_FILE).

With `--settings FILE` (a Claude Code settings file, as fleet-tui writes for hooked presets) it also
fires that file's hooks the way Claude Code does: SessionStart and UserPromptSubmit at the start,
PreToolUse/PostToolUse around each write and command, Notification(permission_prompt) at a
question, Stop when it reaches its prompt, SessionEnd when it exits.

Arguments of steps are split like a shell line, so quote text with spaces: say "hello there".
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
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


HOOKS: dict[str, list[str]] = {}  # event -> hook commands, from --settings


def load_hooks(settings: Path) -> None:
    data = json.loads(settings.read_text(encoding="utf-8"))
    for event, entries in data.get("hooks", {}).items():
        HOOKS[event] = [h["command"] for entry in entries for h in entry.get("hooks", [])]


def fire(event: str, **payload: str) -> None:
    """Run the hooks for `event` as Claude Code does: through a shell, the event as JSON on stdin."""
    body = json.dumps({"hook_event_name": event, "session_id": "fake", **payload})
    for command in HOOKS.get(event, ()):
        subprocess.run(["sh", "-c", command], input=body, text=True, check=False)


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


@dataclass(frozen=True)
class Run:
    """What the steps of one run can read: the task, the handoff, and how fast time passes."""

    prompt: Path | None
    handoff: Path | None
    speed: float


PATH_STEPS = ("write", "append", "delete", "binary", "touch", "wait-file")  # $VARS expanded in args[0]


def run_step(line: str, prompt: Path | None, handoff: Path | None, speed: float) -> None:
    verb, _, rest = line.partition(" ")
    args = shlex.split(rest) if rest else []
    if verb in PATH_STEPS and args:
        args[0] = os.path.expandvars(args[0])
    step = STEPS.get(verb)
    if step is None:
        raise SystemExit(f"fake agent: unknown step {line!r}")
    step(args, Run(prompt, handoff, speed))


def _if_file(args: list[str], run: Run, *, present: bool = True) -> None:
    cue, *step = args
    if step and Path(os.path.expandvars(cue)).exists() == present:
        run_step(shlex.join(step), run.prompt, run.handoff, run.speed)


def _touch(args: list[str], run: Run) -> None:
    Path(args[0]).parent.mkdir(parents=True, exist_ok=True)
    Path(args[0]).touch()


def _write(args: list[str], run: Run, *, append: bool = False) -> None:
    fire("PreToolUse", tool_name="Write")
    path = Path(args[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as fh:
        fh.write(_text(" ".join(args[1:])))
    _print(f"  ✎ {'edited' if append else 'wrote'} {path}")
    fire("PostToolUse", tool_name="Write")


def _delete(args: list[str], run: Run) -> None:
    Path(args[0]).unlink(missing_ok=True)
    _print(f"  ✗ deleted {args[0]}")


def _rename(args: list[str], run: Run) -> None:
    Path(args[1]).parent.mkdir(parents=True, exist_ok=True)
    Path(args[0]).rename(args[1])
    _print(f"  → renamed {args[0]} to {args[1]}")


def _binary(args: list[str], run: Run) -> None:
    Path(args[0]).parent.mkdir(parents=True, exist_ok=True)
    Path(args[0]).write_bytes(bytes(range(256)) * (int(args[1]) // 256 + 1))
    _print(f"  ✎ wrote binary {args[0]}")


def _commit(args: list[str], run: Run) -> None:
    _git("add", "-A")
    if _git("diff", "--cached", "--quiet").returncode != 0:
        _git("commit", "-q", "-m", " ".join(args))
        _print(f"  ● committed: {' '.join(args)}")


def _ask(args: list[str], run: Run) -> None:
    fire("PreToolUse", tool_name="Bash")
    _print(_text(" ".join(args)) + " [y/n] ", end="")
    fire("Notification", notification_type="permission_prompt", message="Fake needs your permission")
    answer = sys.stdin.readline().strip().lower()
    _print("  ok, going ahead" if answer.startswith("y") else "  ok, leaving it as it is")


def _wait_file(args: list[str], run: Run) -> None:
    while not Path(args[0]).exists():
        time.sleep(0.05)


def _work(args: list[str], run: Run) -> None:
    seconds, text = float(args[0]) / run.speed, _text(" ".join(args[1:]))
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        _print(f"{SPINNER[i % len(SPINNER)]} {text} ({i + 1})")
        i += 1
        time.sleep(min(0.5, max(0.05, end - time.monotonic())))


def _show(title: str, path: Path | None) -> None:
    _print(title)
    _print(path.read_text(encoding="utf-8") if path and path.exists() else "(none)")


def _orphan(args: list[str], run: Run) -> None:
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


def _exit(args: list[str], run: Run) -> None:
    fire("SessionEnd", reason="exit")
    _print(f"done, exiting with {args[0] if args else 0}")
    sys.exit(int(args[0]) if args else 0)


def _crash(args: list[str], run: Run) -> None:
    raise RuntimeError(" ".join(args) or "the fake agent crashed on cue")


STEPS: dict[str, Callable[[list[str], Run], None]] = {
    "if-file": _if_file,
    "unless-file": partial(_if_file, present=False),
    "touch": _touch,
    "say": lambda args, run: _print(_text(" ".join(args))),
    "sleep": lambda args, run: time.sleep(float(args[0]) / run.speed),
    "write": _write,
    "append": partial(_write, append=True),
    "delete": _delete,
    "rename": _rename,
    "binary": _binary,
    "commit": _commit,
    "ask": _ask,
    "wait-file": _wait_file,
    "work": _work,
    "show-prompt": lambda args, run: _show("Task:", run.prompt),
    "show-handoff": lambda args, run: _show("Handoff received:", run.handoff),
    "orphan": _orphan,
    "hook": lambda args, run: fire(args[0], **({"notification_type": args[1]} if len(args) > 1 else {})),
    "exit": _exit,
    "crash": _crash,
    "idle": lambda args, run: idle(),
}


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
        fire("Stop")
        line = sys.stdin.readline()
        if not line:
            time.sleep(3600)
            continue
        fire("UserPromptSubmit")
        _print(f"received: {line.rstrip()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fleet-fake-agent", description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, required=True)
    parser.add_argument("--prompt-file", type=Path)
    parser.add_argument("--handoff-file", type=Path)
    parser.add_argument("--settings", type=Path, help="a Claude Code settings file whose hooks to fire")
    parser.add_argument("--speed", type=float, default=float(os.environ.get("FAKE_AGENT_SPEED", 1)))
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    restarted = args.handoff_file is not None and args.handoff_file.exists()
    if args.settings is not None:
        load_hooks(args.settings)
        fire("SessionStart", source="startup")
        fire("UserPromptSubmit")
    for line in steps_for(args.script.read_text(encoding="utf-8"), restarted):
        run_step(line, args.prompt_file, args.handoff_file, args.speed)
    idle()


if __name__ == "__main__":
    main()
