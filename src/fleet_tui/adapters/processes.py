"""The one module that runs and signals operating-system processes: a command with a timeout that
ends its whole process group, and ending an agent's whole process tree.

tmux makes each pane's first process a session leader, so every process an agent starts shares that
session id unless it calls setsid() itself; children that double-fork to escape the tree are still
found by session id. The process table comes from psutil (Linux, macOS, the BSDs).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    sid: int


def _proc_table() -> list[Proc]:
    """Every live (not zombie) process with its parent and session id, through psutil."""
    procs: list[Proc] = []
    for p in psutil.process_iter(["pid", "ppid", "status"]):
        info = p.info
        if info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            sid = os.getsid(info["pid"])
        except OSError:  # gone since the table was read, or not ours to ask about
            continue
        procs.append(Proc(info["pid"], info["ppid"], sid))
    return procs


def tree(leader: int) -> set[int]:
    """Every live process descended from `leader` or in its session, the leader included."""
    procs = _proc_table()
    children: dict[int, list[int]] = {}
    for p in procs:
        children.setdefault(p.ppid, []).append(p.pid)
    todo = [leader, *(p.pid for p in procs if p.sid == leader)]
    seen: set[int] = set()
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo.extend(children.get(pid, []))
    return seen & {p.pid for p in procs}


def with_env(name: str, value: str) -> set[int]:
    """Live processes whose environment holds NAME=value (where the system lets us read other
    processes' environments: Linux, and macOS for our own user's processes).

    fleet-tui marks every agent process this way, so processes that left the pane's tree and
    session (setsid, or survivors of a lost tmux session) are still found and stopped.
    """
    found: set[int] = set()
    for p in psutil.process_iter():
        try:
            if p.environ().get(name) == value and p.status() != psutil.STATUS_ZOMBIE:
                found.add(p.pid)
        except (psutil.Error, OSError):  # gone, a kernel thread, or another user's process
            continue
    return found


def with_argv(*words: str) -> set[int]:
    """Live processes whose command line holds every one of `words` as an argument."""
    found: set[int] = set()
    for p in psutil.process_iter(["cmdline"]):
        argv = p.info["cmdline"] or []
        if all(w in argv for w in words):
            found.add(p.pid)
    return found


def stop_pids(pids: set[int], grace: float) -> StopResult:
    """SIGTERM, then SIGKILL after `grace` seconds for those still alive."""
    targets = alive(pids)
    if not targets:
        return StopResult((), ())
    _signal(targets, signal.SIGTERM)
    stubborn = _wait_gone(targets, time.monotonic() + grace)
    _signal(stubborn, signal.SIGKILL)
    _wait_gone(stubborn, time.monotonic() + 2.0)
    return StopResult(tuple(sorted(targets - stubborn)), tuple(sorted(stubborn)))


def _signal(pids: set[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _wait_gone(pids: set[int], deadline: float) -> set[int]:
    while True:
        left = alive(pids)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


@dataclass(frozen=True)
class StopResult:
    terminated: tuple[int, ...]  # ended by SIGTERM
    killed: tuple[int, ...]  # needed SIGKILL


def stop_tree(leader: int, grace: float = 3.0, *, spare_leader: bool = True) -> StopResult:
    """End the processes under a pane's leader: SIGTERM, then SIGKILL after `grace` seconds.

    With `spare_leader` the leader (fleet-tui's launcher) is left to record the exit code and end
    by itself; it is killed only if it still lives after the others are gone.
    """
    targets = tree(leader) - ({leader} if spare_leader else set())
    result = stop_pids(targets, grace)
    if spare_leader and _exists(leader):
        time.sleep(0.2)
        left = tree(leader) - {leader}
        if left:
            _signal(left, signal.SIGKILL)
    return result


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if _exists(pid)}


class Cancelled(Exception):
    """A command run by `run_command` was cancelled; its whole process group was ended."""


def run_command(
    command: str,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    *,
    limit: int = 20_000,
    grace: float = 3.0,
    cancel: Callable[[], bool] | None = None,
) -> tuple[int | None, str]:
    """Run a shell command in a process group of its own: (exit code, or None on a timeout; the last
    `limit` characters of its output, stderr included).

    However it ends, the whole group is ended, SIGTERM then SIGKILL after `grace`: on a timeout,
    when `cancel()` turns true (then Cancelled is raised), on Ctrl-C in the caller, and when the
    shell is done but something it started still runs (and holds the output pipe open). A verify
    command's test runner must not keep running, nor keep anyone waiting.
    """
    proc = subprocess.Popen(
        command, shell=True, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                out, _ = proc.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel():
                _end_group(proc, grace)
                proc.communicate()
                raise Cancelled(command)
            if time.monotonic() >= deadline:
                _end_group(proc, grace)
                out, _ = proc.communicate()
                text = out.decode("utf-8", "replace")
                return None, text[-limit:] + f"\n[fleet-tui] timed out after {timeout:g} s"
            if proc.poll() is not None:  # the shell is done; what it left running goes too
                _end_group(proc, 0.5)
    except BaseException:  # Ctrl-C, or anything else: never leave the group behind
        if proc.poll() is None or _group_alive(proc.pid):
            _end_group(proc, grace)
        raise
    _end_group(proc, 0.0) if _group_alive(proc.pid) else None
    return proc.returncode, out.decode("utf-8", "replace")[-limit:]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _end_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    # Whatever of the group is left (the leader ignored SIGTERM, or children outlived it) ends now.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


# -- background programs ------------------------------------------------------------------------


def spawn_detached(argv: list[str], cwd: Path, env: dict[str, str], output: Path) -> int:
    """Start a program in its own session (it outlives the terminal that started it); its output
    goes to `output`. Returns its pid."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("ab") as out:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
    return proc.pid


def signal_pid(pid: int, sig: signal.Signals) -> bool:
    """Send a signal; False when there is no such process."""
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def desktop_notify(title: str, body: str) -> str | None:
    """A desktop notification where one is available (notify-send, osascript); quietly nothing
    elsewhere. Returns the program used, or None."""
    import shutil

    if shutil.which("notify-send"):
        argv = ["notify-send", "--app-name=fleet-tui", title, body]
    elif shutil.which("osascript"):
        # The texts travel as arguments, never inside the script: nothing in them is run.
        script = [
            "on run argv",
            "display notification (item 2 of argv) with title (item 1 of argv)",
            "end run",
        ]
        argv = ["osascript", *(a for line in script for a in ("-e", line)), title, body]
    else:
        return None
    try:
        subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return argv[0]


def run_hook(command: str, stdin: str, cwd: Path, timeout: float = 30.0) -> tuple[int | None, str]:
    """Run a person's shell command with `stdin` on its standard input: (exit code or None on a
    timeout, the end of its output). Its whole process group ends on a timeout."""
    proc = subprocess.Popen(
        command, shell=True, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(stdin.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, f"timed out after {timeout:g} s"
    return proc.returncode, out.decode("utf-8", "replace")[-2000:]
