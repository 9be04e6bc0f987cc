"""`shoebox demo`: a fresh local stack, the sample photos through the real workflow, a few searches."""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console
from rich.markup import escape as esc

from shoebox.cli.backends import Backend, Upload, dumps, open_backend
from shoebox.config import shoebox_home
from shoebox.ingest.files import original_key
from shoebox.samples import write_samples

SEARCHES = ["photos from 2007", "cat in Paris", "photos in Italy", "photos of Eileen"]
ASTRONAUT = "astronaut.jpg"  # Eileen Collins (NASA, public domain): the demo names the person found in it


def _name_the_astronaut(backend: Backend, results: list[dict]) -> str | None:
    """Name the person the recognizer found in the astronaut photo, as a user would with `people name`."""
    from shoebox.catalog.people import People

    for result in results:
        if result["source"].endswith(ASTRONAUT) and result["people"]:
            People(backend.catalog, bucket=backend.bucket).name_person(result["people"][0], "Eileen")
            return result["people"][0]
    return None


def run_demo(home: Path | None = None, as_json: bool = False, console: Console | None = None) -> int:
    from shoebox.local import client

    console = console or Console()
    home = (home or shoebox_home() / "demo").resolve()
    marker = home / ".shoebox-demo"
    if home.exists() and any(home.iterdir()):
        if not marker.exists():
            console.print(f"[red]{esc(str(home))} is not empty and is not a demo folder: refusing to replace it[/red]",
                          soft_wrap=True)  # one line: a path is never split
            return 1
        client.stop(home / "state")  # the previous run's service, if it still runs
        shutil.rmtree(home)  # a fresh stack each run, but only ever a folder the demo made
    home.mkdir(parents=True, exist_ok=True)
    marker.write_text("made by `shoebox demo`; the whole folder is replaced on the next run\n")
    files = write_samples(home / "samples")
    uploads = [Upload(path, original_key(path)) for path in files]

    with open_backend(None, home / "state") as backend:
        if not as_json:
            console.print(f"[bold]Shoebox demo[/bold] — local stack in {esc(str(home))}, "
                          f"recognizer: {backend.recognizer_name}")
            console.print(f"ingesting {len(files)} sample photos through statemachine/process_photo.asl.json …")
        results = backend.ingest(uploads, lambda r: print(dumps(r)) if as_json else None)
        named = _name_the_astronaut(backend, results)
        from shoebox.search.execute import Searcher

        searcher = Searcher(backend.catalog)
        searches = {q: searcher.search(q).rows for q in SEARCHES}
        refs = searcher.vocabulary.people_refs
        failed = backend.catalog.list_failed()

    if as_json:
        print(dumps({"named": named, "searches": {q: [r["key"] for r in rows] for q, rows in searches.items()}}))
        return 0
    from shoebox.cli.common import _print_ingest_table, _print_rows

    _print_ingest_table(results)
    if named:
        console.print(f"face grouping found person {named} in {ASTRONAUT}; named it: shoebox people name {named} Eileen")
    for query, rows in searches.items():
        _print_rows(rows, False, f'search "{query}"', refs)
    console.print(f"{len(failed)} failed photo(s) are recorded with their reasons (shoebox executions --failed).")
    state = esc(str(home / "state"))  # a user's --home: not markup
    console.print(f"State kept in {state}, served by a local service that keeps running: try  "
                  f"SHOEBOX_HOME={state} shoebox search 'coffee in Rome'  (and  SHOEBOX_HOME={state} shoebox down)")
    return 0
