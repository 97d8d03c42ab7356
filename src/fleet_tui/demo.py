"""The zero-setup demo: a throwaway repository, six simulated agents, and a way to clean it all up.

A demo folder holds three things side by side:

    <demo>/.fleet-tui-demo    marker: the only folders `fleet-tui demo --clean` will ever delete
    <demo>/inventory/         a small but real Python project (git repository, fleet.toml committed)
    <demo>/inventory-fleet/   the agents' worktrees (fleet-tui's default: a sibling of the repo)
    <demo>/agents/            the fake agents' scripts, outside every worktree and every diff

The agents are the package's scripted fake agent (`fleet-fake-agent`); what each one does is data
(`AGENTS` below), rendered into the fake agent's step language by `render_script`.
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
from dataclasses import dataclass, field
from pathlib import Path

from fleet_tui.adapters import git
from fleet_tui.demo_data.inventory import (
    CLI_PY,
    INIT_PY_BY_DOCS,
    ITEMS_PY,
    PRICING_PY,
    PROJECT,
    REPORT_PY_BY_PRICING,
    REPORT_PY_BY_REPORT,
    STOCK_PY,
    TEST_CLI_PY,
    TEST_ITEMS_PY,
    TEST_PRICING_PY,
    TEST_REPORT_PY,
    TEST_STOCK_PY,
    USAGE_MD,
)
from fleet_tui.errors import ActionRefused

MARKER = ".fleet-tui-demo"
MARKER_KIND = "fleet-tui-demo"
DEMO_SOCKET = "fleet-tui-demo"
TEMP_PREFIX = "fleet-tui-demo-"
REPO_NAME = "inventory"
VERIFY = "python3 -m unittest -q"
SOCKET_RE = re.compile(r"^fleet-tui-demo(?:[-_][A-Za-z0-9_-]{1,40})?$")

# ---------------------------------------------------------------------------------------------
# The agents. Steps are tuples in the fake agent's language; `RESTART` separates what a restarted
# agent (one given a handoff) does instead. Times are seconds before PACE, at speed 1.
# ---------------------------------------------------------------------------------------------

Step = tuple[str, ...]
PACE = 1.6  # stretches every `work` step: at speed 1 the fleet settles in about two and a half minutes
RESTART: Step = ("== restart ==",)


def _resume(files: dict[str, str], message: str) -> list[Step]:
    """What every restarted agent does: show its handoff, re-check, finish its files, commit."""
    steps: list[Step] = [
        ("show-handoff",),
        ("say", "● Picking up from the handoff above."),
        ("sleep", "10"),  # the handoff stays on screen a moment before progress lines scroll it away
        ("work", "6", "Reading the worktree and the commits so far"),
    ]
    for path, text in files.items():
        steps += [("work", "4", f"Finishing {path}"), ("write", path, text)]
    steps += [
        ("work", "5", "Running tests (python3 -m unittest)"),
        ("say", "  OK"),
        ("commit", message),
        ("say", "● Done after the restart. Waiting for review."),
    ]
    return steps


@dataclass(frozen=True)
class DemoAgent:
    name: str
    role: str  # what the demo shows with it (for people and tests)
    task: str
    scope: tuple[str, ...]
    steps: tuple[Step, ...]
    verify: str | None = VERIFY
    depends_on: tuple[str, ...] = field(default=())


AGENTS: tuple[DemoAgent, ...] = (
    DemoAgent(
        name="stock",
        role="finishes cleanly; merges once its verify passes",
        task="Add Stock.remove(sku, count), which never goes below zero, and Stock.low_stock(threshold). "
        "Add tests for both.",
        scope=("inventory/stock.py", "tests/test_stock.py"),
        steps=(
            ("say", "● I'll add remove() and low_stock() to Stock, with tests."),
            ("work", "8", "Reading inventory/stock.py"),
            ("work", "6", "Reading tests/test_stock.py"),
            ("say", "● Stock keeps a count per SKU; remove() must refuse to go below zero."),
            ("work", "14", "Thinking"),
            ("work", "6", "Editing inventory/stock.py"),
            ("write", "inventory/stock.py", STOCK_PY),
            ("work", "8", "Running tests (python3 -m unittest)"),
            ("say", "  Ran 2 tests: OK"),
            ("commit", "stock: remove() never goes below zero; low_stock()"),
            ("work", "10", "Writing tests for remove() and low_stock()"),
            ("write", "tests/test_stock.py", TEST_STOCK_PY),
            ("work", "8", "Running tests (python3 -m unittest)"),
            ("say", "  Ran 5 tests: OK"),
            ("commit", "stock: tests for remove() and low_stock()"),
            ("say", "● Done: Stock.remove() refuses to go below zero; low_stock(n) lists what runs out."),
            RESTART,
            *_resume({"inventory/stock.py": STOCK_PY, "tests/test_stock.py": TEST_STOCK_PY}, "stock: finish"),
        ),
    ),
    DemoAgent(
        name="report",
        role="changes inventory/report.py, like pricing: overlap, and a conflict once one is merged",
        task="Make the report's total line stand out, and add to_csv(stock) for spreadsheets.",
        scope=("inventory/report.py", "tests/test_report.py"),
        steps=(
            ("say", "● Plan: a TOTAL line aligned with the counts, then to_csv()."),
            ("work", "10", "Reading inventory/report.py"),
            ("work", "8", "Reading inventory/stock.py"),
            ("work", "16", "Thinking"),
            ("work", "8", "Editing inventory/report.py"),
            ("write", "inventory/report.py", REPORT_PY_BY_REPORT),
            ("commit", "report: TOTAL line, to_csv()"),
            ("work", "14", "Writing tests for to_csv()"),
            ("write", "tests/test_report.py", TEST_REPORT_PY),
            ("work", "10", "Running tests (python3 -m unittest)"),
            ("say", "  Ran 3 tests: OK"),
            ("commit", "report: tests for the TOTAL line and to_csv()"),
            ("say", "● Done: the total stands out and to_csv() writes sku,name,price,count."),
            RESTART,
            *_resume(
                {"inventory/report.py": REPORT_PY_BY_REPORT, "tests/test_report.py": TEST_REPORT_PY},
                "report: finish",
            ),
        ),
    ),
    DemoAgent(
        name="pricing",
        role="changes the same lines of inventory/report.py as report",
        task="Add inventory/pricing.py with format_price() and discounted(), and show prices "
        "formatted in the report.",
        scope=("inventory/pricing.py", "tests/test_pricing.py", "inventory/report.py"),
        steps=(
            ("say", "● I'll add a pricing module, then use format_price() in the report."),
            ("work", "12", "Reading inventory/items.py"),
            ("work", "10", "Reading inventory/report.py"),
            ("work", "20", "Thinking"),
            ("work", "10", "Writing inventory/pricing.py"),
            ("write", "inventory/pricing.py", PRICING_PY),
            ("write", "tests/test_pricing.py", TEST_PRICING_PY),
            ("work", "10", "Running tests (python3 -m unittest)"),
            ("say", "  Ran 6 tests: OK"),
            ("commit", "pricing: format_price() and discounted()"),
            ("work", "16", "Editing inventory/report.py"),
            ("write", "inventory/report.py", REPORT_PY_BY_PRICING),
            ("work", "12", "Running tests (python3 -m unittest)"),
            ("say", "  Ran 6 tests: OK"),
            ("commit", "report: show the total with format_price()"),
            ("say", "● Done: prices are formatted with the currency in the report."),
            RESTART,
            *_resume(
                {
                    "inventory/pricing.py": PRICING_PY,
                    "tests/test_pricing.py": TEST_PRICING_PY,
                    "inventory/report.py": REPORT_PY_BY_PRICING,
                },
                "pricing: finish",
            ),
        ),
    ),
    DemoAgent(
        name="docs",
        role="drifts: edits inventory/__init__.py, outside its scope",
        task="Write docs/usage.md: installing, the items file format, the command line, use from Python.",
        scope=("docs/**", "README.md"),
        steps=(
            ("say", "● I'll write the usage guide from the code and the README."),
            ("work", "8", "Reading README.md"),
            ("work", "8", "Reading inventory/cli.py"),
            ("work", "10", "Writing docs/usage.md"),
            ("write", "docs/usage.md", USAGE_MD),
            ("commit", "docs: usage guide"),
            ("say", "● The guide should name the version; the package has none. Adding __version__."),
            ("work", "6", "Editing inventory/__init__.py"),
            ("write", "inventory/__init__.py", INIT_PY_BY_DOCS),
            ("commit", "Expose inventory.__version__"),
            ("say", "● Done: docs/usage.md written, and inventory.__version__ = 0.2.0."),
            RESTART,
            *_resume({"docs/usage.md": USAGE_MD}, "docs: finish"),
        ),
    ),
    DemoAgent(
        name="cli",
        role="stops at a y/n question; answer it with send (s) and it goes on",
        task="Give the command line a --low-stock THRESHOLD option and a clear error for a missing file.",
        scope=("inventory/cli.py", "tests/test_cli.py"),
        steps=(
            ("say", "● I'll move the command line to argparse and add --low-stock."),
            ("work", "10", "Reading inventory/cli.py"),
            ("work", "8", "Thinking"),
            ("say", "● Coloured output would need the 'rich' package."),
            ("ask", "Add 'rich' as a dependency of the project?"),
            ("work", "6", "Thinking"),
            ("say", "● Keeping to the standard library for now: argparse and plain print()."),
            ("work", "12", "Editing inventory/cli.py"),
            ("write", "inventory/cli.py", CLI_PY),
            ("write", "tests/test_cli.py", TEST_CLI_PY),
            ("work", "10", "Running tests (python3 -m unittest)"),
            ("say", "  Ran 6 tests: OK"),
            ("commit", "cli: --low-stock, a clear error for a missing file"),
            ("say", "● Done: python3 -m inventory.cli items.csv --low-stock 1"),
            RESTART,
            *_resume({"inventory/cli.py": CLI_PY, "tests/test_cli.py": TEST_CLI_PY}, "cli: finish"),
        ),
    ),
    DemoAgent(
        name="items",
        role="crashes halfway with uncommitted work; restart (r) hands it over",
        task="Let parse_item accept quoted names that contain commas, and raise a clear error for bad lines.",
        scope=("inventory/items.py", "tests/test_items.py"),
        steps=(
            ("say", "● I'll parse lines with the csv module and add a BadItemLine error."),
            ("work", "12", "Reading inventory/items.py"),
            ("work", "8", "Reading tests/test_items.py"),
            ("work", "14", "Thinking"),
            ("work", "8", "Editing inventory/items.py"),
            ("write", "inventory/items.py", ITEMS_PY),
            ("work", "8", "Writing tests for quoted names"),
            (
                "crash",
                # Short enough for one pane line, so it is the agent's last line in the table.
                "lost the connection to the model API (simulated; r restarts it)",
            ),
            RESTART,
            *_resume(
                {"inventory/items.py": ITEMS_PY, "tests/test_items.py": TEST_ITEMS_PY},
                "items: quoted names, BadItemLine for bad lines",
            ),
        ),
    ),
)


def agent(name: str) -> DemoAgent:
    return next(a for a in AGENTS if a.name == name)


def _arg(text: str) -> str:
    """One step argument: escapes for the fake agent's unicode_escape, quoted for its shlex."""
    return shlex.quote(text.encode("unicode_escape").decode("ascii"))


