"""The demo's project, a tiny inventory library, and every version of a file the demo agents write.

Plain data: `fleet_tui.demo` turns it into a repository and into the fake agents' scripts.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# The project: a tiny inventory library with unittest tests (pytest runs them too).
# ---------------------------------------------------------------------------------------------

PROJECT: dict[str, str] = {
    ".gitignore": "__pycache__/\n*.pyc\n",
    "README.md": """\
# inventory

A tiny inventory library: items, stock levels and plain-text reports.
This repository was made by `fleet-tui demo`; six simulated agents are working on it.

    python3 -m unittest -q               # run the tests
    python3 -m inventory.cli items.csv   # print a stock report
""",
    "CHANGELOG.md": "# Changelog\n\n## 0.1.0\n\n- First release: items, stock levels, a text report.\n",
    "items.csv": "A100, Blue mug, 4.50\nA100, Blue mug, 4.50\nB200, Tea towel, 3.50\nC300, Teapot, 21.00\n",
    "docs/usage.md": "# Using inventory\n\n(to be written)\n",
    "inventory/__init__.py": '''\
"""A tiny inventory library: items, stock levels and reports."""

from inventory.items import Item, parse_item
from inventory.stock import Stock

__all__ = ["Item", "Stock", "parse_item"]
''',
    "inventory/items.py": '''\
"""Items: what the shop sells."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    price: float


def parse_item(line: str) -> Item:
    """Parse 'SKU,name,price' into an Item."""
    sku, name, price = (part.strip() for part in line.split(","))
    return Item(sku=sku, name=name, price=float(price))
''',
    "inventory/stock.py": '''\
"""Stock levels per item."""

from inventory.items import Item


class Stock:
    def __init__(self) -> None:
        self._items: dict[str, Item] = {}
        self._counts: dict[str, int] = {}

    def add(self, item: Item, count: int = 1) -> None:
        self._items[item.sku] = item
        self._counts[item.sku] = self._counts.get(item.sku, 0) + count

    def count(self, sku: str) -> int:
        return self._counts.get(sku, 0)

    def items(self) -> list[tuple[Item, int]]:
        return [(self._items[sku], n) for sku, n in sorted(self._counts.items())]

    def total_value(self) -> float:
        return sum(item.price * n for item, n in self.items())
''',
    "inventory/report.py": '''\
"""Plain-text stock reports."""

from inventory.stock import Stock


def format_report(stock: Stock) -> str:
    lines = ["SKU      Item                 Count"]
    for item, count in stock.items():
        lines.append(f"{item.sku:<8} {item.name:<20} {count:>5}")
    total = stock.total_value()
    lines.append(f"Total value: {total:.2f}")
    return "\\n".join(lines)
''',
    "inventory/cli.py": '''\
"""Command line: print a report for a CSV file of items."""

import sys

