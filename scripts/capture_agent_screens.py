#!/usr/bin/env python3
"""Capture real screens of the agent CLIs (claude, codex, gemini, aider) and of a plain shell.

Re-runnable helper for the screen corpus in ``tests/fixtures/screens``. NOT part of the test suite
(it is not named ``test_*`` and lives outside ``tests/``) and it installs nothing globally.

What it does, per agent:

* runs the CLI in a private tmux server (``tmux -L capture-<agent>``), pane 120x40, inside a
  throw-away git repository in /tmp, from a fresh empty HOME, through ``env -i`` with fake keys;
* points the CLI at ``scripts/fake_model_api.py`` (started here on 127.0.0.1) which answers slowly
  and asks for a tool call, so working / permission / idle screens show up; switches the fake API
  into error modes (500 / 529 / connection refused) for the retry and error screens;
* drives it with ``tmux send-keys`` and saves ``tmux capture-pane -p`` output at each moment to
  ``<out>/<preset>/<name>.txt`` (trailing blank lines trimmed to one, temp paths normalised).

Prerequisites (throw-away prefixes, never global)::

    npm install --prefix /tmp/agent-clis @anthropic-ai/claude-code @openai/codex @google/gemini-cli
    python3 -m venv /tmp/aider-venv && /tmp/aider-venv/bin/pip install aider-chat

Usage::

    python3 scripts/capture_agent_screens.py [--out /tmp/screens-out] [claude codex gemini aider shell]

Each scenario waits with polling loops (``wait_for``) and writes what it saw; when a CLI changes its
wording a wait may time out: the capture is then saved with a ``-TIMEOUT`` suffix for inspection
rather than aborting the run. Labels (``labels.toml``) are written by a person, not by this script.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CLI_PREFIX = Path(os.environ.get("AGENT_CLIS", "/tmp/agent-clis"))
AIDER_VENV = Path(os.environ.get("AIDER_VENV", "/tmp/aider-venv"))
PORT = int(os.environ.get("FAKE_API_PORT", "8765"))
DEAD_PORT = PORT + 1  # nothing listens there: "connection refused"
HERE = Path(__file__).resolve().parent
TASK = "Create hello.txt containing the word hello, then show it."
BASE_PATH = f"{CLI_PREFIX}/node_modules/.bin:{AIDER_VENV}/bin:/usr/local/bin:/usr/bin:/bin"

OUT = Path("/tmp/screens-out")


# ---------------------------------------------------------------------------- fake api
class FakeApi:
    def __init__(self, port: int = PORT):
        self.port = port
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        if self.proc and self.proc.poll() is None:
            return
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "fake_model_api.py"), "--port", str(self.port), "--log", "/tmp/fake-api.log"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(50):
            try:
                self.ctl("mode", "normal")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("fake api did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None

    def ctl(self, what: str, value) -> None:
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__{what}/{value}", timeout=2).read()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# ---------------------------------------------------------------------------- tmux pane
class Pane:
    """One pane in a private tmux server, running bash from an empty environment."""

    def __init__(self, preset: str, n: int, env: dict[str, str] | None = None, files: dict[str, str] | None = None):
        self.preset = preset
        self.socket = f"capture-{preset}"
        self.home = Path(f"/tmp/home-{preset}-{n}")
        self.repo = Path(f"/tmp/repo-{preset}-{n}")
        for p in (self.home, self.repo):
            shutil.rmtree(p, ignore_errors=True)
            p.mkdir(parents=True)
        for rel, text in (files or {}).items():
            f = self.home / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text)
        git = ["git", "-C", str(self.repo), "-c", "user.name=Capture", "-c", "user.email=capture@example.invalid"]
        subprocess.run(git + ["init", "-q", "-b", "main"], check=True)
        (self.repo / "README.md").write_text("# demo\n\nA tiny repository for screen captures.\n")
        (self.repo / "app.py").write_text('def main():\n    print("demo")\n\n\nif __name__ == "__main__":\n    main()\n')
        subprocess.run(git + ["add", "."], check=True)
        subprocess.run(git + ["commit", "-q", "-m", "init"], check=True)
        base = {"HOME": str(self.home), "PATH": BASE_PATH, "TERM": "xterm-256color", "LANG": "C.UTF-8",
                "USER": "dev", "SHELL": "/bin/bash", "PS1": "dev@box:\\W$ "}
        base.update(env or {})
        envargs = " ".join(shlex.quote(f"{k}={v}") for k, v in base.items())
        self.kill()
        self.tmux("-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40", "-s", "cap", "-c", str(self.repo),
                  f"env -i {envargs} bash --noprofile --norc")
        self.tmux("set-option", "-g", "remain-on-exit", "on")
        self.tmux("set-option", "-g", "history-limit", "5000")
        self.wait_for(r"\$ $")

    def tmux(self, *args: str, check: bool = True) -> str:
        r = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"tmux {args}: {r.stderr}")
        return r.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "cap")

    def send(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "cap", *(["-l"] if literal else []), *keys)

    def type(self, text: str, enter: bool = True) -> None:
        self.send(text, literal=True)
        if enter:
            time.sleep(0.3)
            self.send("Enter")

    def wait_for(self, pattern: str, timeout: float = 30, gone: bool = False) -> bool:
        """Poll until regex `pattern` appears (or disappears, with gone=True) on the screen."""
        rx = re.compile(pattern, re.M)
        end = time.time() + timeout
        while time.time() < end:
            found = bool(rx.search(self.screen()))
            if found != gone:
                return True
            time.sleep(0.25)
        return False

    def wait_stable(self, quiet: float = 1.5, timeout: float = 20) -> None:
        """Poll until the screen has not changed for `quiet` seconds."""
        last, since, end = None, time.time(), time.time() + timeout
        while time.time() < end:
            cur = self.screen()
            if cur != last:
                last, since = cur, time.time()
            elif time.time() - since >= quiet:
                return
            time.sleep(0.2)

    def snap(self, name: str, ok: bool = True) -> str:
        text = self.screen()
        text = text.replace(str(self.repo), "/tmp/repo").replace(str(self.home), "/tmp/home")
        text = re.sub(r"\n{3,}$", "\n\n", text.rstrip(" ") if text.endswith("\n") else text + "\n")
        lines = text.split("\n")
        while len(lines) > 2 and lines[-1] == "" and lines[-2] == "" and lines[-3] == "":
            lines.pop()
        text = "\n".join(lines)
        if not ok:
            name += "-TIMEOUT"
        dest = OUT / self.preset / f"{name}.txt"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
        print(f"  saved {dest}{'' if ok else '  (wait timed out)'}")
        return text

    def exit_status(self) -> str:
        """Ask the pane's bash for the last exit code (after the agent ended)."""
        self.type("echo \"exit=$?\"")
        self.wait_for(r"^exit=\d+")
        m = re.findall(r"^exit=(\d+)", self.screen(), re.M)
        return m[-1] if m else "?"

    def kill(self) -> None:
        self.tmux("kill-server", check=False)
        for _ in range(40):  # wait until the old server is really gone (its socket can linger)
            if subprocess.run(["tmux", "-L", self.socket, "has-session"], capture_output=True).returncode != 0:
                break
            time.sleep(0.1)
        time.sleep(0.3)


def ws(pane: Pane, pattern: str, name: str, timeout: float = 30, settle: float = 0.6) -> bool:
    """wait for pattern, settle a moment, snapshot."""
    ok = pane.wait_for(pattern, timeout)
    time.sleep(settle)
    pane.snap(name, ok)
    return ok
