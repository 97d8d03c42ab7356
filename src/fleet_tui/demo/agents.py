"""The demo's six agents as data: what each one writes, commits, asks and fails at, in steps of the
fake agent's language, rendered into its script by `render_script`."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from fleet_tui.demo.data import (
    CHANGELOG_MD,
    CLI_PY,
    INIT_PY_BY_DOCS,
    ITEMS_PY,
    PRICING_PY,
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

# ---------------------------------------------------------------------------------------------
# The agents. Steps are tuples in the fake agent's language; `RESTART` separates what a restarted
# agent (one given a handoff) does instead. Times are seconds before PACE, at speed 1.
# ---------------------------------------------------------------------------------------------

VERIFY = "python3 -m unittest -q"
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
    kind: str = "agent"  # or "task": it waits for a free slot (max_agents)
    review: str | None = None  # the [reviewer.<name>] that checks its work
    done_when: tuple[str, ...] = ()


AGENTS: tuple[DemoAgent, ...] = (
    DemoAgent(
        name="stock",
        role="finishes cleanly; its gates pass, a reviewer checks it, and it is ready to merge",
        task="Add Stock.remove(sku, count), which never goes below zero, and Stock.low_stock(threshold). "
        "Add tests for both.",
        scope=("inventory/stock.py", "tests/test_stock.py"),
        review="reviewer",
        done_when=("remove() never goes below zero", "the tests cover remove() and low_stock()"),
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
    DemoAgent(
        name="changelog",
        role="a task waiting for a free slot (max_agents = 6): it starts once an agent is merged",
        task="Add a 0.2.0 section to CHANGELOG.md naming what this release adds.",
        scope=("CHANGELOG.md",),
        kind="task",
        steps=(
            ("say", "● A slot came free: I'll write the 0.2.0 section of the changelog."),
            ("work", "6", "Reading CHANGELOG.md and the merged commits"),
            ("write", "CHANGELOG.md", CHANGELOG_MD),
            ("commit", "changelog: 0.2.0"),
            ("say", "● Done: CHANGELOG.md has a 0.2.0 section."),
            RESTART,
            *_resume({"CHANGELOG.md": CHANGELOG_MD}, "changelog: finish"),
        ),
    ),
)


# The separate verifier: another scripted agent that reads the doer's work and writes a verdict.
REVIEWER_STEPS: tuple[Step, ...] = (
    ("say", "● Reviewing the work against its task and acceptance criteria (see the prompt)."),
    ("work", "6", "Reading the diff"),
    ("work", "6", "Running python3 -m unittest on the doer's commit"),
    ("say", "  OK: remove() stops at zero; low_stock() and its tests are there."),
    (
        "write",
        "$FLEET_VERDICT_FILE",
        "verdict: pass\n- inventory/stock.py: remove() could name the SKU in its error (a nit)\n",
    ),
    ("say", "● Verdict: pass, with one nit. Written to the verdict file."),
    ("exit", "0"),
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
