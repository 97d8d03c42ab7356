"""The fleet's timeline: one row per agent over time, coloured by status, with its moments marked.

Two renderings of a `FleetReport`: an SVG picture (`report --svg`) written with a few lines of
plain SVG (no plotting library needed for bars and marks), and columns of cells the dashboard's
timeline screen colours itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from fleet_tui.report import AgentReport, FleetReport, Mark, duration_words

# The dashboard's status colours (ui/format), as the SVG needs them.
COLOURS = {
    "queued": "#9e9e9e",
    "starting": "#26a6a6",
    "working": "#3fa34d",
    "waiting": "#e0b000",
    "idle": "#4a7bd0",
    "exited": "#c8c8c8",
    "crashed": "#d03b3b",
    "killed": "#b04fb0",
    "merged": "#1e6b2a",
    "ready": "#7cc47f",
    "unknown": "#bdbdbd",
    "missing": "#e57373",
}
MARK_GLYPH = {"merge": "M", "restart": "R", "crash": "X", "wait": "?", "kill": "K", "needs-human": "!"}
MARK_COLOUR = {"merge": "#1e6b2a", "restart": "#26a6a6", "crash": "#d03b3b", "wait": "#a07d00"}

LABEL_W = 130
PLOT_W = 820
ROW_H = 26
BAR_H = 16
TOP = 46


@dataclass(frozen=True)
class Span:
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return max(self.end - self.start, 1e-9)


def span_of(report: FleetReport) -> Span:
    """The time the picture covers: from the first start to the last thing shown."""
    times = [s.start for a in report.agents for s in a.segments]
    times += [s.end for a in report.agents for s in a.segments]
    times += [m.time for a in report.agents for m in a.marks]
    start = report.start if report.start is not None else min(times, default=0.0)
    end = max([*times, report.end or start], default=start)
    return Span(start, max(end, start + 1.0))


def _x(span: Span, t: float) -> float:
    return LABEL_W + (min(max(t, span.start), span.end) - span.start) / span.seconds * PLOT_W


def _mark_svg(span: Span, mark: Mark, y: float) -> str:
    x = _x(span, mark.time)
    colour = MARK_COLOUR.get(mark.kind, "#333333")
    glyph = MARK_GLYPH.get(mark.kind, "*")
    note = f"{mark.kind} {mark.note}".strip()
    return (
        f'<g class="mark" data-kind="{mark.kind}"><title>{escape(note)}</title>'
        f'<line x1="{x:.1f}" y1="{y - 2:.1f}" x2="{x:.1f}" y2="{y + BAR_H + 2:.1f}" stroke="{colour}" '
        f'stroke-width="2"/><text x="{x + 2:.1f}" y="{y - 3:.1f}" font-size="10" fill="{colour}">'
        f"{glyph}</text></g>"
    )


def _ticks(span: Span) -> list[float]:
    steps = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400]
    step = next((s for s in steps if span.seconds / s <= 8), 86400 * 7)
    return [span.start + i * step for i in range(int(span.seconds // step) + 1)]


def timeline_svg(report: FleetReport) -> str:
    """The report as an SVG picture: one row per agent, a time axis, a legend."""
    span = span_of(report)
    height = TOP + ROW_H * len(report.agents) + 56
    width = LABEL_W + PLOT_W + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(report.fleet)}: '
        f"{escape(duration_words(report.wall))} wall, {escape(duration_words(report.working))} working, "
        f"{escape(duration_words(report.waiting))} waiting for the person</text>",
    ]
    axis_y = TOP + ROW_H * len(report.agents)
    for t in _ticks(span):
        x = _x(span, t)
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{axis_y}" stroke="#e6e6e6"/>'
            f'<text x="{x:.1f}" y="{axis_y + 14}" font-size="10" text-anchor="middle" fill="#666">'
            f"{escape(duration_words(t - span.start))}</text>"
        )
    for row, agent in enumerate(report.agents):
        y = TOP + row * ROW_H + (ROW_H - BAR_H) / 2
        parts.append(f'<g class="agent" data-agent={quoteattr(agent.name)}>')
        parts.append(f'<text x="10" y="{y + BAR_H - 3:.1f}" font-size="12">{escape(agent.name)}</text>')
        for seg in agent.segments:
            x1, x2 = _x(span, seg.start), _x(span, seg.end)
            parts.append(
                f'<rect class="segment" data-status="{seg.status}" x="{x1:.1f}" y="{y:.1f}" '
                f'width="{max(x2 - x1, 1.0):.1f}" height="{BAR_H}" fill="{COLOURS.get(seg.status, "#999")}">'
                f"<title>{escape(seg.status)} {escape(duration_words(seg.seconds))}</title></rect>"
            )
        parts.extend(_mark_svg(span, mark, y) for mark in agent.marks if mark.kind != "start")
        parts.append("</g>")
    legend_y = axis_y + 34
    x = 10.0
    for status in ("starting", "working", "waiting", "idle", "crashed", "ready", "killed", "merged"):
        parts.append(
            f'<rect x="{x:.0f}" y="{legend_y - 10}" width="12" height="12" fill="{COLOURS[status]}"/>'
            f'<text x="{x + 16:.0f}" y="{legend_y}" font-size="11">{status}</text>'
        )
        x += 16 + 8 * len(status) + 14
    marks = "  ".join(f"{g} {k}" for k, g in MARK_GLYPH.items())
    parts.append(f'<text x="{x:.0f}" y="{legend_y}" font-size="11" fill="#444">{escape(marks)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def status_at(agent: AgentReport, t: float) -> str | None:
    for seg in agent.segments:
        if seg.start <= t < seg.end or (seg.start == seg.end == t):
            return seg.status
    return None


def cells(agent: AgentReport, span: Span, width: int) -> list[tuple[str | None, str]]:
    """`width` columns for one agent: the status at each column's middle and a mark's glyph when
    one falls inside it (the dashboard colours them)."""
    step = span.seconds / max(width, 1)
    found: list[tuple[str | None, str]] = []
    for col in range(width):
        lo = span.start + col * step
        status = status_at(agent, lo + step / 2)
        glyph = ""
        for mark in agent.marks:
            if mark.kind != "start" and lo <= mark.time < lo + step + (1e-9 if col == width - 1 else 0):
                glyph = MARK_GLYPH.get(mark.kind, "*")
        if status is None and any(s.status == "merged" and s.start <= lo for s in agent.segments):
            status = "merged"
        found.append((status, glyph))
    return found


def rows(report: FleetReport, width: int) -> Sequence[tuple[str, list[tuple[str | None, str]]]]:
    span = span_of(report)
    return [(a.name, cells(a, span, width)) for a in report.agents]
