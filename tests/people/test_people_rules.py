"""The people rules on plain rows: no DynamoDB, no moto."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shoebox.catalog import people_rules as rules
from shoebox.models import PhotoRecord


def row(pid: str, name: str | None = None, merged_into: str | None = None, faces: int = 1, photos: int = 1,
        kept_apart: set[str] | None = None, hidden: bool = False, name_from: str | None = None) -> dict:
    return {"id": pid, "name": name, "face_count": faces, "photo_count": photos, "cover": None, "samples": [],
            "merged_into": merged_into, "name_from": name_from, "hidden": hidden, "kept_apart": kept_apart or set()}


def rows(*items: dict) -> dict[str, dict]:
    return {r["id"]: r for r in items}


def test_merges_are_followed_to_the_canonical_person_and_a_raced_cycle_has_one_head():
    r = rows(row("a"), row("b", merged_into="a"), row("c", merged_into="b"))
    assert [rules.canonical(r, pid) for pid in "abc"] == ["a", "a", "a"]
    assert rules.group(r, "a") == ["a", "b", "c"] and rules.groups(r) == {"a": ["a", "b", "c"]}
    looped = rows(row("x", merged_into="y"), row("y", merged_into="x"))
    assert rules.canonical(looped, "y") == "x" and rules.cycle_head(looped, "y") == "x"
    assert rules.cycle_head(r, "c") is None


def test_a_group_goes_by_its_own_name_else_the_lender_else_the_first_named_alias():
    r = rows(row("a"), row("b", "Bea", merged_into="a"), row("c", "Cy", merged_into="a"))
    assert rules.group_name(r, "a") == "Bea"
    r["a"]["name_from"] = "c"
    assert rules.group_name(r, "a") == "Cy"
    r["a"]["name"] = "Ann"
    assert rules.group_name(r, "a") == "Ann"
    assert rules.names(r) == {"ann": "a", "bea": "a", "cy": "a"}
    assert rules.lookup(r, "  BEA ") == "a" and rules.lookup(r, "c") == "a" and rules.lookup(r, "nobody") is None


def test_renaming_drops_the_old_and_the_new_name_from_aliases_only():
    r = rows(row("a", "Ann"), row("b", "Ann", merged_into="a"), row("c", "Cy", merged_into="a"),
             row("d", "Dee", merged_into="a"))
    assert rules.names_to_drop(r, rules.group(r, "a"), old="Ann", new="Dee") == ["b", "d"]


def test_merge_takes_each_other_canonical_person_once_and_an_unnamed_target_borrows_a_name():
    assert rules.others_to_merge("a", ["b", "a", "c", "b"]) == ["b", "c"]
    r = rows(row("a"), row("b"), row("c", "Cy"))
    assert rules.merge_lender(r, "a", ["b", "c"]) == "c"
    assert rules.merge_lender(rows(row("a"), row("b")), "a", ["b"]) is None


def test_the_recognizer_merges_unless_the_user_named_them_apart_or_kept_them_apart():
    assert rules.absorb_decision("Ann", "Bea", apart=False) == "separate"
    assert rules.absorb_decision("Ann", "ann", apart=True) == "keep"
    assert rules.absorb_decision(None, "Bea", apart=False) == "merge-into-b"
    assert rules.absorb_decision("Ann", None, apart=False) == "merge-into-a"
    r = rows(row("a", kept_apart={"c"}), row("b", merged_into="a"), row("c"), row("d"))
    assert rules.kept_apart(r, rules.group(r, "c"), ["a", "b"]) and not rules.kept_apart(r, ["b"], ["d"])


def test_a_person_sums_its_group_and_the_list_puts_the_most_photographed_first():
    r = rows(row("a", faces=2, photos=2), row("b", "Bea", merged_into="a", faces=3, photos=1),
             row("c", "Cy", faces=1, photos=1), row("e", faces=0, photos=0), row("h", faces=5, photos=5, hidden=True))
    p = rules.person(r, "a")
    assert (p.name, p.faces, p.photos, p.aliases) == ("Bea", 5, 3, ["b"])
    assert [x.id for x in rules.listed(r, include_empty=False, include_hidden=False)] == ["a", "c"]
    assert [x.id for x in rules.listed(r, include_empty=True, include_hidden=True)] == ["h", "a", "c", "e"]
    refs = rules.person_refs(rules.listed(r, True, True))
    assert [ref.label for ref in rules.canonical_people(["b", "a", "z"], refs)] == ["Bea", "z"]


def test_count_deltas_between_a_photos_old_and_new_faces():
    old = [("a", "s1"), ("a", "s2"), ("b", "s3")]
    new = [("a", "s1"), ("c", "s4")]
    assert rules.deltas(old, new) == ({"a": -1, "b": -1, "c": 1}, {"a": 0, "b": -1, "c": 1})
    assert rules.deltas(new, new) == ({"a": 0, "c": 0}, {"a": 0, "c": 0})


@dataclass
class Match:
    a: str
    b: str
    similarity: float


def test_suggested_pairs_fold_onto_canonical_people_once_with_their_best_similarity():
    r = rows(row("a"), row("b", merged_into="a"), row("c"))
    pairs = rules.best_pairs(r, [Match("b", "c", 0.5), Match("c", "a", 0.7), Match("a", "b", 0.9),
                                 Match("a", "unknown", 0.99)])
    assert pairs == [(("a", "c"), 0.7)]


def test_refile_and_the_cover_a_photo_gives():
    record = PhotoRecord(key="k", status="processed", faces=[
        {"face_id": "f1", "person_id": "a", "aliases": ["x"], "bbox": {"width": 0.1, "height": 0.1}},
        {"face_id": "f2", "person_id": "b", "bbox": {"width": 0.3, "height": 0.3}}])
    assert rules.faces_filed(record, lambda rec, face: face["face_id"])[1][:2] == ("b", "f2")
    assert rules.refile(record, {"f1": "c"}) and record.faces[0] == {
        "face_id": "f1", "person_id": "c", "bbox": {"width": 0.1, "height": 0.1}}
    assert not rules.refile(record, {"f1": "c"})
    here = [("s1", record.faces[0]), ("s2", record.faces[1])]
    assert rules.cover_change(None, "k", "view.jpg", here) == ("make", record.faces[1])
    same = {"key": "k", "face_id": "old", "bbox": record.faces[1]["bbox"]}
    assert rules.cover_change(same, "k", "view.jpg", here) == ("reid", {**same, "face_id": "f2"})
    assert rules.cover_change(same, "k", "view.jpg", []) == ("replace", None)
    assert rules.cover_change(same, "other", "view.jpg", []) == ("keep", None)


def test_a_failed_cover_waits_for_a_newer_face_another_view_or_its_retry_time():
    now = datetime(2026, 1, 10, tzinfo=timezone.utc)
    newest = {"face_id": "f1", "view": "thumbnails/a.jpg", "key": "originals/a.jpg"}
    failed = rules.cover_failure(newest, (now - timedelta(hours=1)).isoformat())
    assert rules.cover_worth_trying(None, newest, now)
    assert not rules.cover_worth_trying(failed, newest, now)
    assert rules.cover_worth_trying(failed, {**newest, "face_id": "f2"}, now)
    assert rules.cover_worth_trying(failed, {**newest, "view": "thumbnails/b.jpg"}, now)
    assert not rules.cover_worth_trying(failed, newest, now - timedelta(hours=1) + rules.COVER_RETRY_AFTER / 2)
    assert rules.cover_worth_trying(failed, newest, now - timedelta(hours=1) + rules.COVER_RETRY_AFTER)
    assert rules.cover_worth_trying({**failed, "at": "garbled"}, newest, now)
