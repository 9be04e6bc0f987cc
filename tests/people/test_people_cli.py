"""`shoebox people …` end to end: real photos through the real workflow (local recognizer), then the CLI.

Names and merges must survive re-indexing: a photo re-processed after `people name` / `people merge` keeps
its person id (both recognizers keep ids stable), so the name and the merge still apply.
"""

from __future__ import annotations

import importlib.resources
import io
import json

import pytest
from typer.testing import CliRunner

from shoebox.catalog import Catalog
from shoebox.catalog.keys import time_sk

pytest.importorskip("cv2")
SAMPLES = importlib.resources.files("shoebox") / "data" / "samples"


def cli(*args: str) -> str:
    from shoebox.cli.main import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


def app_():
    from shoebox.cli.main import app

    return app


def cli_json(*args: str):
    return json.loads(cli(*args, "--json"))


def ingest(service, items: dict[str, bytes]) -> tuple[dict, dict[str, bytes]]:
    """Upload each (key → bytes) through S3 → EventBridge → the process-photo state machine of the local
    service the CLI talks to, one at a time (so which photo introduces a person is deterministic).
    Returns the records and the cover crops."""
    rt = service.runtime
    for key, data in items.items():
        arn = rt.upload(data, key)
        assert rt.wait([arn])[arn] == "SUCCEEDED"
    catalog = Catalog(rt.table)
    listed = rt.s3.list_objects_v2(Bucket=rt.bucket, Prefix="thumbnails/people/").get("Contents", [])
    crops = {o["Key"]: rt.s3.get_object(Bucket=rt.bucket, Key=o["Key"])["Body"].read() for o in listed}
    return {key: catalog.get_photo(key) for key in items}, crops


def keys_of(rows: list[dict]) -> list[str]:
    return [r["key"] for r in rows]


def assert_page_shows(folder, people: list[dict], commands: list[str]) -> None:
    """The page in ``folder`` shows each person's cover crop and sample thumbnails from files beside it
    (images that open), and spells out ``commands``."""
    import html
    import re

    from PIL import Image

    page = (folder / "index.html").read_text()
    images = re.findall(r'<img class="(\w+)" src="([^"]+)"', page)
    for kind, name in images:
        Image.open(folder / html.unescape(name)).verify()
    for person in people:
        # the person's first card: its id is the person id, on the suggestions page after a pair prefix
        card = page[re.search(rf'id="(pair-\d+-)?{re.escape(person["id"])}"', page).start():].split("</section>", 1)[0]
        srcs = re.findall(r'<img class="(\w+)" src="([^"]+)"', card)
        assert [kind for kind, _ in srcs] == ["cover"] + ["sample"] * len(person["samples"]), card
        assert Image.open(folder / srcs[0][1]).size == (160, 160)
    for command in commands:
        assert html.escape(command) in page, command


def test_name_then_show_and_search_and_reindex(home, service_factory):
    """The bundled astronaut (public domain, one face) at two keys, plus a photo without a face."""
    svc = service_factory("local")
    a1, a2 = "originals/2007/05/02/astronaut.jpg", "originals/2008/01/01/astronaut-again.jpg"
    face = (SAMPLES / "astronaut.jpg").read_bytes()
    records, crops = ingest(svc, {a1: face, a2: face,
                                   "originals/2020/01/01/coffee.jpg": (SAMPLES / "coffee.jpg").read_bytes()})
    (pid,) = records[a1].people
    assert records[a2].people == [pid]
    newest_first = sorted([a1, a2], key=lambda k: time_sk(records[k].taken_at, k), reverse=True)

    (person,) = cli_json("people")
    assert person == {"id": pid, "name": None, "faces": 2, "photos": 2, "cover": f"thumbnails/people/{pid}.jpg",
                      "samples": newest_first, "aliases": [], "hidden": False}
    assert list(crops) == [person["cover"]]
    from PIL import Image

    assert Image.open(io.BytesIO(crops[person["cover"]])).size == (160, 160)

    assert cli_json("people", "name", pid, "Eileen Collins")["name"] == "Eileen Collins"
    assert keys_of(cli_json("people", "show", "eileen collins")) == newest_first

    # re-process both photos (same bytes again → a new execution each, new face ids): same person, named
    again, _ = ingest(svc, {a1: face, a2: face})
    assert again[a1].people == [pid] and again[a1].faces[0]["face_id"] != records[a1].faces[0]["face_id"]
    assert "Eileen Collins" in cli("people")  # the human table
    assert keys_of(cli_json("people", "show", "Eileen Collins")) == newest_first
    assert sorted(keys_of(cli_json("search", "Eileen Collins"))) == sorted([a1, a2])

    # hidden: gone from the list (and its page), still listed by --all and found by name; then back
    assert [p["hidden"] for p in cli_json("people", "hide", "Eileen Collins")] == [True]
    assert cli_json("people") == [] and "Eileen Collins" not in cli("people")
    assert [(p["id"], p["hidden"]) for p in cli_json("people", "--all")] == [(pid, True)]
    assert sorted(keys_of(cli_json("search", "Eileen Collins"))) == sorted([a1, a2])
    cli("people", "unhide", pid)
    failed = CliRunner().invoke(app_(), ["people", "hide", pid, "nobody"])  # one unknown: nothing changes
    assert failed.exit_code == 1 and "nobody" in failed.output and [p["id"] for p in cli_json("people")] == [pid]
    assert [p["id"] for p in cli_json("people", "--limit", "1")] == [pid]

    from shoebox.cli.main import app

    missing = CliRunner().invoke(app, ["people", "show", "Nobody"])
    assert missing.exit_code == 1 and "no person" in missing.output


