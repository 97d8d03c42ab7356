"""Layer boundaries, checked by reading every module's imports with `ast` (nothing is imported)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "fleet_tui"

# The domain core: pure functions over plain data, no UI and no tmux or git (a name ending in "/" is
# a package: every module in it).
CORE = (
    "models.py",
    "spec/",
    "presets.py",
    "status.py",
    "scope.py",
    "handoff.py",
    "coupling.py",
    "planfile.py",
    "report/",
    "timeline.py",
    "attention.py",
    "pipeline_rules.py",
    "review_text.py",
)
# Modules that must stay free of any UI: the engine, the adapters and the domain core.
NO_UI = ("engine/", "adapters/", *CORE)
UI_MODULES = ("textual", "fleet_tui.ui")
# Library -> the one module allowed to import it.
OWNERS = {"libtmux": "adapters/tmux/_cli.py", "git": "adapters/git/_cli.py"}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module an import statement in `source` names, relative imports resolved.

    `from a import b` yields both `a` and `a.b` (b may be a module). Imports inside functions and
    `if TYPE_CHECKING:` blocks count too: a lazy import still crosses the boundary.
    """
    found: set[str] = set()
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def names(found: set[str], top: str) -> set[str]:
    return {name for name in found if name == top or name.startswith(top + ".")}


def sources() -> dict[str, tuple[str, set[str]]]:
    """rel path -> (module name, imported names) for every module of the package."""
    result = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        module = module_name(path)
        result[rel] = (module, imports_of(path.read_text(encoding="utf-8"), module, path.stem == "__init__"))
    return result


SOURCES = sources()


def test_the_scan_sees_the_package() -> None:
    assert "engine/monitor/core.py" in SOURCES and "adapters/tmux/server.py" in SOURCES
    # The scanner sees real imports, so an empty result below means something.
    assert names(SOURCES["adapters/tmux/_cli.py"][1], "libtmux")
    assert names(SOURCES["adapters/git/_cli.py"][1], "git")
    assert "fleet_tui.adapters.git" in SOURCES["engine/fleet/core.py"][1]


@pytest.mark.parametrize("rel", [r for r in SOURCES if r.startswith(NO_UI)])
def test_core_engine_and_adapters_never_import_the_ui(rel: str) -> None:
    _module, found = SOURCES[rel]
    crossing = {name for top in UI_MODULES for name in names(found, top)}
    assert not crossing, f"{rel} imports {sorted(crossing)}: the engine, adapters and core stay UI-free"


@pytest.mark.parametrize("library", list(OWNERS))
def test_only_the_owning_adapter_imports_its_library(library: str) -> None:
    importers = sorted(rel for rel, (_m, found) in SOURCES.items() if names(found, library))
    assert importers == [OWNERS[library]], f"{library} is imported by {importers}"


def core_modules() -> list[str]:
    packages = tuple(name for name in CORE if name.endswith("/"))
    return [rel for rel in SOURCES if rel in CORE or rel.startswith(packages)]


def test_every_core_name_is_a_module() -> None:
    # A core module renamed or moved must be renamed here too, or its checks would silently stop.
    for name in CORE:
        assert any(rel == name or (name.endswith("/") and rel.startswith(name)) for rel in SOURCES), name


def test_domain_core_does_no_io_to_tmux_or_git() -> None:
    for rel in core_modules():
        found = SOURCES[rel][1]
        adapters = names(found, "fleet_tui.adapters") | names(found, "fleet_tui.engine")
        assert not adapters, f"{rel} reaches into {sorted(adapters)}"
        assert not names(found, "subprocess"), f"{rel} runs programs"


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph(prefix: str) -> dict[str, set[str]]:
    """module -> the package's modules under `prefix` it imports (a package's __init__ not counted
    as imported by its own submodules: Python runs it first anyway, that is no cycle of ours)."""
    modules = {m for m, _f in SOURCES.values() if m.startswith(prefix)}
    return {
        module: {
            name for name in found if name in modules and name != module and not module.startswith(name + ".")
        }
        for module, found in SOURCES.values()
        if module in modules
    }


@pytest.mark.parametrize("prefix", ["fleet_tui.engine", "fleet_tui.ui", "fleet_tui"])
def test_no_import_cycles(prefix: str) -> None:
    assert import_cycles(import_graph(prefix)) == []


# Programs only their adapter runs (a module, or a package ending in "/"). The fake agent stands in
# for an agent's own program (which runs git as any agent would), so it is not fleet-tui running git.
PROGRAM_OWNERS = {"git": "adapters/git/", "tmux": "adapters/tmux/"}
RUNS_PROGRAMS_ITSELF = {"fake_agent.py"}
SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"}


