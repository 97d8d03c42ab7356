"""`fleet-tui serve`: the same dashboard in a web browser (textual-serve), one app per page.

Bound to 127.0.0.1 by default. Bound anywhere else, every URL carries a random token: the page
needs it in its query (`/?token=…`) and the app's websocket in its path (`/ws/<token>`), so
someone who can reach the port but was not given the URL gets a 403 and no dashboard.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from fleet_tui.cli.common import cli, fleet_from, fleet_options, out
from fleet_tui.errors import FleetError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def dashboard_command(root: Path, fleet_file: Path) -> str:
    """The shell line that opens this fleet's dashboard: what each browser page runs."""
    script = Path(sys.executable).with_name("fleet-tui")
    argv = (
        [str(script)] if script.exists() else [sys.executable, "-c", "from fleet_tui.cli import main; main()"]
    )
    return shlex.join([*argv, "-C", str(root), "-f", str(fleet_file)])


def make_server(
    command: str, host: str, port: int, token: str | None, public_url: str | None, title: str
) -> Any:
    """A textual-serve Server that checks `token` (when given) on the page and on its websocket."""
    import aiohttp_jinja2
    import jinja2
    from aiohttp import web
    from textual_serve.server import Server, to_int

    class TokenServer(Server):
        def _allowed(self, given: str | None) -> bool:
            return token is None or (given is not None and hmac.compare_digest(given, token))

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            if token is None:
                return app
            guarded = web.Application()
            aiohttp_jinja2.setup(guarded, loader=jinja2.FileSystemLoader(self.templates_path))
            guarded.add_routes(
                [
                    web.get("/", self.index_with_token, name="index"),
                    web.get("/ws/{token}", self.websocket_with_token, name="websocket"),
                    web.static("/static", self.statics_path, name="static"),
                ]
            )
            guarded.on_startup.append(self.on_startup)
            return guarded

        async def index_with_token(self, request: web.Request) -> web.StreamResponse:
            if not self._allowed(request.query.get("token")):
                raise web.HTTPForbidden(text="fleet-tui: this page needs the token from its URL\n")
            router = request.app.router
            ws = f"{self.public_url}{router['websocket'].url_for(token=token or '')}"
            ws = ("wss:" if self.public_url.startswith("https") else "ws:") + ws.split(":", 1)[1]
            static = f"{self.public_url}{router['static'].url_for(filename='/')}".rstrip("/") + "/"
            context = {
                "font_size": to_int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": ws,
                "config": {"static": {"url": static}},
                "application": {"name": self.title},
            }
            return aiohttp_jinja2.render_template("app_index.html", request, context)

        async def websocket_with_token(self, request: web.Request) -> web.StreamResponse:
            if not self._allowed(request.match_info.get("token")):
                raise web.HTTPForbidden(text="fleet-tui: wrong token\n")
            return await self.handle_websocket(request)

    return TokenServer(command, host=host, port=port, title=title, public_url=public_url)


@cli.command()
@fleet_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on."
)
@click.option("--public-url", help="The URL people open, when it is not http://HOST:PORT (a proxy).")
@click.option(
    "--token",
    "require_token",
    is_flag=True,
    help="Require a token on 127.0.0.1 too (other users of this machine).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    directory: Path | None,
    fleet_file: Path | None,
    host: str,
    port: int,
    public_url: str | None,
    require_token: bool,
) -> None:
    """Serve the dashboard to a web browser (each page gets its own dashboard on the fleet).

    Listens on 127.0.0.1 unless --host says otherwise; then the printed URL carries a token that
    the page needs. Ctrl-C stops serving; the agents keep running.
    """
    fleet = fleet_from(ctx, directory, fleet_file)
    token = secrets.token_urlsafe(18) if require_token or not is_loopback(host) else None
    if public_url is None and host in ("0.0.0.0", "::"):
        raise FleetError(
            f"--host {host} listens everywhere, so there is no one address to print",
            "also give --public-url http://<this machine's name or address>:PORT",
        )
    shown = (public_url or f"http://{host if ':' not in host else f'[{host}]'}:{port}").rstrip("/")
    server = make_server(
        dashboard_command(fleet.root, fleet.spec.path), host, port, token, shown, f"fleet-tui · {fleet.name}"
    )
    server.console.quiet = True  # our own line below says where to go
    out.print(f"serving the dashboard of {fleet.name!r} on {shown}/" + (f"?token={token}" if token else ""))
    if token:
        out.print(
            "the token is needed: share this URL only with people who may steer the fleet", markup=False
        )
    out.print("Ctrl-C stops serving; the agents keep running", markup=False)
    try:
        server.serve()
    except OSError as exc:
        raise FleetError(f"cannot listen on {host}:{port}: {exc.strerror}", "choose another --port") from None