def two_people_with_two_solo_photos(faces_dir, people=("barack_obama", "jason_statham")) -> list[tuple[str, list[str]]]:
    """From the face set's truth file: two people who each have ≥ 2 photos showing only them (people the
    recognizer groups reliably: this test is about names and merges, not about grouping)."""
    truth = json.loads((faces_dir / "truth.json").read_text())
    solo: dict[str, list[str]] = {}
    for name, entries in sorted(truth.items()):
        if name != "_" and len(entries) == 1:
            solo.setdefault(entries[0]["person"], []).append(name)
    chosen = [(person, solo[person][:2]) for person in people if len(solo.get(person, [])) >= 2]
    if len(chosen) < 2:
        pytest.skip("the face set has fewer than two people with two photos each")
    return chosen


def test_real_people_named_merged_and_reindexed(home, real_faces, service_factory):
    svc = service_factory("local")
    FACES = real_faces  # fetched from pinned PyPI sdists on first use (tests/conftest.py)
    (name_a, files_a), (name_b, files_b) = two_people_with_two_solo_photos(FACES)
    files = files_a + files_b
    keys = {f: f"originals/20{10 + i}/01/01/{f}" for i, f in enumerate(files)}
    records, _ = ingest(svc, {keys[f]: (FACES / f).read_bytes() for f in files})

    def newest_first(*names):
        return sorted((keys[n] for n in names), key=lambda k: time_sk(records[k].taken_at, k), reverse=True)

    (a,) = set(p for f in files_a for p in records[keys[f]].people)  # the recognizer grouped each person once
    (b,) = set(p for f in files_b for p in records[keys[f]].people)
    assert a != b
    a_photos, everything = newest_first(*files_a), newest_first(*files)

    by_id = {p["id"]: p for p in cli_json("people")}
    assert (by_id[a]["photos"], by_id[b]["photos"]) == (2, 2)
    cli("people", "name", a, "Natalie Wood")
    assert keys_of(cli_json("people", "show", "natalie wood")) == a_photos

    # merge (by name and by id): the other group's photos are found under Natalie Wood, whose name wins
    cli("people", "name", b, "Nat")
    merged = cli_json("people", "merge", "Natalie Wood", b)
    assert (merged["id"], merged["name"], merged["aliases"], merged["photos"]) == (a, "Natalie Wood", [b], 4)
    assert keys_of(cli_json("people", "show", "Nat")) == everything

    # re-index one photo of each group: the name and the merge hold
    again, _ = ingest(svc, {keys[f]: (FACES / f).read_bytes() for f in (files_a[0], files_b[0])})
    assert again[keys[files_a[0]]].people == [a] and again[keys[files_b[0]]].people == [b]
    mine = [p for p in cli_json("people") if a in (p["id"], *p["aliases"]) or b in (p["id"], *p["aliases"])]
    assert [(p["id"], p["name"], p["aliases"], p["photos"]) for p in mine] == [(a, "Natalie Wood", [b], 4)]
    assert keys_of(cli_json("people", "show", b)) == everything
    found = cli_json("search", "Natalie Wood")
    assert sorted(keys_of(found)) == sorted(everything)
    # every list shows the merged group's photos as hers: her id and her name, not the id they were filed under
    for rows in (found, cli_json("people", "show", b), cli_json("rediscover", "--limit", "50"),
                 cli_json("on-this-day", "--date", "2030-01-01")):
        mine = [r for r in rows if r["key"] in everything]
        assert mine and all((r["people"], r["names"]) == ([a], ["Natalie Wood"]) for r in mine), rows
    table = cli("search", "Natalie Wood")
    assert table.count("Natalie Wood") >= 1 + len(everything) and b not in table

    back = cli_json("people", "unmerge", b)
    assert (back["id"], back["name"], back["photos"]) == (b, "Nat", 2)


