#!/usr/bin/env python3
# ruff: noqa: E501, E702  (a capture driver: one step per line reads best)
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
        subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
        (self.repo / "README.md").write_text("# demo\n\nA tiny repository for screen captures.\n")
        (self.repo / "app.py").write_text('def main():\n    print("demo")\n\n\nif __name__ == "__main__":\n    main()\n')
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
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


# ---------------------------------------------------------------------------- scenarios
# Each scenario replays what was done by hand for the committed corpus. Screen names match the files
# in tests/fixtures/screens/<preset>/ so a re-run can be diffed against them.

def claude(api: FakeApi) -> None:
    # 1. only ANTHROPIC_API_KEY: onboarding preflight needs api.anthropic.com and exits (status 1)
    p = Pane("claude", 1, env={"ANTHROPIC_API_KEY": "sk-ant-fake-0000000000000000", "ANTHROPIC_BASE_URL": api.url})
    p.type("claude")
    ws(p, "Please check your internet", "first-run-unable-to-connect")
    print("  exit status", p.exit_status())
    # 2. ANTHROPIC_AUTH_TOKEN as well skips the OAuth/preflight steps; the API-key question still shows
    env = {"ANTHROPIC_API_KEY": "sk-ant-fake-0000000000000000", "ANTHROPIC_AUTH_TOKEN": "sk-ant-fake-0000000000000000",
           "ANTHROPIC_BASE_URL": api.url}
    p = Pane("claude", 2, env=env)
    api.ctl("mode", "normal"); api.ctl("delay", 6); api.ctl("tool", "shell")
    p.type("claude")
    ws(p, "Choose the text style", "theme-picker"); p.send("Enter")
    ws(p, "Do you want to use this API key", "api-key-dialog"); p.send("Up"); time.sleep(0.3); p.send("Enter")
    ws(p, "Press Enter to continue", "security-notes"); p.send("Enter")
    ws(p, "trust this folder", "trust-folder-dialog"); p.send("Enter")
    ws(p, r"\? for shortcuts", "idle-with-auth-warning", settle=2)
    p.type(TASK)
    ws(p, "esc to interrupt", "working-api-error-retrying", settle=2)
    ws(p, "Do you want to proceed", "permission-bash-command", 60); p.send("Enter")
    ws(p, "esc to interrupt", "working-after-tool", settle=1)
    ws(p, r"Done\. I created", "idle-after-answer", 60, settle=2)
    api.ctl("tool", "write"); p.type("Please create hello.py that prints hello.")
    ws(p, "esc to interrupt", "working-thinking-tip", settle=2)
    ws(p, "Do you want to create", "permission-create-file", 60); p.send("3")
    ws(p, "User rejected", "idle-after-rejected-edit", settle=2)
    api.ctl("delay", 30); p.type("Create notes.txt please."); time.sleep(3); p.send("Escape")
    time.sleep(3); p.snap("idle-interrupted-prompt-restored"); p.send("C-u"); p.type("Create notes.txt please.")
    time.sleep(12); p.snap("working-long-wait"); p.send("Escape"); time.sleep(2); p.send("C-u")
    api.ctl("delay", 2); api.ctl("mode", "error400"); p.type("Create notes.txt please.")
    ws(p, "API Error: 400", "idle-api-error-400", settle=3)
    api.ctl("mode", "error529"); p.type("Try again please.")
    ws(p, "Repeated 529", "idle-api-error-529-repeated", 90, settle=2)
    api.ctl("mode", "error500"); p.type("Try once more.")
    ws(p, r"attempt [3-9]/10", "working-api-error-500-retrying", 90)
    p.send("Escape"); time.sleep(2); p.send("C-u"); api.ctl("mode", "normal")
    p.send("C-c"); time.sleep(0.4); p.snap("idle-ctrl-c-again-to-exit")
    p.send("C-c"); ws(p, "claude --resume", "exited-ctrl-c-resume-hint"); print("  exit status", p.exit_status())
    (p.repo / ".task.txt").write_text(TASK + "\n")
    p.type(f'ANTHROPIC_BASE_URL=http://127.0.0.1:{DEAD_PORT} DISABLE_AUTOUPDATER=1 claude "$(cat .task.txt)"')
    ws(p, r"attempt [3-9]/10", "working-connection-refused-retrying", 60)
    ws(p, r"API Error: Unable to connect", "idle-connection-refused-error", 400, settle=2)
    p.kill()


