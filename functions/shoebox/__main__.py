"""`python -m shoebox` is the `shoebox` command."""

from shoebox.cli.main import app

if __name__ == "__main__":  # not when a spawned compute worker imports this module
    app()
