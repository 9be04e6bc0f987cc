"""Real photos through the real workflow (local runtime, offline recognizer), then English queries, the
CLI's search / on-this-day / rediscover: exactly the expected keys, and no DynamoDB Scan anywhere."""

from __future__ import annotations

import json
from datetime import date, datetime

from typer.testing import CliRunner

from shoebox.samples import BUNDLED, photo_bytes

TODAY = date(2024, 6, 21)
CAT = "originals/2009/06/21/chelsea_cat.jpg"        # Paris, 2009-06-21 (EXIF)
COFFEE = "originals/2012/03/11/coffee.jpg"          # Rome, 2012-03-11
ASTRONAUT = "originals/2007/05/02/astronaut.jpg"    # Cape Canaveral area, 2007, one face
ROCKET = "originals/2007/08/08/rocket.jpg"          # Cape Canaveral area, 2007
PARIS_2006 = "originals/2006/10/04/IMG_0001.JPG"    # generated: Paris, 2006-10-04
ROME_JUNE = "originals/2011/06/21/IMG_0002.JPG"     # generated: Rome, 2011-06-21


def test_ingest_then_search(home, no_scan, service_factory):
    from shoebox.catalog import Catalog
    from shoebox.cli.main import app
    from shoebox.local import LocalRuntime
    from shoebox.search.execute import Searcher, on_this_day

    uploads = {
        CAT: (BUNDLED / "chelsea_cat.jpg").read_bytes(),
        COFFEE: (BUNDLED / "coffee.jpg").read_bytes(),
        ASTRONAUT: (BUNDLED / "astronaut.jpg").read_bytes(),
        ROCKET: (BUNDLED / "rocket.jpg").read_bytes(),
        PARIS_2006: photo_bytes(datetime(2006, 10, 4, 14, 3), (48.8584, 2.2945), size=(640, 480), seed=1),
        ROME_JUNE: photo_bytes(datetime(2011, 6, 21, 10, 0), (41.8902, 12.4922), size=(640, 480), seed=2),
    }
    with LocalRuntime(home, recognizer="local", retry_sleep_scale=0) as rt:
        arns = [rt.upload(data, key) for key, data in uploads.items()]
        assert set(rt.wait(arns).values()) == {"SUCCEEDED"}
        catalog = Catalog(rt.table)
        astronaut = catalog.get_photo(ASTRONAUT)
        (pid,) = astronaut.people  # the offline recognizer's person id for the one face
        # the same person on a Paris photo of 2006, written the way the persist step writes
        paris = catalog.get_photo(PARIS_2006)
        paris.faces = [{"face_id": "f-manual", "bbox": {}, "confidence": 99.0, "person_id": pid}]
        catalog.put_photo(paris)
        assert catalog.get_photo(CAT).place["city"] == "Paris"

        searcher = Searcher(catalog)

        def keys(text):
            result = searcher.search(text, today=TODAY)
            assert not result.unknown, result.explain()
            return [r["key"] for r in result.rows]

        assert keys(f"photos of {pid} from 2007") == [ASTRONAUT]              # person + year
        assert keys(f"{pid}") == [ASTRONAUT, PARIS_2006]                    # newest first
        assert keys(f"{pid} in Paris") == [PARIS_2006]                       # person + place
        assert keys("cat in Paris") == [CAT]                                 # label + place
        assert keys("cats in France in 2009") == [CAT]
        assert keys("coffee in Italy") == [COFFEE]
        assert keys("coffee in France") == []
        assert keys("photos from Rome") == [COFFEE, ROME_JUNE]
        assert keys("photos from 2007") == [ROCKET, ASTRONAUT]
        assert keys("rocket in Florida") == [ROCKET]
        assert keys("on this day") == [ROME_JUNE, CAT]                       # 06-21, any year
        assert [r["key"] for r in on_this_day(catalog, date(2024, 3, 11)).rows] == [COFFEE]

    service_factory("local")  # the CLI's endpoint: it restores what the runtime above wrote
    runner = CliRunner()

    def cli_json(*args):
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    rows = cli_json("search", "cat in Paris", "--json", "--explain", "--today", TODAY.isoformat())
    assert [r["key"] for r in rows] == [CAT]
    assert set(rows[0]) == {"key", "taken_at", "labels", "people", "names", "place", "thumbnail"}
    assert [r["key"] for r in cli_json("search", "photos from Rome", "--json", "--limit", "1", "--offset", "1")] == [ROME_JUNE]
    assert [r["key"] for r in cli_json("on-this-day", "--date", "2020-06-21", "--json")] == [ROME_JUNE, CAT]
    never = [r["key"] for r in cli_json("rediscover", "--json", "--limit", "6")]
    assert never == [PARIS_2006, ASTRONAUT, ROCKET, CAT, ROME_JUNE, COFFEE]    # never viewed: oldest first
    assert runner.invoke(app, ["show", PARIS_2006, "--json"]).exit_code == 0  # marks a view
    assert [r["key"] for r in cli_json("rediscover", "--json", "--limit", "6")][-1] == PARIS_2006
    result = runner.invoke(app, ["search", "xyzzy cats", "--json"])
    assert result.exit_code == 0 and "xyzzy" in result.stderr and json.loads(result.stdout)[0]["key"] == CAT
    assert "Query" in no_scan and "Scan" not in no_scan