CODEX_CONFIG = """model = "gpt-5-codex"
model_provider = "fake"
approval_policy = "on-request"
sandbox_mode = "read-only"
check_for_update_on_startup = false

[model_providers.fake]
name = "fake"
base_url = "{url}/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"

[projects."{repo}"]
trust_level = "trusted"

[analytics]
enabled = false
"""


def kill_codex_daemons(home: Path) -> None:
    """codex (without --no-daemon) leaves an app-server daemon behind; end the ones under this HOME."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        if args.startswith(str(home / ".codex")) and "app-server" in args:
            subprocess.run(["kill", "-9", pid], check=False)


def codex(api: FakeApi) -> None:
    # 1. fresh home, real provider (unreachable): sign-in, trust, reconnecting screens
    p = Pane("codex", 1, env={"OPENAI_API_KEY": "sk-fake-0000000000000000"})
    p.type("codex")
    ws(p, "Choose how you want to use Codex", "login-choose-method"); p.send("3")
    ws(p, "Sign in another way", "login-other-way"); p.send("Enter")
    ws(p, "Press enter to save", "login-api-key-entry"); p.send("Enter")
    ws(p, r"Trust this folder\?", "trust-folder"); p.send("Enter")
    ws(p, "Ask Codex to do anything", "idle-first-start", settle=3)
    p.send("F2"); ws(p, "esc dismiss", "startup-warning-bubblewrap"); p.send("Escape")
    p.type(TASK)
    ws(p, r"Reconnecting\.\.\. \d/5", "working-reconnecting-dns")
    ws(p, "waiting for network", "working-waiting-for-network", 90)
    p.send("Escape"); ws(p, "Conversation interrupted", "idle-conversation-interrupted")
    p.send("C-c"); ws(p, "Disconnected from this task", "exited-ctrl-c"); print("  exit status", p.exit_status())
    kill_codex_daemons(p.home)
    # 2. fake provider in config.toml
    home_n = 2
    repo = Path(f"/tmp/repo-codex-{home_n}")
    cfg = CODEX_CONFIG.format(url=api.url, repo=repo)
    p = Pane("codex", home_n, env={"OPENAI_API_KEY": "sk-fake-0000000000000000"},
             files={".codex/config.toml": cfg.replace('"on-request"', '"untrusted"')})
    (p.repo / ".task.txt").write_text(TASK + "\n")
    p.type('codex "$(cat .task.txt)"')
    ws(p, "Error loading configuration", "exited-config-error"); print("  exit status", p.exit_status())
    (p.home / ".codex/config.toml").write_text(cfg)
    api.ctl("mode", "normal"); api.ctl("delay", 8); api.ctl("tool", "shell")
    p.send("C-l"); p.type('codex "$(cat .task.txt)"')
    ws(p, r"Working \(", "working-first-turn")
    ws(p, "Would you like to run", "permission-run-command", 60); p.send("y")
    ws(p, "You approved", "working-after-approval", settle=1)
    ws(p, r"Worked for", "idle-after-answer", 60, settle=2)
    api.ctl("mode", "error500"); api.ctl("delay", 1); p.type("Try once more.")
    ws(p, "high demand", "idle-error-high-demand", 120, settle=3)
    api.ctl("mode", "error401"); p.type("And again.")
    ws(p, "401 Unauthorized", "idle-error-401", 60, settle=2)
    api.ctl("mode", "normal"); api.ctl("delay", 8); p.type("Create hello.txt one more time.")
    p.wait_for("Would you like to run", 60); p.send("Escape")
    ws(p, "You canceled", "idle-after-denied-command", settle=2)
    p.type("Refactor app.py to use argparse"); time.sleep(1); p.type("Refactor app.py to use argparse", enter=False)
    ws(p, "tab to queue message", "working-draft-tab-to-queue"); p.send("C-u")
    p.type("/exit"); ws(p, "Disconnected from this task", "exited-slash-exit-turn-still-running")
    print("  exit status", p.exit_status()); kill_codex_daemons(p.home)
    # 3. the preset's way: --no-daemon --no-alt-screen
    p.send("C-l"); p.type('codex --no-daemon --no-alt-screen "$(cat .task.txt)"')
    ws(p, "Would you like to run", "permission-run-command-no-alt-screen", 60); p.send("y")
    ws(p, "Worked for", "idle-after-answer-no-alt-screen", 60, settle=2)
    p.send("C-c"); ws(p, "To continue this session", "exited-ctrl-c-no-daemon")
    p.kill()


def gemini(api: FakeApi) -> None:
    env = {"GEMINI_API_KEY": "fake-gemini-key-0000", "GOOGLE_GEMINI_BASE_URL": api.url}
    p = Pane("gemini", 1, env=env)
    (p.repo / ".task.txt").write_text(TASK + "\n")
    api.ctl("mode", "normal"); api.ctl("delay", 6); api.ctl("tool", "shell")
    p.type("gemini")
    ws(p, "Do you trust the files in this folder", "trust-folder-dialog", 40); p.send("Enter")
    ws(p, "How would you like to authenticate", "auth-method-dialog"); p.send("Enter")
    ws(p, "Press Enter to submit", "api-key-entry"); p.send("Enter")
    ws(p, "Type your message", "idle-first-start", settle=2)
    p.type(TASK)
    ws(p, "esc to cancel", "working-first-turn", settle=1)
    ws(p, "Allow execution of", "permission-shell-command", 60); p.send("Enter")
    ws(p, "esc to cancel", "working-after-tool", settle=0.5)
    ws(p, r"Done\. I created", "idle-after-answer", 60, settle=2)
    api.ctl("tool", "write"); p.type("Please create hello.py that prints hello.")
    ws(p, r"Apply this change\?", "permission-write-file", 60); p.send("Escape")
    ws(p, "Rejected", "idle-after-rejected-edit", settle=2)
    api.ctl("mode", "error500"); api.ctl("delay", 1); p.type("Try again please.")
    time.sleep(4); p.snap("working-error-500-retry")
    p.send("Escape"); time.sleep(2)
    api.ctl("mode", "error400"); p.type("Try again please.")
    ws(p, r"\[API Error", "idle-api-error-400", settle=2)
    api.ctl("mode", "normal"); api.ctl("tool", "shell")
    p.send("C-c"); time.sleep(0.3); p.send("C-c")
    ws(p, "To resume this session", "exited-ctrl-c-session-summary"); print("  exit status", p.exit_status())
    p.send("C-l"); p.type(f'GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:{DEAD_PORT} gemini -i "$(cat .task.txt)"')
    time.sleep(8); p.snap("working-connection-refused")
    p.kill()


def aider(api: FakeApi) -> None:
    env = {"OPENAI_API_KEY": "sk-fake-0000000000000000", "OPENAI_API_BASE": f"{api.url}/v1"}
    p = Pane("aider", 1, env=env)
    api.ctl("mode", "normal"); api.ctl("delay", 8)
    p.type("aider --model openai/gpt-4o")
    ws(p, r"Add \.aider\* to \.gitignore", "first-run-gitignore-question", 60); p.send("Enter")
    ws(p, "what's new in this version", "first-run-release-notes-question", 60); p.send("n", "Enter")
    ws(p, "^>$", "idle-first-start", settle=1)
    p.type("Create hello.py that prints hello, then run it.")
    ws(p, "Waiting for", "working-waiting-for-model")
    ws(p, r"Create new file\?", "permission-create-new-file", 60); p.send("Enter")
    ws(p, r"Run shell command\?", "permission-run-shell-command"); p.send("Enter")
    ws(p, r"Add command output to the chat\?", "permission-add-output-to-chat"); p.send("Enter")
    ws(p, "/undo", "idle-after-edit-and-run", settle=2)
    api.ctl("mode", "error500"); api.ctl("delay", 1); p.type("Now add a docstring to app.py")
    ws(p, r"Add file to the chat\?", "permission-add-file-to-chat"); p.send("Enter")
    ws(p, "Retrying in", "working-retrying-after-500", settle=1)
    ws(p, r"servers are down or overloaded\.\n─+\n.*\n>$", "idle-error-after-retries", 200, settle=1)
    api.ctl("mode", "normal")
    p.type("refactor the main function", enter=False); time.sleep(1); p.snap("idle-draft-typed")
    p.send("C-c"); time.sleep(1); p.send("C-c"); ws(p, "again to exit", "idle-ctrl-c-again-to-exit")
    p.send("C-c"); ws(p, "KeyboardInterrupt", "exited-ctrl-c"); print("  exit status", p.exit_status())
    # the preset's way: one turn from a file, then interactive with the same history
    (p.repo / ".task.txt").write_text("Create greet.py that prints greetings, then run it.\n")
    api.ctl("delay", 5); p.send("C-l")
    p.type("aider --model openai/gpt-4o --message-file .task.txt && "
           "exec aider --model openai/gpt-4o --restore-chat-history")
    ws(p, r"Add file to the chat\?", "permission-message-file-edit-existing", 60); p.send("Enter")
    p.wait_for(r"Run shell command\?", 60); p.send("n", "Enter")
    ws(p, "Restored previous conversation history", "idle-restored-chat-history", 60, settle=2)
    p.kill()


def shell(api: FakeApi) -> None:
    p = Pane("shell", 1)
    time.sleep(0.5); p.snap("idle-prompt")
    p.type("ls -la"); time.sleep(0.8); p.snap("idle-after-ls")
    p.type('for i in $(seq 1 200); do echo "building step $i"; sleep 0.05; done'); time.sleep(2)
    p.snap("working-loop-printing")
    p.wait_for(r"step 200\n.*\$ $", 20); time.sleep(0.5)
    p.type("sleep 30"); time.sleep(1); p.snap("working-sleep-no-output")
    p.send("C-c"); time.sleep(0.5); p.snap("idle-after-ctrl-c")
    p.send("clear", "Enter"); time.sleep(0.3)
    p.type('read -p "Continue? [y/N] " ans'); time.sleep(0.8); p.snap("waiting-read-continue")
    p.type("n"); time.sleep(0.3)
    p.type("cat missing-file.txt"); time.sleep(0.8); p.snap("idle-error-no-such-file")
    p.type("frobnicate --all"); time.sleep(0.8); p.snap("idle-error-command-not-found")
    p.send("clear", "Enter"); time.sleep(0.3)
    p.type("rm -i README.md"); time.sleep(0.8); p.snap("waiting-rm-interactive")
    p.type("n"); time.sleep(0.3); p.send("clear", "Enter"); time.sleep(0.3)
    p.type("git log --oneline | cat; python3 -c 'input(\"Overwrite existing config? (y/n) \")'"); time.sleep(1.5)
    p.snap("waiting-python-input-yn")
    p.send("C-c"); time.sleep(0.3); p.send("clear", "Enter"); time.sleep(0.3)
    p.type("exit 3"); time.sleep(1); p.snap("exited-exit-3")
    p.kill()


SCENARIOS = {"claude": claude, "codex": codex, "gemini": gemini, "aider": aider, "shell": shell}


def main() -> None:
    global OUT
    ap = argparse.ArgumentParser(description="Capture real agent CLI screens into a corpus.")
    ap.add_argument("--out", default=str(OUT), help="where to write <preset>/<name>.txt (default %(default)s)")
    ap.add_argument("agents", nargs="*", default=list(SCENARIOS), help="subset of: " + " ".join(SCENARIOS))
    args = ap.parse_args()
    OUT = Path(args.out)
    missing = [b for b in ("claude", "codex", "gemini") if not (CLI_PREFIX / "node_modules/.bin" / b).exists()]
    if missing and set(missing) & set(args.agents):
        sys.exit(f"missing under {CLI_PREFIX}: {missing}; see the install line in this file's docstring")
    api = FakeApi()
    api.start()
    try:
        for name in args.agents:
            print(f"== {name}")
            SCENARIOS[name](api)
    finally:
        api.stop()


if __name__ == "__main__":
    main()