def render_script(steps: tuple[Step, ...] | list[Step]) -> str:
    """The fake agent's script text for these steps."""
    lines = []
    for step in steps:
        if step == RESTART:
            lines.append(RESTART[0])
            continue
        verb, *args = step
        if verb == "work":
            lines.append(f"work {float(args[0]) * PACE:g} {_arg(args[1])}")
        elif verb in ("write", "append"):
            lines.append(f"{verb} {shlex.quote(args[0])} {_arg(args[1])}")
        else:
            lines.append(" ".join([verb, *(_arg(a) for a in args)]))
    return "\n".join(lines) + "\n"


def final_files(demo_agent: DemoAgent) -> dict[str, str]:
    """The files an agent has written by the end of its first run (its branch, if it does not crash)."""
    files: dict[str, str] = {}
    for step in demo_agent.steps:
        if step == RESTART:
            break
        if step[0] == "write":
            files[step[1]] = step[2]
    return files


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
    lines = [
        "# The fleet of `fleet-tui demo`: six simulated agents working on this tiny library.",
        "# They are fleet-tui's scripted fake agent (no AI account needed); their scripts live",
        f"# outside this repository ({scripts}), so they never show up in an agent's diff.",
        "",
        "[fleet]",
        f"name = {_toml(demo_name)}",
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
    ]
    for a in AGENTS:
        script = shlex.quote(str(scripts / f"{a.name}.txt"))
        command = f"fleet-fake-agent --script {script} --prompt-file {{prompt_file}}"
        lines += [
            "",
            f"# {a.name}: {a.role}",
            "[[agent]]",
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
