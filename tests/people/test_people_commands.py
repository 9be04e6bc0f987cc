"""`shoebox people …` on people written straight into the local runtime (no workflow, no recognizer):
the CLI's own behaviour, fast. The real-photo, real-workflow path is test_people_cli.py."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from people_helpers import BOX, BOX2


def run(*args: str, code: int = 0):
    from shoebox.cli.main import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (args, result.output, result.exception)
    return result


def run_json(*args: str):
    return json.loads(run(*args, "--json").stdout)


def key(i: int) -> str:
    return f"originals/2020/01/{i:02d}/IMG_{i}.jpg"


def test_hidden_lists_only_hidden_people_to_find_one_to_unhide(local_photos, home):
    with local_photos() as photos:
        # p-a: 3 photos, p-b: 2, p-c: 1, p-d: its only photo lost its face
        for i, people in enumerate([["p-a", "p-b", "p-c"], ["p-a", "p-b"], ["p-a"], ["p-d"]], start=1):
            photos.persist(key(i), [(pid, BOX if n == 0 else BOX2) for n, pid in enumerate(people)])
        photos.persist(key(4), [])
        for pid in ("p-b", "p-c", "p-d"):
            photos.people.hide(pid)
    assert [p["id"] for p in run_json("people")] == ["p-a"]
    hidden = run_json("people", "--hidden")
    assert [(p["id"], p["hidden"]) for p in hidden] == [("p-b", True), ("p-c", True)]  # most photographed first
    assert [p["id"] for p in run_json("people", "--hidden", "--limit", "1")] == ["p-b"]
    # --all also lists people with no photo left: with --hidden, the hidden ones among them
    assert [p["id"] for p in run_json("people", "--hidden", "--all")] == ["p-b", "p-c", "p-d"]
    assert "hidden people — 2" in run("people", "--hidden").stdout

    run("people", "--hidden", "--page", str(home / "hidden-page"))
    page = (home / "hidden-page" / "index.html").read_text()
    assert "<code>shoebox people unhide p-b</code>" in page and "<code>shoebox people unhide p-c</code>" in page
    assert 'id="p-a"' not in page and "<title>Hidden people</title>" in page

    run("people", "unhide", "p-b")
    assert [p["id"] for p in run_json("people", "--hidden")] == ["p-c"]


def test_a_name_held_by_a_hidden_person_says_who_and_how_to_see_them(local_photos):
    with local_photos() as photos:
        for i, pid in enumerate(("p-a", "p-b", "p-c"), start=1):
            photos.persist(key(i), [(pid, BOX)])
        photos.people.name_person("p-b", "Bob")
        photos.people.name_person("p-c", "Carl")
        photos.people.hide("p-b")
    failed = run("people", "name", "p-a", "bob", code=1)
    said = " ".join(failed.output.split())  # the console wraps long lines
    assert "'bob' is already p-b, who is hidden" in said
    assert "`shoebox people --hidden`" in said and "`shoebox people unhide p-b`" in said
    # into the listed one: merging into p-b would hide p-a's photos with it
    assert "`shoebox people merge p-a p-b`" in said
    # held by a listed person, the message is as before
    said = " ".join(run("people", "name", "p-a", "Carl", code=1).output.split())
    assert "hidden" not in said and "`shoebox people merge p-c p-a`" in said
    # the advice works: one listed person, with the name
    merged = run_json("people", "merge", "p-a", "p-b")
    assert (merged["id"], merged["name"], merged["hidden"]) == ("p-a", "Bob", False)
    assert [p["id"] for p in run_json("people", "--hidden")] == []
