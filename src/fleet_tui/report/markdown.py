"""The report as markdown (`fleet-tui report`)."""

from __future__ import annotations

from fleet_tui.report.records import FleetReport
from fleet_tui.report.verdict import duration_words


def report_markdown(report: FleetReport) -> str:
    lines = [f"# fleet report: {report.fleet}", ""]
    state = "still running" if report.running else "finished" if report.merge_order else "stopped"
    lines += [f"base `{report.base}`, {state}.", "", "## Verdict", ""]
    lines += [f"- {s}" for s in report.verdict]
    speed = f"{report.speedup:.2f}x" if report.speedup is not None else "-"
    lines += [
        "",
        "## Fleet",
        "",
        "| wall time | agents' working time | parallel speed-up | waiting for the person | merge order |",
        "|---|---|---|---|---|",
        f"| {duration_words(report.wall)} | {duration_words(report.working)} | {speed} | "
        f"{duration_words(report.waiting)} | {' -> '.join(report.merge_order) or '-'} |",
        "",
        "## Agents",
        "",
        "| agent | working | waiting | idle | crashed | waits | longest wait | restarts | drift | merged "
        "| tokens | cost |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for a in report.agents:
        longest = max((w.seconds for w in a.waits), default=None)
        merged = f"#{report.merge_order.index(a.name) + 1}" if a.name in report.merge_order else "-"
        lines.append(
            f"| {a.name} | {duration_words(a.working)} | {duration_words(a.waiting)} | "
            f"{duration_words(a.idle)} | {duration_words(a.crashed)} | {len(a.waits)} | "
            f"{duration_words(longest) if longest is not None else '-'} | {len(a.restarts)} | "
            f"{len(a.drift)} | {merged} | {a.tokens if a.tokens is not None else '-'} | "
            f"{f'${a.cost:.2f}' if a.cost is not None else '-'} |"
        )
    waits = sorted(((w, a.name) for a in report.agents for w in a.waits), key=lambda x: x[0].start)
    lines += ["", "## Attention cost (each wait for the person)", ""]
    lines += [
        f"- {name}: {duration_words(w.seconds)}" + ("" if w.answered else " (still waiting)")
        for w, name in waits
    ] or ["- no agent waited for the person"]
    lines += ["", "## Restarts", ""]
    lines += [
        f"- {a.name}: attempt {r.attempt or '?'}: {r.reason or 'no reason given'}"
        for a in report.agents
        for r in a.restarts
    ] or ["- none"]
    lines += ["", "## Drift", ""]
    lines += [f"- {a.name}: {', '.join(a.drift)}" for a in report.agents if a.drift] or ["- none"]
    lines += ["", "## Collisions: predicted and actual", ""]
    for c in report.predicted:
        lines.append(f"- predicted {c.kind}: {', '.join(c.agents)}: {', '.join(c.files)}")
    for c in report.actual:
        lines.append(f"- actual {c.kind}: {', '.join(c.agents)}: {', '.join(c.files)}")
    if not report.predicted and not report.actual:
        lines.append("- none predicted, none happened")
    return "\n".join(lines) + "\n"
