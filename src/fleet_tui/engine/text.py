"""Wording shared by the engine, the CLI and the screens: one pluraliser, one list joiner, times.

Pure: no I/O. Anything that counts things or lists names in a message goes through here, so a
message says "1 file" and "3 files" and shortens long lists the same way everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

LIST_MAX = 8  # names shown before "… and N more"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`plural(1, "file")` is "1 file", `plural(2, "file")` "2 files"; `many` for irregular words."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def files(count: int) -> str:
    return plural(count, "file")


def shown_path(path: str) -> str:
    """A file name for people. git hands names that are not UTF-8 over as surrogates (so the name
    can be given back to git byte for byte); shown, each such byte is `\\xNN`, never `\\udcNN`."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def listed(items: Iterable[str], limit: int = LIST_MAX) -> str:
    """Comma-separated, at most `limit` items, then how many more there are."""
    shown = list(items)
    text = ", ".join(shown[:limit])
    return text + (f" … and {len(shown) - limit} more" if len(shown) > limit else "")


def format_time(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def format_details(details: Mapping[str, Any]) -> str:
    """An event's details as `key=value` pairs; empty values left out."""
    parts = []
    for key, value in details.items():
        if value is None or value == [] or value == {}:
            continue
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        parts.append(f"{key}={value}")
    return "  ".join(parts)