from inventory.items import parse_item
from inventory.report import format_report
from inventory.stock import Stock


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python3 -m inventory.cli ITEMS.csv")
        return 2
    stock = Stock()
    with open(args[0], encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                stock.add(parse_item(line))
    print(format_report(stock))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
''',
    "tests/__init__.py": "",
    "tests/test_items.py": """\
import unittest

from inventory.items import Item, parse_item


class ParseItemTest(unittest.TestCase):
    def test_parses_a_line(self):
        self.assertEqual(parse_item("A100, Blue mug, 4.50"), Item("A100", "Blue mug", 4.5))

    def test_strips_spaces(self):
        self.assertEqual(parse_item(" B200 ,Tea towel, 3.5 ").sku, "B200")
""",
    "tests/test_stock.py": """\
import unittest

from inventory.items import Item
from inventory.stock import Stock

MUG = Item("A100", "Blue mug", 4.5)
TOWEL = Item("B200", "Tea towel", 3.5)


class StockTest(unittest.TestCase):
    def test_add_counts(self):
        stock = Stock()
        stock.add(MUG, 2)
        stock.add(MUG)
        self.assertEqual(stock.count("A100"), 3)

    def test_total_value(self):
        stock = Stock()
        stock.add(MUG, 2)
        stock.add(TOWEL)
        self.assertAlmostEqual(stock.total_value(), 12.5)
""",
    "tests/test_report.py": """\
import unittest

from inventory.items import Item
from inventory.report import format_report
from inventory.stock import Stock


class ReportTest(unittest.TestCase):
    def test_lists_items_and_total(self):
        stock = Stock()
        stock.add(Item("A100", "Blue mug", 4.5), 2)
        stock.add(Item("B200", "Tea towel", 3.5))
        report = format_report(stock)
        self.assertIn("Blue mug", report)
        self.assertIn("12.50", report)
""",
}

# ---------------------------------------------------------------------------------------------
# What the agents write. `report` and `pricing` both change the same lines of inventory/report.py
# in different ways: a real merge conflict once one of them is merged.
# ---------------------------------------------------------------------------------------------

STOCK_PY = '''\
"""Stock levels per item."""

from inventory.items import Item


class OutOfStock(ValueError):
    """Removing more than is in stock."""


class Stock:
    def __init__(self) -> None:
        self._items: dict[str, Item] = {}
        self._counts: dict[str, int] = {}

    def add(self, item: Item, count: int = 1) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self._items[item.sku] = item
        self._counts[item.sku] = self._counts.get(item.sku, 0) + count

    def remove(self, sku: str, count: int = 1) -> None:
        """Take items out of stock; never below zero."""
        have = self._counts.get(sku, 0)
        if count > have:
            raise OutOfStock(f"cannot remove {count} of {sku}: only {have} in stock")
        self._counts[sku] = have - count

    def count(self, sku: str) -> int:
        return self._counts.get(sku, 0)

    def items(self) -> list[tuple[Item, int]]:
        return [(self._items[sku], n) for sku, n in sorted(self._counts.items())]

    def low_stock(self, threshold: int) -> list[Item]:
        """Items with at most `threshold` left."""
        return [item for item, n in self.items() if n <= threshold]

    def total_value(self) -> float:
        return sum(item.price * n for item, n in self.items())
'''

TEST_STOCK_PY = (
    PROJECT["tests/test_stock.py"].replace(
        "from inventory.stock import Stock", "from inventory.stock import OutOfStock, Stock"
    )
    + """
    def test_remove(self):
        stock = Stock()
        stock.add(MUG, 3)
        stock.remove("A100", 2)
        self.assertEqual(stock.count("A100"), 1)

    def test_remove_never_goes_below_zero(self):
        stock = Stock()
        stock.add(MUG)
        with self.assertRaises(OutOfStock):
            stock.remove("A100", 2)
        self.assertEqual(stock.count("A100"), 1)

    def test_low_stock(self):
        stock = Stock()
        stock.add(MUG, 5)
        stock.add(TOWEL, 1)
        self.assertEqual(stock.low_stock(2), [TOWEL])
"""
)

REPORT_PY_BY_REPORT = '''\
"""Plain-text and CSV stock reports."""

import csv
import io

from inventory.stock import Stock


def format_report(stock: Stock) -> str:
    lines = ["SKU      Item                 Count"]
    for item, count in stock.items():
        lines.append(f"{item.sku:<8} {item.name:<20} {count:>5}")
    total = stock.total_value()
    lines.append(f"{'TOTAL':<29} {total:>10.2f}")
    return "\\n".join(lines)


def to_csv(stock: Stock) -> str:
    """The stock as CSV: sku,name,price,count."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\\n")
    writer.writerow(["sku", "name", "price", "count"])
    for item, count in stock.items():
        writer.writerow([item.sku, item.name, f"{item.price:.2f}", count])
    return out.getvalue()
'''

TEST_REPORT_PY = (
    PROJECT["tests/test_report.py"].replace(
        "from inventory.report import format_report", "from inventory.report import format_report, to_csv"
    )
    + """
    def test_total_line_stands_out(self):
        stock = Stock()
        stock.add(Item("A100", "Blue mug", 4.5), 2)
        self.assertTrue(format_report(stock).splitlines()[-1].startswith("TOTAL"))

    def test_to_csv(self):
        stock = Stock()
        stock.add(Item("A100", "Blue mug", 4.5), 2)
        self.assertEqual(to_csv(stock), "sku,name,price,count\\nA100,Blue mug,4.50,2\\n")
"""
)

REPORT_PY_BY_PRICING = '''\
"""Plain-text stock reports."""

from inventory.pricing import format_price
from inventory.stock import Stock


def format_report(stock: Stock) -> str:
    lines = ["SKU      Item                 Count"]
    for item, count in stock.items():
        lines.append(f"{item.sku:<8} {item.name:<20} {count:>5}")
    total = stock.total_value()
    lines.append(f"Total value: {format_price(total)}")
    return "\\n".join(lines)
'''

PRICING_PY = '''\
"""Prices: formatting and discounts."""

CURRENCY = "€"


def format_price(amount: float, currency: str = CURRENCY) -> str:
    """12.5 -> '€12.50'."""
    return f"{currency}{amount:,.2f}"


def discounted(price: float, percent: float) -> float:
    """The price after a discount of `percent` (0-100), rounded to cents."""
    if not 0 <= percent <= 100:
        raise ValueError("percent must be between 0 and 100")
    return round(price * (100 - percent) / 100, 2)
'''

TEST_PRICING_PY = """\
import unittest

from inventory.pricing import discounted, format_price


class PricingTest(unittest.TestCase):
    def test_format_price(self):
        self.assertEqual(format_price(1234.5), "€1,234.50")
        self.assertEqual(format_price(3, currency="$"), "$3.00")

    def test_discounted(self):
        self.assertEqual(discounted(20.0, 25), 15.0)

    def test_discount_out_of_range(self):
        with self.assertRaises(ValueError):
            discounted(20.0, 120)
"""

USAGE_MD = """\
# Using inventory

## Install

Nothing to install: inventory uses only Python's standard library (3.10 or newer).

## The items file

One item per line: `SKU, name, price`. A SKU that appears twice counts twice.

    A100, Blue mug, 4.50
    B200, Tea towel, 3.50

## The command line

    python3 -m inventory.cli items.csv

prints every item with its count and the total value of the stock.

## From Python

    from inventory import Stock, parse_item

    stock = Stock()
    stock.add(parse_item("A100, Blue mug, 4.50"), 3)
    print(stock.total_value())
"""

# The drift: the docs agent "needs" a version number and edits the package, outside its scope.
INIT_PY_BY_DOCS = PROJECT["inventory/__init__.py"] + '\n__version__ = "0.2.0"\n'

CLI_PY = '''\
"""Command line: print a report for a CSV file of items."""

import argparse
import sys

from inventory.items import parse_item
from inventory.report import format_report
from inventory.stock import Stock


def load(path: str) -> Stock:
    stock = Stock()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                stock.add(parse_item(line))
    return stock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inventory", description="Print a stock report.")
    parser.add_argument("items", help="a CSV file: sku,name,price per line")
    parser.add_argument(
        "--low-stock", type=int, metavar="THRESHOLD", help="list only items with at most THRESHOLD left"
    )
    args = parser.parse_args(argv)
    try:
        stock = load(args.items)
    except FileNotFoundError:
        print(f"inventory: no such file: {args.items}", file=sys.stderr)
        return 2
    if args.low_stock is not None:
        for item, count in stock.items():
            if count <= args.low_stock:
                print(f"{item.sku} {item.name}: {count} left")
        return 0
    print(format_report(stock))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
'''

TEST_CLI_PY = """\
import contextlib
import io
import os
import tempfile
import unittest

from inventory.cli import main


class CliTest(unittest.TestCase):
    def run_cli(self, *args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
        return code, out.getvalue(), err.getvalue()

    def items_file(self):
        fd, path = tempfile.mkstemp(suffix=".csv")
        with os.fdopen(fd, "w") as fh:
            fh.write("A100, Blue mug, 4.50\\nA100, Blue mug, 4.50\\nB200, Tea towel, 3.50\\n")
        self.addCleanup(os.unlink, path)
        return path

    def test_report(self):
        code, out, _ = self.run_cli(self.items_file())
        self.assertEqual(code, 0)
        self.assertIn("Blue mug", out)

    def test_low_stock(self):
        code, out, _ = self.run_cli(self.items_file(), "--low-stock", "1")
        self.assertEqual(code, 0)
        self.assertEqual(out, "B200 Tea towel: 1 left\\n")

    def test_missing_file(self):
        code, _, err = self.run_cli("/nonexistent/items.csv")
        self.assertEqual(code, 2)
        self.assertIn("no such file", err)
"""

ITEMS_PY = '''\
"""Items: what the shop sells."""

import csv
from dataclasses import dataclass


class BadItemLine(ValueError):
    """A line that is not 'SKU,name,price'."""


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    price: float


def parse_item(line: str) -> Item:
    """Parse 'SKU,name,price' into an Item; the name may be quoted and hold commas."""
    fields = next(csv.reader([line], skipinitialspace=True), [])
    if len(fields) != 3:
        raise BadItemLine(f"expected 'SKU,name,price', got {line.strip()!r}")
    sku, name, price = (part.strip() for part in fields)
    try:
        return Item(sku=sku, name=name, price=float(price))
    except ValueError:
        raise BadItemLine(f"price {price!r} is not a number in {line.strip()!r}") from None
'''

TEST_ITEMS_PY = (
    PROJECT["tests/test_items.py"].replace(
        "from inventory.items import Item, parse_item",
        "from inventory.items import BadItemLine, Item, parse_item",
    )
    + """
    def test_quoted_name_with_comma(self):
        self.assertEqual(parse_item('D400, "Mug, large", 6.00').name, "Mug, large")

    def test_bad_line(self):
        with self.assertRaises(BadItemLine):
            parse_item("just words")

    def test_bad_price(self):
        with self.assertRaises(BadItemLine):
            parse_item("A100, Blue mug, cheap")
"""
)