def programs_run(source: str) -> set[str]:
    """Programs started through subprocess/os with a literal argv or command line in `source`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in SUBPROCESS_CALLS | {"system", "execvp", "execv", "spawnvp"}:
            continue
        first = node.args[0] if name not in ("execvp", "execv", "spawnvp") else node.args[-1]
        if isinstance(first, (ast.List, ast.Tuple)) and first.elts:
            first = first.elts[0]
        if isinstance(first, ast.Starred):
            continue
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.strip():
            found.add(first.value.split()[0])
    return found


def test_git_and_tmux_are_run_only_by_their_adapters() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in RUNS_PROGRAMS_ITSELF:
            continue
        for program in programs_run(path.read_text(encoding="utf-8")) & set(PROGRAM_OWNERS):
            owner = PROGRAM_OWNERS[program]
            assert rel == owner or (owner.endswith("/") and rel.startswith(owner)), (
                f"{rel} runs {program}: only {owner} may"
            )


@pytest.mark.parametrize(
    "line",
    [
        "subprocess.run(['tmux', 'attach'])",
        "subprocess.run(('git', 'status'), check=False)",
        "run(['git', 'log'])",
        "subprocess.Popen('tmux -L x attach', shell=True)",
        "os.system('git status')",
        "os.execvp('tmux', ['tmux', 'attach'])",
    ],
)
def test_the_program_check_sees_git_and_tmux_being_run(line: str) -> None:
    assert programs_run(line) & {"git", "tmux"}
    assert programs_run("subprocess.run(['true'])") == {"true"} and not programs_run("subprocess.run(argv)")


@pytest.mark.parametrize(
    ("prefix", "edge"),
    [
        ("fleet_tui.engine", ("fleet_tui.engine.fleet.core", "fleet_tui.engine.monitor.core")),
        ("fleet_tui.ui", ("fleet_tui.ui.widgets", "fleet_tui.ui.app")),
    ],
)
def test_the_cycle_check_reads_the_real_engine_and_ui_modules(prefix: str, edge: tuple[str, str]) -> None:
    # One import added against the grain (the fleet importing the monitor, a widget the app) must
    # close a cycle in the graph the check reads: it sees those modules and their real imports.
    graph = import_graph(prefix)
    source, target = edge
    assert source in graph and target in graph
    graph[source] = graph[source] | {target}
    assert any(source in group and target in group for group in import_cycles(graph))


def test_cycle_finder_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


# -- the checker itself catches violations -----------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "import textual",
        "import textual.app as t",
        "from textual.widgets import DataTable",
        "from fleet_tui.ui.app import run_dashboard",
        "from fleet_tui import ui",
        "from ...ui import app",
        "from ...ui.widgets import X",
        "def f():\n    import textual\n",
        "if TYPE_CHECKING:\n    from textual.app import App\n",
        "x = __import__('textual')",
        "import importlib\nm = importlib.import_module('textual')",
    ],
)
def test_checker_catches_a_ui_import_added_to_the_monitor(line: str) -> None:
    path = PACKAGE / "engine" / "monitor" / "core.py"
    source = path.read_text(encoding="utf-8") + "\n" + line + "\n"
    found = imports_of(source, "fleet_tui.engine.monitor.core")
    assert {n for top in UI_MODULES for n in names(found, top)}


def test_checker_catches_libtmux_and_git_outside_their_adapters() -> None:
    assert names(imports_of("import libtmux.server\n", "fleet_tui.engine.fleet"), "libtmux")
    assert names(imports_of("from git import Repo\n", "fleet_tui.engine.monitor"), "git")
    # ...but not the project's own git adapter, nor names that merely start with "git".
    assert not names(imports_of("from fleet_tui.adapters import git\n", "fleet_tui.engine.fleet"), "git")
    assert not names(imports_of("import gitdb_like\n", "fleet_tui.engine.fleet"), "git")
    # A relative import resolves inside the package: `from . import git` in adapters/ is the adapter.
    assert imports_of("from . import git\n", "fleet_tui.adapters.x") >= {"fleet_tui.adapters.git"}


# -- sizes: modules and functions a reader can hold in their head -----------------------------------
# The rule: a module in src/ has at most MAX_MODULE_LINES lines; a function (from its `def` to its
# last line) at most MAX_FUNCTION_LINES, unless a comment starting `# long:` and saying why stands on
# the line above its `def` (or above its first decorator).
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
LONG_MARK = "# long:"
# Modules over the limit today, each to be split by job; the list may only shrink (an entry whose
# module is back under the limit fails below, so it is taken out).
OVER_FOR_NOW: dict[str, str] = {}  # modules allowed over the limit for now, each with why


def oversized(source: str) -> list[str]:
    """The module (when too long) and every function too long without a `# long:` comment."""
    lines = source.splitlines()
    found = [f"module: {len(lines)} lines"] if len(lines) > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        top = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        said = top >= 2 and lines[top - 2].strip().startswith(LONG_MARK)
        if length > MAX_FUNCTION_LINES and not said:
            found.append(f"{node.name} (line {node.lineno}): {length} lines")
    return found


@pytest.mark.parametrize("rel", list(SOURCES))
def test_modules_and_functions_stay_small(rel: str) -> None:
    found = oversized((PACKAGE / rel).read_text(encoding="utf-8"))
    if rel in OVER_FOR_NOW:
        still_over = bool(found) and found[0].startswith("module:")
        assert still_over, f"{rel} is under the limit now: take it out of OVER_FOR_NOW"
        found = found[1:]
    assert not found, (
        f"{rel}: {'; '.join(found)}: split it by job (a module at most {MAX_MODULE_LINES} lines, a "
        f"function at most {MAX_FUNCTION_LINES} unless a `{LONG_MARK} why` comment stands above it)"
    )


def test_the_size_check_sees_long_modules_and_functions() -> None:
    def body(lines: int) -> str:
        return "".join(f"    x{i} = {i}\n" for i in range(lines))

    assert oversized(f"def f():\n{body(MAX_FUNCTION_LINES - 1)}") == []  # the def and 59: exactly 60
    long = body(MAX_FUNCTION_LINES)
    assert oversized(f"def f():\n{long}") == [f"f (line 1): {MAX_FUNCTION_LINES + 1} lines"]
    assert oversized(f"# long: one table of steps, read top to bottom\ndef f():\n{long}") == []
    assert oversized(f"# long: why\n@decorator\nasync def f():\n{long}") == []
    assert oversized(f"# a comment that is not the mark\ndef f():\n{long}") != []
    assert oversized(f"class C:\n    def m(self):\n{long.replace('    ', '        ')}")  # methods too
    assert oversized("x = 1\n" * (MAX_MODULE_LINES + 1)) == [f"module: {MAX_MODULE_LINES + 1} lines"]
    assert oversized("x = 1\n" * MAX_MODULE_LINES) == []
