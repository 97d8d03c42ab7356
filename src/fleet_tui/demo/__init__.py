"""The zero-setup demo: a throwaway repository, six simulated agents, and a way to clean it all up.

A demo folder holds three things side by side:

    <demo>/.fleet-tui-demo    marker: the only folders `fleet-tui demo --clean` will ever delete
    <demo>/inventory/         a small but real Python project (git repository, fleet.toml committed)
    <demo>/inventory-fleet/   the agents' worktrees (fleet-tui's default: a sibling of the repo)
    <demo>/agents/            the fake agents' scripts, outside every worktree and every diff

The agents are the package's scripted fake agent (`fleet-fake-agent`); what each one does is data
(`agents.AGENTS`; the project and the files they write are package data read by `data`),
rendered into the fake agent's step language by `render_script`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fleet_tui.adapters import git
from fleet_tui.demo.agents import AGENTS, RESTART, REVIEWER_STEPS, agent, final_files, render_script
from fleet_tui.demo.data import PROJECT
from fleet_tui.errors import ActionRefused

# What the CLI and the tests use from the agents' and the project's modules.
__all__ = ["AGENTS", "PROJECT", "RESTART", "agent", "final_files", "render_script"]

MARKER = ".fleet-tui-demo"
MARKER_KIND = "fleet-tui-demo"
DEMO_SOCKET = "fleet-tui-demo"
TEMP_PREFIX = "fleet-tui-demo-"
REPO_NAME = "inventory"
SOCKET_RE = re.compile(r"^fleet-tui-demo(?:[-_][A-Za-z0-9_-]{1,40})?$")

# ---------------------------------------------------------------------------------------------
# Building a demo folder
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    folder: Path
    repo: Path
    scripts: Path
    name: str
    socket: str

    @property
    def fleet_file(self) -> Path:
        return self.repo / "fleet.toml"


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def fleet_toml(demo_name: str, socket: str, scripts: Path, speed: float) -> str:
    """The demo's fleet file, commented so it doubles as an example."""
    reviewer_script = shlex.quote(str(scripts / "reviewer.txt"))
    lines = [
        "# The fleet of `fleet-tui demo`: six simulated agents, a queued task and a reviewer.",
        "# They are fleet-tui's scripted fake agent (no AI account needed); their scripts live",
        f"# outside this repository ({scripts}), so they never show up in an agent's diff.",
        "",
        "[fleet]",
        f"name = {_toml(demo_name)}",
        "max_agents = 6                 # at most six doers at once: the changelog task waits for a slot",
        f"socket = {_toml(socket)}        # the demo's own tmux server: tmux -L {socket} attach",
        "panes_per_window = 6",
        "idle_after = 10",
        "",
        "# A preset of our own, for the fake agent: what its screen looks like when it waits,",
        "# works or sits idle. Real agents use the built-in presets (claude, codex, ...).",
        "[preset.demo]",
        'description = "fleet-tui\'s scripted fake agent"',
        'program = "fleet-fake-agent"',
        "bottom_lines = 1",
        "[preset.demo.env]",
        f'FAKE_AGENT_SPEED = "{speed:g}"',
        "[preset.demo.patterns]",
        "waiting = ['\\[y/n\\]\\s*$']",
        "working = ['^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] ']",
        "idle = ['^>\\s*$']",
        "",
        "# A separate verifier: it reads a doer's work once its gates pass, and writes a verdict.",
        "[reviewer.reviewer]",
        'preset = "demo"',
        "command = " + _toml(f"fleet-fake-agent --script {reviewer_script} --prompt-file {{prompt_file}}"),
    ]
    for a in AGENTS:
        script = shlex.quote(str(scripts / f"{a.name}.txt"))
        command = f"fleet-fake-agent --script {script} --prompt-file {{prompt_file}}"
        lines += [
            "",
            f"# {a.name}: {a.role}",
            f"[[{a.kind}]]",
            f"name = {_toml(a.name)}",
            f"task = {_toml(a.task)}",
            "scope = [" + ", ".join(_toml(s) for s in a.scope) + "]",
            'preset = "demo"',
            f"command = {_toml(command)}",
            f"restart_command = {_toml(command + ' --handoff-file {handoff_file}')}",
        ]
        if a.verify:
            lines.append(f"verify = {_toml(a.verify)}")
        if a.depends_on:
            lines.append("depends_on = [" + ", ".join(_toml(d) for d in a.depends_on) + "]")
        if a.review:
            lines.append(f"review = {_toml(a.review)}")
        if a.done_when:
            lines.append("done_when = [" + ", ".join(_toml(d) for d in a.done_when) + "]")
    return "\n".join(lines) + "\n"


