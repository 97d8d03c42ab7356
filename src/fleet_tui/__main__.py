"""`python -m fleet_tui`: the same as the `fleet-tui` command (the supervisor is started this way)."""

from fleet_tui.cli import main

main()
