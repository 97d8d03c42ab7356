"""The demo's project, a tiny inventory library, and every version of a file the demo agents write.

The files are package data under `files/` (a `.txt` suffix each, so no tool takes them for the
package's own code): `project/` is the repository as the demo starts it, `changes/` what the
agents write into it.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

FILES = files("fleet_tui.demo") / "files"
SUFFIX = ".txt"


def _tree(folder: Traversable, prefix: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            found.update(_tree(entry, f"{prefix}{entry.name}/"))
        elif entry.name.endswith(SUFFIX):
            found[prefix + entry.name.removesuffix(SUFFIX)] = entry.read_text(encoding="utf-8")
    return found


def change(name: str) -> str:
    """One version of a file an agent writes, by its name in `files/changes/`."""
    return (FILES / "changes" / (name + SUFFIX)).read_text(encoding="utf-8")


PROJECT: dict[str, str] = _tree(FILES / "project")
CHANGELOG_MD = change("CHANGELOG.md")
CLI_PY = change("cli.py")
INIT_PY_BY_DOCS = change("__init__.by-docs.py")
ITEMS_PY = change("items.py")
PRICING_PY = change("pricing.py")
REPORT_PY_BY_PRICING = change("report.by-pricing.py")
REPORT_PY_BY_REPORT = change("report.by-report.py")
STOCK_PY = change("stock.py")
TEST_CLI_PY = change("test_cli.py")
TEST_ITEMS_PY = change("test_items.py")
TEST_PRICING_PY = change("test_pricing.py")
TEST_REPORT_PY = change("test_report.py")
TEST_STOCK_PY = change("test_stock.py")
USAGE_MD = change("usage.md")
