"""The `shoebox` command line (typer + rich)."""