def test_a_named_person_split_by_age_is_mended_by_the_recognizer(home, real_faces, service_factory):
    """Jesper (kphotoalbum's demo album) at 18 and at 35: the first photos make two groups; the user names
    the adult one; a later photo bridges them, the recognizer merges the groups, and the catalog folds
    them under the name, so `search Jesper` finds his photos from both ages."""
    svc = service_factory("local")
    young = {"originals/1989/01/01/album_new_wave_1.jpg": "album_new_wave_1.jpg"}
    adult = {"originals/2005/12/21/album_jesper_2.jpg": "album_jesper_2.jpg"}
    later = {"originals/2006/02/10/album_bar55_2.jpg": "album_bar55_2.jpg"}
    truth = json.loads((real_faces / "truth.json").read_text())

    def load(batch):
        return {key: (real_faces / name).read_bytes() for key, name in batch.items()}

    records, _ = ingest(svc, {**load(young), **load(adult)})
    (young_id,) = set(records[next(iter(young))].people)
    (adult_id,) = records[next(iter(adult))].people
    assert young_id != adult_id  # two groups so far
    # …which `people suggest` offers as maybe one person (the human table names the commands to answer)
    (pair,) = cli_json("people", "suggest")
    assert {pair["a"]["id"], pair["b"]["id"]} == {young_id, adult_id} and 0.30 <= pair["similarity"] < 0.45
    assert "people merge A B" in cli("people", "suggest")
    # …and shows them side by side on a page, with both answers spelled out
    cli("people", "suggest", "--page", str(home / "suggest-page"))
    assert_page_shows(home / "suggest-page", [pair["a"], pair["b"]],
                      [f"shoebox people merge {pair['a']['id']} {pair['b']['id']}",
                       f"shoebox people apart {pair['a']['id']} {pair['b']['id']}"])
    cli("people", "name", adult_id, "Jesper")
    listed = cli_json("people", "--page", str(home / "people-page"))
    assert_page_shows(home / "people-page", listed, [f"shoebox people name {adult_id} Jesper"])

    records, _ = ingest(svc, load(later))
    (bar,) = later
    assert {f["person"] for f in truth[later[bar]]} == {"anne_helene", "jesper"}
    jesper = cli_json("people", "show", "Jesper")
    keys = {r["key"] for r in jesper}
    assert keys == {*young, *adult, bar}, keys
    person = next(p for p in cli_json("people") if p["name"] == "Jesper")
    assert person["id"] == adult_id and young_id in person["aliases"]  # the named group stays canonical
    assert {r["key"] for r in cli_json("search", "Jesper")} == keys

    # more photos of him arrive while the groups are merged: filed under the merged group
    more = {"originals/1989/02/01/album_new_wave_2.jpg": "album_new_wave_2.jpg",
            "originals/2002/03/01/album_pool_2.jpg": "album_pool_2.jpg"}
    records, _ = ingest(svc, load(more))
    assert adult_id in records["originals/1989/02/01/album_new_wave_2.jpg"].people

    # the user disagrees: unmerge. The catalog and the local recognizer's index both split them again
    back = cli_json("people", "unmerge", young_id)
    shown = {r["key"] for r in cli_json("people", "show", "Jesper")}
    assert back["id"] == young_id and set(adult) <= shown and not shown & set(young)
    from shoebox.recognition.local.index import FaceIndex

    index = FaceIndex(home / "faces")
    with index._locked(exclusive=False):
        assert index.canonical(young_id) != index.canonical(adult_id)
    # the faces that came in while merged were decided again, in the index and in the catalog alike
    in_index = {f.face_id: f.person_id for f in index.faces()}
    catalog = Catalog(svc.runtime.table)
    records = {key: catalog.get_photo(key) for key in [*young, *adult, *later, *more]}
    filed = {f["face_id"]: f["person_id"] for r in records.values() for f in r.faces}
    assert filed == {fid: in_index[fid] for fid in filed}
    # the young photo that came in while merged is his young self's again, everywhere the user looks
    wave_2 = "originals/1989/02/01/album_new_wave_2.jpg"
    assert young_id in records[wave_2].people and adult_id not in records[wave_2].people
    assert {r["key"] for r in cli_json("search", "Jesper")} == {*adult, bar, "originals/2002/03/01/album_pool_2.jpg"}
    assert {r["key"] for r in cli_json("people", "show", young_id)} == {*young, wave_2}
    assert next(p for p in cli_json("people") if p["id"] == young_id)["faces"] == 2
