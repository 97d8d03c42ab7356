"""Data of `fleet-tui demo`: the project and what its simulated agents write."""
