"""Repository tooling, not installed: the grid runner, run records and the RESULTS.md generator."""
