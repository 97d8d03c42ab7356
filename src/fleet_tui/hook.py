"""The hook writer: one JSON line per agent event, appended to the agent's signals file.

Agents call this from their own hook mechanisms (Claude Code `hooks` and `statusLine` in a settings
file fleet-tui writes, Codex `notify`), so it runs once per event and must cost the agent almost
nothing. It therefore imports only the standard library and is started as a plain script with
`python -S -E hook.py ...` (no site-packages, no fleet-tui package, ~15 ms), never through the
`fleet-tui` console script (~270 ms: click and the whole CLI). bench/bench_hook.py measures both.

    hook.py event <signals.jsonl> <source> [json]     one event; the JSON is the last argument
                                                      (Codex notify) or standard input (Claude)
    hook.py statusline <statusline.json> <source>     Claude's statusLine: keep the latest
                                                      context/cost reading, print a short line

Only the fields the status rules need are kept, so the file stays small even when a tool's input
is a whole file. The line is written with one `write` on an O_APPEND descriptor, so concurrent
hooks never interleave within a line. Whatever goes wrong, the agent must not be disturbed: the
writer exits 0 and prints nothing for events (a hook's output can reach the agent's context).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

# Payload fields worth keeping, by the name the signals file uses for them.
KEEP = {
    "event": ("hook_event_name", "type", "event"),
    "kind": ("notification_type", "matcher", "source", "reason"),
    "message": ("message", "last-assistant-message", "error", "error_message"),
    "tool": ("tool_name",),
    "session": ("session_id", "thread-id", "thread_id"),
    "transcript": ("transcript_path",),
}
MAX_TEXT = 300
# Codex runs side threads of its own (naming the task) and notifies their turns like the agent's:
# they are marked, so they do not read as the end of the agent's turn.
CODEX_SIDE_PROMPTS = ("Generate a concise, single-line task title",)


def _first(payload: dict[str, Any], names: tuple[str, ...]) -> str:
    for name in names:
        value = payload.get(name)
        if isinstance(value, str) and value:
            return value[:MAX_TEXT]
    return ""


def signal_line(payload: dict[str, Any], source: str, now: float) -> str:
    """The one line written for an event: time, source and the fields the rules read."""
    record: dict[str, Any] = {"t": round(now, 3), "src": source}
    for key, names in KEEP.items():
        value = _first(payload, names)
        if value:
            record[key] = value
    record.setdefault("event", "unknown")
    messages = payload.get("input-messages")
    first = messages[0] if isinstance(messages, list) and messages else messages
    if isinstance(first, str) and first.lstrip('["').startswith(CODEX_SIDE_PROMPTS):
        record["kind"] = "side-thread"
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _payload(argv: list[str]) -> dict[str, Any]:
    raw = argv[0] if argv else sys.stdin.read()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        data = {}
    return data if isinstance(data, dict) else {}


def append(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _table(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def statusline_reading(payload: dict[str, Any], now: float) -> dict[str, Any]:
    """Context use, cost, model and transcript from the JSON Claude passes its statusLine."""
    window, cost, model = (_table(payload, key) for key in ("context_window", "cost", "model"))
    used = _number(window.get("used_percentage"))
    if used is None:
        remaining = _number(window.get("remaining_percentage"))
        used = None if remaining is None else 100.0 - remaining
    return {
        "t": round(now, 3),
        "context_used": used,
        "context_window": _number(window.get("context_window_size")),
        "cost_usd": _number(cost.get("total_cost_usd")),
        "model": model.get("display_name") or model.get("id") or "",
        "transcript": payload.get("transcript_path") or "",
        "session": payload.get("session_id") or "",
    }


def write_statusline(path: str, reading: dict[str, Any]) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(reading, fh)
    os.replace(tmp, path)


def statusline_text(reading: dict[str, Any]) -> str:
    parts = []
    if reading["model"]:
        parts.append(str(reading["model"]))
    if reading["context_used"] is not None:
        parts.append(f"context {reading['context_used']:.0f}%")
    if reading["cost_usd"] is not None:
        parts.append(f"${reading['cost_usd']:.2f}")
    return "fleet-tui · " + " · ".join(parts) if parts else "fleet-tui"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[0] not in ("event", "statusline"):
        sys.stderr.write("usage: hook.py event|statusline <file> <source> [json]\n")
        return 2
    mode, path, source, rest = args[0], args[1], args[2], args[3:]
    try:
        payload = _payload(rest)
        now = time.time()
        if mode == "event":
            append(path, signal_line(payload, source, now))
        else:
            reading = statusline_reading(payload, now)
            write_statusline(path, reading)
            sys.stdout.write(statusline_text(reading) + "\n")
    except Exception as exc:  # never disturb the agent: a lost signal reads as "no signals"
        sys.stderr.write(f"fleet-tui hook: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