def check_socket(socket: str) -> str:
    """Demo sockets are `fleet-tui-demo` or `fleet-tui-demo-<suffix>`: --clean touches no other."""
    if not SOCKET_RE.match(socket):
        raise ActionRefused(
            f"{socket!r} is not a demo socket name",
            "demo sockets are named fleet-tui-demo or fleet-tui-demo-<suffix>",
        )
    return socket


def write_marker(folder: Path, demo: Demo) -> None:
    data = {
        "kind": MARKER_KIND,
        "created": time.time(),
        "repo": str(demo.repo),
        "name": demo.name,
        "socket": demo.socket,
    }
    (folder / MARKER).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def read_marker(folder: Path) -> dict[str, str] | None:
    """The marker's contents when `folder` is a demo folder fleet-tui made, else None."""
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("kind") != MARKER_KIND:
        return None
    return {k: str(v) for k, v in data.items()}


def existing_demo(folder: Path) -> Demo | None:
    data = read_marker(folder)
    if data is None or not (folder / REPO_NAME / "fleet.toml").is_file():
        return None
    return Demo(
        folder=folder,
        repo=folder / REPO_NAME,
        scripts=folder / "agents",
        name=data.get("name", "demo"),
        socket=data.get("socket", DEMO_SOCKET),
    )


def build_demo(
    folder: Path | None = None,
    *,
    speed: float = 1.0,
    socket: str = DEMO_SOCKET,
    name: str | None = None,
) -> Demo:
    """Create a demo folder (a fresh temporary one unless `folder` is given) and record it."""
    check_socket(socket)
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    else:
        folder = folder.expanduser().absolute()
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise ActionRefused(
                f"{folder} exists and is not empty",
                "give --dir a new or empty folder; the demo never writes into a folder with files in it",
            )
        folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()
    demo = Demo(
        folder=folder,
        repo=folder / REPO_NAME,
        scripts=folder / "agents",
        name=name or f"demo-{secrets.token_hex(2)}",
        socket=socket,
    )
    # The marker first: whatever happens next, --clean may remove this folder.
    write_marker(folder, demo)
    remember(folder)
    demo.scripts.mkdir()
    for a in AGENTS:
        (demo.scripts / f"{a.name}.txt").write_text(render_script(a.steps), encoding="utf-8")
    (demo.scripts / "reviewer.txt").write_text(render_script(REVIEWER_STEPS), encoding="utf-8")
    _make_repo(demo, speed)
    return demo


def _make_repo(demo: Demo, speed: float) -> None:
    repo = demo.repo
    repo.mkdir()
    for rel, text in PROJECT.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    demo.fleet_file.write_text(fleet_toml(demo.name, demo.socket, demo.scripts, speed), encoding="utf-8")
    # The demo's own identity and settings: a fresh machine may have no git identity, and signing
    # or hooks from the person's config must not stop the agents' commits or the merges.
    config = {
        "user.name": "fleet-tui demo",
        "user.email": "demo@fleet-tui.invalid",
        "commit.gpgsign": "false",
        "core.hooksPath": str(demo.folder / "no-hooks"),
    }
    git.init_repo(repo, "main", config)
    git.commit_all(repo, "inventory 0.1.0: items, stock, a text report")


# ---------------------------------------------------------------------------------------------
# Remembering demo folders, so --clean finds them
# ---------------------------------------------------------------------------------------------


def registry_file() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "fleet-tui" / "demos.json"


def recorded() -> list[Path]:
    try:
        data = json.loads(registry_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [Path(p) for p in data if isinstance(p, str)] if isinstance(data, list) else []


def _save_registry(paths: list[Path]) -> None:
    target = registry_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    unique = list(dict.fromkeys(str(p) for p in paths))
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(unique, indent=2) + "\n", encoding="utf-8")
    tmp.replace(target)


def remember(folder: Path) -> None:
    _save_registry([*recorded(), folder])


def forget(folder: Path) -> None:
    _save_registry([p for p in recorded() if p != folder])


def known_demos() -> list[Path]:
    """Recorded demo folders, plus marked ones left in the temp folder by an older registry."""
    found = list(recorded())
    tmp = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        found += sorted(p for p in tmp.glob(TEMP_PREFIX + "*") if p.is_dir())
    return list(dict.fromkeys(p.resolve() if p.exists() else p for p in found))


def remove_folder(folder: Path) -> None:
    """Delete a demo folder; only one holding fleet-tui's demo marker."""
    if read_marker(folder) is None:
        raise ActionRefused(
            f"{folder} has no fleet-tui demo marker ({MARKER})",
            "`fleet-tui demo --clean` only removes folders that `fleet-tui demo` created",
        )
    for attempt in range(3):  # a dying agent may still write its exit file for a moment
        try:
            shutil.rmtree(folder)
            break
        except FileNotFoundError:
            break
        except OSError:
            if attempt == 2:
                raise
            time.sleep(0.5)
    forget(folder)
