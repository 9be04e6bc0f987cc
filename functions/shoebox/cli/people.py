"""`shoebox people`: list face groups, name them, merge them, show a person's photos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from shoebox.cli.backends import dumps, open_backend
from shoebox.cli.common import (JsonOpt, StackOpt, _print_rows, copy_objects, err, local_name, not_copied_warning,
                                 out)

people_app = typer.Typer(help="People: face groups found in your photos. Name them, merge them.",
                         invoke_without_command=True)


def _people(backend):
    return backend.people()


def _fail(message: str) -> None:
    err.print(message, style="red", markup=False)  # messages hold names: "Bob [work]" is not markup
    raise typer.Exit(1)


PageOpt = Annotated[Optional[Path], typer.Option(
    "--page", help="Also write a page to look at them (cover faces, sample photos) into this folder.")]


def _write_page(backend, folder: Path, people: list[dict], render) -> Path:
    """Copy the people's cover crops and their sample photos' small thumbnails into ``folder`` and write
    ``render(files)`` there as index.html, ``files`` mapping each key the page names (crop key, photo
    key) to its file there (a local folder: nothing is published). Images that could not be copied are
    left out, with one warning line on stderr."""
    names: dict[str, str] = {}  # bucket key -> file name
    shown: dict[str, str] = {}  # key the page names (crop key, photo key) -> bucket key
    for person in people:
        if person["cover"]:
            names[person["cover"]] = shown[person["cover"]] = person["cover"]
        for key in person["samples"]:
            record = backend.catalog.get_photo(key)
            grid = ((record.thumbnails if record else {}) or {}).get("grid") or {}
            if grid.get("key"):
                names[grid["key"]], shown[key] = grid["key"], grid["key"]
    copied = copy_objects(backend.s3, backend.bucket, {k: local_name(k) for k in names}, folder)
    files = {shown_key: copied.saved[bucket_key] for shown_key, bucket_key in shown.items()
             if bucket_key in copied.saved}
    page = folder / "index.html"
    page.write_text(render(files), encoding="utf-8")
    warning = not_copied_warning(copied)
    if warning:  # else a page of empty boxes (a deployed stack, no permission) would go unexplained
        err.print(f"[yellow]warning: {warning}[/yellow]", soft_wrap=True)
    return page


@people_app.callback()
def list_people(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    include_all: Annotated[bool, typer.Option("--all", help="Also hidden people and people with no photo left.")] = False,
    only_hidden: Annotated[bool, typer.Option(
        "--hidden", help="Only hidden people (to find one to unhide); with --all, also those with no photo left.",
    )] = False,
    limit: Annotated[Optional[int], typer.Option(min=1, help="At most this many (the most photographed).")] = None,
    page: PageOpt = None,
) -> None:
    """List people with face and photo counts, cover crop and sample photos (most photographed first)."""
    if ctx.invoked_subcommand is not None:
        return
    from shoebox.people_page import people_html

    with open_backend(stack) as backend:
        people = _people(backend)
        people.ensure_covers()  # a cover that could not be made at processing time is made now
        # --hidden narrows whatever --all widened: hidden people only, those with no photo left too if --all
        listed = people.list_people(include_empty=include_all, include_hidden=include_all or only_hidden)
        found = [p.to_json() for p in listed if p.hidden or not only_hidden]
        found = found[:limit] if limit else found
        if page:
            written = _write_page(backend, page, found,
                                  lambda files: people_html(found, files, hidden_only=only_hidden))
            err.print(f"page: {written}", markup=False)
    if as_json:
        print(dumps(found))
        return
    out.print(_people_table(found, f"{'hidden people' if only_hidden else 'people'} — {len(found)}"))
    if found and not page:
        err.print("their faces and photos, to look at: shoebox people --page FOLDER", style="dim")


def _name_cell(p: dict) -> Text:
    """The name (dim "unnamed" when none), with how many groups were merged in and whether hidden."""
    name = Text(p["name"]) if p["name"] else Text("unnamed", style="dim")
    if p["aliases"]:
        name.append(f" (+{len(p['aliases'])} merged)", style="dim")
    if p["hidden"]:
        name.append(" (hidden)", style="dim")
    return name


def _people_table(found: list[dict], title: str) -> Table:
    table = Table(title=title)
    names = [_name_cell(p) for p in found]
    # one line a person, so 50 people fit a screen: the newest photos by file name (keys, cover: --json),
    # cut to whatever width the other columns leave (16: borders and padding)
    name_width = min(max((len(n.plain) for n in names), default=4), 32)
    table.add_column("id", no_wrap=True, min_width=14)
    table.add_column("name", no_wrap=True, overflow="ellipsis", max_width=32)
    table.add_column("faces", justify="right", no_wrap=True, min_width=5)
    table.add_column("photos", justify="right", no_wrap=True, min_width=6)
    table.add_column("recent photos", no_wrap=True, overflow="ellipsis",
                     max_width=max(16, out.width - 14 - name_width - 5 - 6 - 16))
    for p, name in zip(found, names):
        table.add_row(p["id"], name, str(p["faces"]), str(p["photos"]),
                      Text(", ".join(key.rsplit("/", 1)[-1] for key in p["samples"])))
    return table


def _edit(stack: str | None, as_json: bool, change, describe) -> None:
    """Run one change on the people rows (``change(People) -> Person``), then print it."""
    from shoebox.catalog.people_rules import PeopleError

    with open_backend(stack) as backend:
        try:
            found = change(_people(backend)).to_json()
        except PeopleError as exc:
            _fail(str(exc))
    if as_json:
        print(dumps(found))
    else:
        out.print(describe(found), markup=False)


@people_app.command("name")
def name_cmd(
    person: Annotated[str, typer.Argument(help="Person id (or current name).")],
    name: Annotated[str, typer.Argument(help="The name to give.")],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
) -> None:
    """Name (or rename) a person. Names survive re-indexing."""
    _edit(stack, as_json, lambda people: people.name_person(person, name),
          lambda p: f"{p['id']} is now {p['name']} ({p['photos']} photo(s))")


@people_app.command("merge")
def merge_cmd(
    people: Annotated[list[str], typer.Argument(help="Two or more ids or names; the others merge into the first.")],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
) -> None:
    """Merge face groups that are the same person (into the first one given)."""
    twice = sorted({p for p in people if people.count(p) > 1})
    if twice:
        _fail(f"each person once: {', '.join(twice)} given more than once (a person cannot merge into itself)")
    _edit(stack, as_json, lambda rows: rows.merge(people),
          lambda p: f"merged into {p['id']} ({p['name'] or 'unnamed'}): {p['photos']} photo(s), "
                    f"aliases {', '.join(p['aliases'])}")


@people_app.command("unmerge")
def unmerge_cmd(
    person: Annotated[str, typer.Argument(help="A merged-away person id.")],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
) -> None:
    """Undo a merge: this face group is its own person again."""
    _edit(stack, as_json, lambda people: people.unmerge(person),
          lambda p: f"{p['id']} is its own person again ({p['photos']} photo(s))")


@people_app.command("apart")
def apart_cmd(
    first: Annotated[str, typer.Argument(help="Person id or name.")],
    second: Annotated[str, typer.Argument(help="Another person id or name.")],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
) -> None:
    """Two people who are not the same person: never merged automatically, no longer suggested."""
    if first == second:
        _fail(f"{first} given twice: keep apart two different people")
    _edit(stack, as_json, lambda people: people.apart(first, second),
          lambda p: f"{p['id']} ({p['name'] or 'unnamed'}) and {second} are kept apart")


@people_app.command("hide")
def hide_cmd(
    people: Annotated[list[str], typer.Argument(help="Ids or names.")],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
) -> None:
    """Hide people from the list and from suggestions (strangers, faces on posters). Their photos stay
    findable; `people --hidden` lists only them, `people --all` everyone."""
    _hide(people, True, as_json, stack)


@people_app.command("unhide")
def unhide_cmd(
    people: Annotated[list[str], typer.Argument(help="Ids or names.")],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
) -> None:
    """List (and suggest) hidden people again."""
    _hide(people, False, as_json, stack)


def _hide(refs: list[str], hidden: bool, as_json: bool, stack: str | None) -> None:
    from shoebox.catalog.people_rules import PeopleError

    with open_backend(stack) as backend:
        try:  # every ref is known before any is changed (hide_many)
            changed = [p.to_json() for p in _people(backend).hide_many(refs, hidden)]
        except PeopleError as exc:
            _fail(str(exc))
    if as_json:
        print(dumps(changed))
        return
    for p in changed:
        out.print(f"{p['id']} ({p['name'] or 'unnamed'}, {p['photos']} photo(s)) is {'hidden' if hidden else 'listed'}",
                  markup=False)


@people_app.command("suggest")
def suggest_cmd(
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    limit: Annotated[int, typer.Option(help="At most this many pairs.")] = 10,
    page: PageOpt = None,
) -> None:
    """People who may be one person (most alike first), e.g. someone's groups from years apart.
    Confirm with `people merge A B`, dismiss with `people apart A B`."""
    from shoebox.errors import RecognitionError, RecognitionThrottled
    from shoebox.people_page import suggestions_html

    with open_backend(stack) as backend:
        people = _people(backend)
        if page:
            people.ensure_covers()  # as the list does: the page shows faces
        # hidden people are never suggested: not asked about (on Rekognition each id is a paid call)
        ids = [pid for p in people.list_people(include_hidden=False) for pid in (p.id, *p.aliases)]
        try:
            found = people.suggestions(backend.similar_people(ids), limit=limit) if ids else []
        except (RecognitionError, RecognitionThrottled) as exc:
            _fail(f"the recognizer could not compare people: {exc}")
        if page:
            written = _write_page(backend, page, [p for pair in found for p in (pair["a"], pair["b"])],
                                  lambda files: suggestions_html(found, files))
            err.print(f"page: {written}", markup=False)
    if as_json:
        print(dumps(found))
        return
    if not found:
        out.print("no suggestions: no two people look alike enough to ask")
        return
    out.print(_suggestions_table(found))
    out.print("same person: [bold]shoebox people merge A B[/bold]; not: [bold]shoebox people apart A B[/bold]")
    if not page:
        err.print("both faces side by side: shoebox people suggest --page FOLDER", style="dim")


def _suggestions_table(found: list[dict]) -> Table:
    table = Table(title=f"maybe the same person — {len(found)}")
    table.add_column("alike", justify="right")
    for column in ("a", "b"):
        table.add_column(column, overflow="fold")
    for pair in found:
        table.add_row(f"{pair['similarity']:.2f}", *(Text(f"{p['id']} {p['name'] or ''} ({p['photos']} photo(s))")
                                                       for p in (pair["a"], pair["b"])))
    return table


@people_app.command("show")
def show_cmd(
    person: Annotated[str, typer.Argument(help="Person id or name.")],
    as_json: JsonOpt = False,
    stack: StackOpt = None,
    limit: Annotated[Optional[int], typer.Option(help="At most this many photos.")] = None,
) -> None:
    """Photos of one person (merged groups included), newest first."""
    from shoebox.catalog.people_rules import PeopleError

    with open_backend(stack) as backend:
        people = _people(backend)
        try:
            who = people.get(person)
            rows = people.photos_of(who.id, limit=limit)
        except PeopleError as exc:
            _fail(str(exc))
        refs = people.refs()
    _print_rows(rows, as_json, who.name or who.id, refs)


def register(app: typer.Typer) -> None:
    app.add_typer(people_app, name="people")
