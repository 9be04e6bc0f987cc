"""The gallery's pure parts: run graphs, suggestions, meaning chips, cursors."""

from __future__ import annotations

import pytest

from shoebox.catalog.people_rules import PersonRef
from shoebox.gallery import runs, timeline, words

ASL = {"StartAt": "A", "States": {
    "A": {"Type": "Task", "Next": "B", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]},
    "B": {"Type": "Choice", "Choices": [{"Next": "C"}], "Default": "Done"},
    "C": {"Type": "Parallel", "Branches": [{"StartAt": "C1", "States": {"C1": {"Type": "Pass", "End": True}}}],
          "Next": "Done"},
    "Done": {"Type": "Succeed"}, "Failed": {"Type": "Fail"}, "Orphan": {"Type": "Pass", "End": True}}}


def test_run_graph_marks_the_path_taken_with_durations_retries_and_errors():
    visited = [{"name": "A", "status": "failed", "duration_ms": 30, "retries": 2, "error": "ImageError: truncated"},
               {"name": "Failed", "status": "failed", "duration_ms": 1, "retries": 0, "error": None}]
    graph = {n["name"]: n for n in runs.run_graph(ASL, visited)}
    assert list(graph) == ["A", "B", "Failed", "C", "C1", "Done", "Orphan"]  # from StartAt, branches nested
    assert graph["A"]["step"] == 1 and graph["A"]["retries"] == 2 and graph["A"]["error"] == "ImageError: truncated"
    assert graph["Failed"]["step"] == 2 and graph["B"]["status"] == "not-run" and graph["C1"]["depth"] == 1
    assert graph["A"]["next"] == ["B", "Failed"]
    url = runs.console_url("arn:aws:states:eu-west-1:123:execution:sm:run-1")
    assert url.startswith("https://eu-west-1.console.aws.amazon.com/states/") and url.endswith("sm:run-1")


def test_suggestions_come_from_the_vocabulary_named_people_only():
    counts = {"PERSON#p-1": {"n": 5}, "PERSON#p-2": {"n": 9}, "LABEL#Cat": {"n": 3, "name": "Cat"},
              "LABEL#Car": {"n": 7, "name": "Car"}, "PLACE#US/New York/New York City": {"n": 2},
              "PLACE#US": {"n": 2}, "PERSON#p-1&LABEL#Cat": {"n": 2}}
    found = words.vocabulary_words(counts, {"p-1": PersonRef("p-1", "Carla"), "p-2": PersonRef("p-2")})
    assert [(w.text, w.kind) for w in found] == [("Car", "label"), ("Carla", "person"), ("Cat", "label"),
                                                 ("New York City", "place")]
    assert [s["query"] for s in words.suggest("dogs and ca", found)] == ["dogs and Car", "dogs and Carla",
                                                                         "dogs and Cat"]
    assert [s["query"] for s in words.suggest("in new yo", found)] == ["in New York City"]
    assert words.suggest("cat ", found) == [] and words.suggest("", found) == []


def test_meaning_names_people_and_keeps_what_was_not_understood():
    from datetime import date

    from shoebox.search.query import Vocabulary, parse

    parsed = parse("p-1 with a cat in 2007 zzyzx", today=date(2024, 1, 1),
                   vocab=Vocabulary(people={"p-1": "p-1"}, labels=["Cat"], resolve_place=None))
    chips = words.meaning(parsed, {"p-1": PersonRef("p-1", "Natalie")})
    assert [c["text"] for c in chips if c["kind"] != "unknown"] == ["Natalie", "Cat", "in 2007"]
    assert {"kind": "unknown", "text": "zzyzx"} in chips


def test_cursor_round_trips_and_refuses_anything_else():
    cursor = timeline.Cursor("YEAR#2007", {"pk": {"S": "YEAR#2007"}, "sk": {"S": "2007-01-01#k"}}, "2007-05\uffff")
    assert timeline.Cursor.decode(cursor.encode()) == cursor
    for bad in ("", "xyz", timeline.Cursor("PHOTO#x").encode()):
        with pytest.raises(ValueError):
            timeline.Cursor.decode(bad)
    years = ["YEAR#2021", "YEAR#2019", "YEAR#unknown"]
    assert timeline.start_cursor(years, "2020-05") == timeline.Cursor("YEAR#2019")
    assert timeline.start_cursor(years, "2021-05").hi == "2021-05\uffff"
    assert timeline.start_cursor(years, "undated") == timeline.Cursor("YEAR#unknown")


def test_a_stale_vocabulary_is_read_again_in_the_background_and_a_write_makes_it_fresh(monkeypatch):
    import threading
    import time
    from types import SimpleNamespace

    from shoebox.gallery import app as gallery_app

    loads = []
    release = threading.Event()

    class FakeSearcher:
        def __init__(self, catalog):
            self.n = len(loads)
            loads.append(self)
            if self.n == 2:  # the background reload waits until the test lets it finish
                release.wait(5)
            self.vocabulary = SimpleNamespace(n=self.n)

    monkeypatch.setattr("shoebox.search.execute.Searcher", FakeSearcher)
    backend = SimpleNamespace(endpoint=None, catalog=object())
    gallery = gallery_app.Gallery(backend, vocabulary_ttl=0.05)
    assert gallery.vocabulary().n == 1  # (0 is the constructor's, never read) the first read, before answering
    time.sleep(0.06)
    began = time.monotonic()
    assert gallery.vocabulary().n == 1 and gallery.vocabulary().n == 1  # stale: served at once, one reload
    assert time.monotonic() - began < 1 and len(loads) == 3
    release.set()
    deadline = time.monotonic() + 5
    while gallery.vocabulary().n != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gallery.vocabulary().n == 2
    gallery.changed()
    assert gallery.vocabulary().n == 3  # after a write: read before answering
