"""`python -m shoebox` is the `shoebox` command."""

from shoebox.cli.main import app

app()
