"""The one package that talks to tmux, always on the fleet's own socket.

Reads are batched: one command line per tick lists the panes and captures the screens that may
have changed, sent through the reader's long-lived control-mode client (or one tmux process).

- `_cli`: running tmux (the only importer of libtmux), shared constants, literal arguments
- `server`: `Tmux`, the fleet's server: sessions, panes, steering, ownership, history
- `reader`: `PaneReader`, which captures only the screens that may have changed
- `control`: the reader's tmux control-mode client (read-only commands, replies checked)
- `client`: a foreground tmux client (attach)
"""

from fleet_tui.adapters.tmux._cli import require_tmux
from fleet_tui.adapters.tmux.client import client_env, run_client
from fleet_tui.adapters.tmux.reader import PaneReader
from fleet_tui.adapters.tmux.server import PaneStart, Tmux

__all__ = ["PaneReader", "PaneStart", "Tmux", "client_env", "require_tmux", "run_client"]
