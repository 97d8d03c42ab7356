"""The retrospective: `fleet-tui report` (markdown, --json, --svg FILE)."""

from __future__ import annotations

from pathlib import Path

import click

from fleet_tui.cli.common import cli, err, fleet_from, fleet_options
from fleet_tui.engine.retro import fleet_report
from fleet_tui.errors import FleetError
from fleet_tui.report import report_markdown
from fleet_tui.timeline import timeline_svg


@cli.command()
@fleet_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--svg",
    "svg",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also draw the timeline (one row per agent) into this SVG file.",
)
@click.pass_context
def report(
    ctx: click.Context, directory: Path | None, fleet_file: Path | None, as_json: bool, svg: Path | None
) -> None:
    """The retrospective: time working, waiting for you, idle, crashed; restarts, drift, predicted
    and actual collisions, merge order, the parallel speed-up and a plain verdict."""
    if svg is not None and not svg.parent.resolve().is_dir():
        raise FleetError(f"cannot write {svg}: the folder {svg.parent} does not exist", "create it first")
    fleet = fleet_from(ctx, directory, fleet_file)
    result = fleet_report(fleet)
    if svg is not None:
        try:
            svg.write_text(timeline_svg(result), encoding="utf-8")
        except OSError as exc:
            raise FleetError(f"cannot write {svg}: {exc.strerror}", "pick a file you can write") from exc
        err.print(f"timeline written to {svg}")
    if as_json:
        click.echo(result.model_dump_json(indent=2))
    else:
        click.echo(report_markdown(result), nl=False)
