"""The report's plain verdict: a few sentences built from the figures."""

from __future__ import annotations

from fleet_tui.report.records import FleetReport


def verdict(report: FleetReport) -> tuple[str, ...]:
    """A few plain sentences built from the figures."""
    said: list[str] = []
    if not report.agents or report.start is None:
        return ("Nothing has run yet: there is no history to judge.",)
    if report.waiting > report.working:
        said.append(
            f"Agents waited longer for the person ({duration_words(report.waiting)}) than they worked "
            f"({duration_words(report.working)}): the person's attention was the bottleneck."
        )
    elif report.waiting > 0:
        said.append(
            f"Agents spent {duration_words(report.waiting)} waiting for the person, against "
            f"{duration_words(report.working)} of work."
        )
    if report.speedup is not None and len(report.agents) > 1:
        ran = "ran" if not report.running else "has run"
        if report.speedup >= 1.2:
            said.append(
                f"Parallel paid off: {duration_words(report.working)} of agent work {ran} in "
                f"{duration_words(report.wall)} of wall time ({report.speedup:.1f}x)."
            )
        else:
            said.append(
                f"Parallel did not pay: {duration_words(report.working)} of agent work took "
                f"{duration_words(report.wall)} of wall time ({report.speedup:.1f}x); one agent after "
                "another would have been about as fast."
            )
    waits = [(w.seconds, r.name) for r in report.agents for w in r.waits]
    if waits:
        longest, who = max(waits)
        said.append(f"The longest wait for an answer was {duration_words(longest)} ({who}).")
    crashes = sum(1 for r in report.agents for m in r.marks if m.kind == "crash")
    restarts = sum(len(r.restarts) for r in report.agents)
    if crashes or restarts:
        lost = sum(r.crashed for r in report.agents)
        said.append(
            f"{_count(crashes, 'crash', 'crashes')} and {_count(restarts, 'restart')}; "
            f"agents sat crashed for {duration_words(lost)}."
        )
    conflicts = [c for c in report.actual if c.kind == "merge-conflict"]
    overlaps = [c for c in report.actual if c.kind == "overlap"]
    said.append(
        f"{_count(len(report.predicted), 'collision')} predicted, {_count(len(overlaps), 'real overlap')} "
        f"and {_count(len(conflicts), 'refused merge')} happened."
    )
    return tuple(said)


def duration_words(seconds: float) -> str:
    if seconds < 10:
        return f"{max(seconds, 0.0):.1f}s"  # a test fleet's, or a quick answer: tenths still say something
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _count(count: int, word: str, many: str | None = None) -> str:
    """ "1 crash", "2 crashes" (the core's own: it may not import the engine's wording)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
