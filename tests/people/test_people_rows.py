"""Person rows against moto: counts, face rows, samples, covers, names, merges, idempotency."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from shoebox.catalog.covers import CROP_SIZE, crop_key, make_crop
from shoebox.catalog.people import People, names, resolve
from shoebox.catalog.people_rules import NameTaken, PeopleError, PersonNotFound, PersonRef, canonical_people, refile

from people_helpers import BOX, BOX2, view_with_box

K1, K2, K3 = (f"originals/2020/0{i}/01/IMG_{i}.jpg" for i in (1, 2, 3))


def one(people: People, ref: str):
    return people.get(ref).to_json()


def test_first_appearance_creates_row_counts_samples_and_a_cover_crop(photos, stack):
    photos.persist(K1, [("p-a", BOX), ("p-b", BOX2)], taken_at="2020-01-01T10:00:00")
    photos.persist(K2, [("p-a", BOX)], taken_at="2021-06-01T10:00:00")
    listed = [p.to_json() for p in photos.people.list_people()]
    assert [p["id"] for p in listed] == ["p-a", "p-b"]  # most photographed first
    a = listed[0]
    assert (a["faces"], a["photos"], a["name"]) == (2, 2, None)
    assert a["samples"] == [K2, K1]  # newest first
    assert a["cover"] == crop_key("p-a") == "thumbnails/people/p-a.jpg"
    crop = stack.s3.get_object(Bucket=stack.bucket, Key=a["cover"])["Body"].read()
    image = Image.open(io.BytesIO(crop))
    assert image.format == "JPEG" and image.size == (CROP_SIZE, CROP_SIZE)
    # the cover came from the first photo the person appeared in, and is cut around the face (red box)
    assert photos.people.get("p-a").cover["key"] == K1
    r, g, b = image.convert("RGB").getpixel((CROP_SIZE // 2, CROP_SIZE // 2))
    assert r > 200 and b < 60
    keys = [o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="thumbnails/people/")["Contents"]]
    assert sorted(keys) == ["thumbnails/people/p-a.jpg", "thumbnails/people/p-b.jpg"]
    assert not stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="originals/").get("Contents")
    # faces of a person: one Query on FACES#<id>
    assert [f["key"] for f in photos.people.faces_of("p-a")] == [K2, K1]


def test_reprocessing_the_same_photo_is_idempotent(photos):
    photos.persist(K1, [("p-a", BOX), ("p-b", BOX2)])
    before = [p.to_json() for p in photos.people.list_people()]
    for _ in range(3):  # re-index: new face ids, same people (what both recognizers do)
        photos.persist(K1, [("p-a", BOX), ("p-b", BOX2)])
    assert [p.to_json() for p in photos.people.list_people()] == before
    assert len(photos.raw_rows("FACES#p-a")) == 1 and len(photos.raw_rows("FACES#p-b")) == 1


def test_a_face_that_moves_to_another_person_moves_counts_and_cover(photos, stack):
    photos.persist(K1, [("p-a", BOX)])
    photos.persist(K1, [("p-b", BOX)])  # re-processed: the recognizer now says p-b
    assert photos.people.list_people(include_empty=True)[0].id == "p-b"
    a = photos.people.get("p-a")
    assert (a.faces, a.photos, a.cover, a.samples) == (0, 0, None, [])
    assert [p.id for p in photos.people.list_people()] == ["p-b"]  # empty people are not listed
    assert photos.raw_rows("FACES#p-a") == []
    listed = stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="thumbnails/people/")["Contents"]
    assert [o["Key"] for o in listed] == ["thumbnails/people/p-b.jpg"]


def test_cover_moves_to_another_photo_when_its_photo_loses_the_person(photos):
    photos.persist(K1, [("p-a", BOX)], taken_at="2020-01-01T10:00:00")
    photos.persist(K2, [("p-a", BOX2)], taken_at="2020-02-01T10:00:00")
    assert photos.people.get("p-a").cover["key"] == K1
    photos.persist(K1, [])  # re-processed, no face found this time
    a = photos.people.get("p-a")
    assert (a.faces, a.photos, a.samples) == (1, 1, [K2])
    assert a.cover["key"] == K2 and a.cover["bbox"] == BOX2


def test_failed_and_removed_photos_take_their_faces_away(photos):
    photos.persist(K1, [("p-a", BOX)])
    photos.persist(K2, [("p-a", BOX)])
    photos.persist(K1, [("p-a", BOX)], status="failed")
    assert (photos.people.get("p-a").faces, photos.people.get("p-a").photos) == (1, 1)
    photos.people.forget_photo(K2)
    assert photos.people.list_people() == []
    photos.persist(K1, [("p-a", BOX)])  # processed again later: back, counted once
    assert (photos.people.get("p-a").faces, photos.people.get("p-a").photos) == (1, 1)


def test_two_faces_of_one_person_in_a_photo_count_two_faces_one_photo(photos):
    photos.persist(K1, [("p-a", BOX), ("p-a", BOX2)])
    a = photos.people.get("p-a")
    assert (a.faces, a.photos) == (2, 1)
    assert a.cover["bbox"] == BOX  # the larger face


def test_a_concurrent_run_of_the_same_photo_is_not_counted_twice(photos):
    """Between our read of the photo's contribution and our transaction, another run of the same photo
    commits: our transaction's version condition fails and we recompute against its write."""
    client = photos.catalog.client
    real_get = client.get_item
    raced = []

    def racing_get(**kwargs):
        item = real_get(**kwargs)
        if kwargs["Key"]["pk"]["S"].startswith("PHOTOFACES#") and not raced:
            raced.append(True)
            People(photos.catalog, s3=photos.rt.s3, bucket=photos.rt.bucket).record_photo(
                photos.record(K1, [("p-a", BOX)]))
        return item

    client.get_item = racing_get
    try:
        photos.persist(K1, [("p-a", BOX)])
    finally:
        del client.get_item
    assert raced
    a = photos.people.get("p-a")
    assert (a.faces, a.photos) == (1, 1)


def test_names_are_unique_case_insensitive_and_resolvable(photos):
    photos.persist(K1, [("p-a", BOX), ("p-b", BOX2)])
    assert photos.people.name_person("p-a", "  Natalie   Wood ").name == "Natalie Wood"
    assert names(photos.catalog) == {"natalie wood": "p-a"}
    assert resolve(photos.catalog, "NATALIE WOOD") == ["p-a"] == photos.people.resolve("p-a")
    assert photos.people.resolve("nobody") == []
    with pytest.raises(NameTaken, match="merge"):
        photos.people.name_person("p-b", "natalie wood")
    with pytest.raises(PersonNotFound):
        photos.people.name_person("p-zzz", "Zed")
    with pytest.raises(PeopleError):
        photos.people.name_person("p-b", "   ")
    photos.people.name_person("Natalie Wood", "Natalie")  # rename by current name
    assert photos.people.names() == {"natalie": "p-a"}


def test_merge_folds_photos_faces_and_counts_into_the_first(photos):
    photos.persist(K1, [("p-a", BOX)], taken_at="2020-01-01T10:00:00")
    photos.persist(K2, [("p-b", BOX)], taken_at="2020-02-01T10:00:00")
    photos.persist(K3, [("p-c", BOX)], taken_at="2020-03-01T10:00:00")
    photos.people.name_person("p-b", "Nat")
    merged = photos.people.merge(["p-a", "p-b"])
    # A was unnamed: the named one gives its name
    assert (merged.id, merged.name, merged.aliases, merged.faces, merged.photos) == ("p-a", "Nat", ["p-b"], 2, 2)
    assert merged.samples == [K2, K1]
    assert [r["key"] for r in photos.people.photos_of("Nat")] == [K2, K1]
    assert photos.people.resolve("p-b") == ["p-a", "p-b"]
    assert photos.people.names() == {"nat": "p-a"}
    assert [p.id for p in photos.people.list_people()] == ["p-a", "p-c"]
    # merging C into B (an alias) merges into B's canonical person; A's name wins over C's
    photos.people.name_person("p-c", "Natalie")
    merged = photos.people.merge(["p-b", "p-c"])
    assert (merged.id, merged.name, merged.aliases) == ("p-a", "Nat", ["p-b", "p-c"])
    assert photos.people.names() == {"nat": "p-a", "natalie": "p-a"}  # the merged-away name still finds her
    assert [r["key"] for r in photos.people.photos_of("natalie")] == [K3, K2, K1]
    # a later photo of a merged-away group lands under the canonical person
    photos.persist("originals/2020/04/01/IMG_4.jpg", [("p-c", BOX)], taken_at="2020-04-01T10:00:00")
    assert photos.people.get("p-a").photos == 4
    # merging into an alias's chain flattens pointers: D <- A makes B and C point at D directly
    photos.persist("originals/2020/05/01/IMG_5.jpg", [("p-d", BOX)], taken_at="2020-05-01T10:00:00")
    merged = photos.people.merge(["p-d", "Nat"])
    assert (merged.id, merged.name, sorted(merged.aliases)) == ("p-d", "Nat", ["p-a", "p-b", "p-c"])
    rows = photos.people._rows()
    assert {pid: rows[pid]["merged_into"] for pid in ("p-a", "p-b", "p-c")} == dict.fromkeys(("p-a", "p-b", "p-c"), "p-d")
    # a photo showing both groups of one merged person is listed once
    photos.persist("originals/2020/06/01/IMG_6.jpg", [("p-a", BOX), ("p-b", BOX2)], taken_at="2020-06-01T10:00:00")
    assert [r["key"] for r in photos.people.photos_of("p-b")].count("originals/2020/06/01/IMG_6.jpg") == 1
    # unmerge one group again
    back = photos.people.unmerge("p-c")
    assert (back.id, back.name, back.photos) == ("p-c", "Natalie", 2)  # its two photos, its own name
    assert photos.people.resolve("Nat") == ["p-d", "p-a", "p-b"]


def one_photo_each(photos, *person_ids: str) -> None:
    """A photo with one face for each person, IMG_1 for the first, IMG_2 for the next, …"""
    for i, pid in enumerate(person_ids, start=1):
        photos.persist(f"originals/2020/01/0{i}/IMG_{i}.jpg", [(pid, BOX)])


def listed(people: People) -> list[tuple]:
    return sorted((p.id, p.name, p.aliases) for p in people.list_people(include_empty=True))


def test_an_unmerge_never_leaves_two_people_with_one_name(photos):
    """A merge copies no name (each stays on the row it was given to): unmerged, a group takes its name
    along, through chains of merges too."""
    one_photo_each(photos, "p-a", "p-b", "p-c", "p-z")
    P = photos.people
    P.name_person("p-b", "Nat")
    assert P.merge(["p-a", "p-b"]).name == "Nat"  # the unnamed first person is called by the merged name
    assert P.unmerge("p-b").name == "Nat" and P.get("p-a").name is None
    assert P.names() == {"nat": "p-b"}
    # a chain: C named, C into B, B into A; either group leaving takes the name only if it has it
    P.name_person("p-c", "Carl")
    P.merge(["p-b", "p-c"])
    P.merge(["p-a", "p-b"])
    assert listed(P) == [("p-a", "Nat", ["p-b", "p-c"]), ("p-z", None, [])]
    P.unmerge("p-c")
    assert listed(P) == [("p-a", "Nat", ["p-b"]), ("p-c", "Carl", []), ("p-z", None, [])]
    P.merge(["p-a", "p-c"])
    P.unmerge("p-b")
    assert listed(P) == [("p-a", "Carl", ["p-c"]), ("p-b", "Nat", []), ("p-z", None, [])]
    # merged on into a third person, then the named group leaves: nobody else keeps its name
    P.merge(["p-z", "p-a"])
    assert P.get("p-z").name == "Carl"
    P.unmerge("p-c")
    assert listed(P) == [("p-b", "Nat", []), ("p-c", "Carl", []), ("p-z", None, ["p-a"])]
    assert P.names() == {"nat": "p-b", "carl": "p-c"}


def test_a_rename_after_a_merge_is_the_persons_own(photos):
    one_photo_each(photos, "p-a", "p-b")
    P = photos.people
    P.name_person("p-b", "Nat")
    P.merge(["p-a", "p-b"])
    assert P.name_person("p-a", "Natalie").name == "Natalie"
    assert P.names() == {"natalie": "p-a"}  # the old name no longer answers for her
    P.unmerge("p-b")
    assert (P.get("p-a").name, P.get("p-b").name) == ("Natalie", None)


def test_the_recognizer_never_merges_people_the_user_named_differently_whichever_row_holds_the_name(photos):
    """The names to compare are the groups' (on any of their rows), not the canonical rows' own."""
    one_photo_each(photos, "p-a", "p-b", "p-c", "p-d")
    P = photos.people
    P.name_person("p-b", "Bob")
    P.name_person("p-c", "Carl")
    P.name_person("p-d", "Dave")
    P.merge(["p-a", "p-b", "p-c"])
    P.unmerge("p-b")
    assert P.get("p-a").name == "Carl"  # by the merged-in C's name; A's own row has none
    assert P.absorb("p-d", ["p-a"]) == []
    assert listed(P) == [("p-a", "Carl", ["p-c"]), ("p-b", "Bob", []), ("p-d", "Dave", [])]
    # an unnamed group the recognizer finds to be Dave's is merged, and Dave keeps his id
    photos.persist("originals/2020/01/05/IMG_5.jpg", [("p-e", BOX)])
    assert P.absorb("p-e", ["p-d"]) == ["p-e"] and P.get("p-e").id == "p-d"


def test_the_first_persons_name_wins_also_when_it_is_a_merged_in_groups(photos):
    one_photo_each(photos, "p-a", "p-x", "p-c")
    P = photos.people
    P.name_person("p-x", "Xena")
    assert P.merge(["p-a", "p-x"]).name == "Xena"
    P.name_person("p-c", "Carl")
    assert P.merge(["p-a", "p-c"]).name == "Xena"  # not the merged-in name that sorts first
    P.unmerge("p-x")
    assert (P.get("p-a").name, P.get("p-x").name) == ("Carl", "Xena")  # Xena's name left with her group


def test_renaming_to_a_merged_in_groups_name_leaves_no_twin_after_an_unmerge(photos):
    one_photo_each(photos, "p-a", "p-b")
    P = photos.people
    P.name_person("p-a", "Ann")
    P.name_person("p-b", "Bob")
    P.merge(["p-a", "p-b"])
    P.name_person("p-a", "Bob")
    P.unmerge("p-b")
    assert listed(P) == [("p-a", "Bob", []), ("p-b", None, [])] and P.names() == {"bob": "p-a"}


def test_a_name_an_older_shoebox_copied_on_merge_leaves_with_its_group(photos):
    """Rows as merges left them before names stayed on their rows: the name copied onto the person."""
    one_photo_each(photos, "p-a", "p-b")
    P = photos.people
    P.name_person("p-b", "Nat")
    P.merge(["p-a", "p-b"])
    P._update("p-a", "SET #n = :n, name_lc = :lc", {":n": {"S": "Nat"}, ":lc": {"S": "nat"}}, {"#n": "name"})
    P.unmerge("p-b")
    assert listed(P) == [("p-a", None, []), ("p-b", "Nat", [])] and P.resolve("Nat") == ["p-b"]


def test_merges_that_raced_into_a_cycle_still_list_each_face_once(photos):
    one_photo_each(photos, "p-a", "p-b", "p-c", "p-d", "p-e")
    P = photos.people
    for pid, into in (("p-a", "p-b"), ("p-b", "p-a"), ("p-c", "p-d"), ("p-d", "p-e"), ("p-e", "p-c")):
        P._update(pid, "SET merged_into = :m", {":m": {"S": into}})
    assert listed(P) == [("p-a", None, ["p-b"]), ("p-c", None, ["p-d", "p-e"])]
    assert sum(p.faces for p in P.list_people()) == 5 and P.get("p-e").id == "p-c"


def test_a_cycle_left_by_racing_merges_is_broken_by_the_next_merge_or_unmerge_and_loses_no_name(photos):
    one_photo_each(photos, "p-a", "p-b", "p-c")
    P = photos.people
    P.name_person("p-a", "Ann")
    P.name_person("p-b", "Bob")
    P._update("p-a", "SET merged_into = :m", {":m": {"S": "p-b"}})
    P._update("p-b", "SET merged_into = :m", {":m": {"S": "p-a"}})
    assert listed(P) == [("p-a", "Ann", ["p-b"]), ("p-c", None, [])]
    P.unmerge("p-a")  # p-a is the person every read saw: now for real, with Bob merged in
    assert listed(P) == [("p-a", "Ann", ["p-b"]), ("p-c", None, [])] and P._rows()["p-a"]["merged_into"] is None
    P.unmerge("p-b")
    assert listed(P) == [("p-a", "Ann", []), ("p-b", "Bob", []), ("p-c", None, [])]
    # a merge breaks a cycle too, then merges
    P._update("p-a", "SET merged_into = :m", {":m": {"S": "p-b"}})
    P._update("p-b", "SET merged_into = :m", {":m": {"S": "p-a"}})
    assert P.merge(["p-c", "p-b"]).aliases == ["p-a", "p-b"]


def test_a_merge_into_someone_merged_away_meanwhile_is_refused_not_made_a_cycle(photos, monkeypatch):
    one_photo_each(photos, "p-a", "p-b")
    P = photos.people
    before = P._rows()
    P.merge(["p-b", "p-a"])  # one user merges A into B…
    monkeypatch.setattr(P, "_rows", lambda: before)  # …while another, who read before that, merges B into A
    with pytest.raises(PeopleError, match="merged by someone else meanwhile"):
        P.merge(["p-a", "p-b"])
    monkeypatch.undo()
    assert listed(P) == [("p-b", None, ["p-a"])]


def test_a_recognizer_merge_that_loses_a_race_is_skipped_not_a_failed_photo(photos, monkeypatch):
    from shoebox.catalog.people_rules import MergeRaced

    one_photo_each(photos, "p-a", "p-b")

    def raced(ids):
        raise MergeRaced("someone merged one of them meanwhile")

    monkeypatch.setattr(photos.people, "merge", raced)
    assert photos.people.absorb("p-a", ["p-b"]) == []  # the next photo of the person reports it again


def test_names_an_older_merge_copied_along_a_chain_leave_with_their_group(photos):
    one_photo_each(photos, "p-a", "p-b", "p-c")
    P = photos.people
    P.name_person("p-c", "Cy")
    P.merge(["p-b", "p-c"])
    P.merge(["p-a", "p-b"])
    for pid in ("p-a", "p-b"):  # as the old merge left them: copies all along the chain
        P._update(pid, "SET #n = :n, name_lc = :lc", {":n": {"S": "Cy"}, ":lc": {"S": "cy"}}, {"#n": "name"})
    P.unmerge("p-b")
    assert listed(P) == [("p-a", None, ["p-c"]), ("p-b", "Cy", [])] and P.names() == {"cy": "p-b"}


def test_a_name_cannot_be_a_person_id(photos):
    one_photo_each(photos, "p-a", "p-b")
    with pytest.raises(PeopleError, match="is a person id"):
        photos.people.name_person("p-a", "p-b")


def test_a_name_held_through_a_merged_in_group_says_whose_it_is(photos):
    one_photo_each(photos, "p-a", "p-b", "p-x")
    P = photos.people
    P.name_person("p-a", "Ann")
    P.name_person("p-b", "Bob")
    P.merge(["p-a", "p-b"])
    with pytest.raises(NameTaken, match=r"'Bob' is already p-a \(Ann, through merged-in p-b\)"):
        P.name_person("p-x", "Bob")


def test_a_photos_people_read_as_who_they_are_now(photos):
    """Photo rows keep the id a face was filed under; lists show the person it is now, named, once."""
    photos.persist(K1, [("p-a", BOX), ("p-b", BOX2)])
    photos.persist(K2, [("p-c", BOX)])
    photos.people.name_person("p-b", "Nat")
    photos.people.merge(["p-b", "p-a"])
    refs = photos.people.refs()
    assert refs == {"p-a": PersonRef("p-b", "Nat"), "p-b": PersonRef("p-b", "Nat"), "p-c": PersonRef("p-c")}
    # both groups of one person on a photo: once, under the canonical id; an id with no row stands for itself
    assert canonical_people(["p-a", "p-b", "p-x", "p-c"], refs) == [
        PersonRef("p-b", "Nat"), PersonRef("p-x"), PersonRef("p-c")]
    assert [p.label for p in canonical_people(["p-c", "p-a"], refs)] == ["p-c", "Nat"]
    photos.people.unmerge("p-a")
    assert photos.people.refs()["p-a"] == PersonRef("p-a")


def test_recognizer_merges_are_folded_in_like_a_user_merge(photos):
    photos.persist(K1, [("p-a", BOX)], taken_at="2020-01-01T10:00:00")
    photos.persist(K2, [("p-b", BOX)], taken_at="2020-02-01T10:00:00")
    # the local recognizer merged p-b into p-a: the next photo of p-a says so
    photos.persist(K3, [("p-a", BOX, ["p-b"])], taken_at="2020-03-01T10:00:00")
    merged = photos.people.get("p-a")
    assert (merged.aliases, merged.photos, merged.faces) == (["p-b"], 3, 3)
    assert [p.id for p in photos.people.list_people()] == ["p-a"]
    assert photos.people.resolve("p-b") == ["p-a", "p-b"]
    # reported again with every later photo: nothing changes
    photos.persist("originals/2020/04/01/IMG_4.jpg", [("p-a", BOX, ["p-b"])], taken_at="2020-04-01T10:00:00")
    assert photos.people.get("p-a").aliases == ["p-b"] and photos.people.get("p-a").photos == 4


def test_recognizer_merge_keeps_the_users_name_and_decisions(photos):
    photos.persist(K1, [("p-a", BOX)])
    photos.persist(K2, [("p-b", BOX)])
    photos.people.name_person("p-b", "Natalie")
    # the recognizer keeps p-a; the catalog keeps the named group canonical so "Natalie" stays hers
    photos.persist(K3, [("p-a", BOX, ["p-b"])])
    assert (photos.people.get("Natalie").id, photos.people.get("Natalie").aliases) == ("p-b", ["p-a"])
    assert [r["key"] for r in photos.people.photos_of("Natalie")] == sorted([K1, K2, K3], reverse=True)
    # the user splits them: a later report of the same merge does not undo that
    photos.people.unmerge("p-a")
    photos.persist("originals/2020/04/01/IMG_4.jpg", [("p-a", BOX, ["p-b"])])
    assert photos.people.get("p-a").aliases == [] and photos.people.get("Natalie").aliases == []
    # two groups the user named differently are two people, whatever the recognizer thinks
    photos.persist("originals/2020/05/01/IMG_5.jpg", [("p-c", BOX)])
    photos.people.name_person("p-c", "Tom")
    photos.persist("originals/2020/06/01/IMG_6.jpg", [("p-b", BOX, ["p-c"])])
    assert photos.people.get("Tom").id == "p-c" and photos.people.get("Natalie").aliases == []
    # an alias never persisted (its photo still in flight) is skipped, not an error
    assert photos.people.absorb("p-b", ["p-unknown"]) == []


def test_the_users_separations_reach_the_recognizer_and_are_per_pair(photos):
    told: list[list[str]] = []
    people = People(photos.catalog, s3=photos.people.s3, bucket=photos.people.bucket, keep_apart=told.append)
    photos.persist(K1, [("p-a", BOX)])
    photos.persist(K2, [("p-b", BOX)])
    photos.persist(K3, [("p-a", BOX, ["p-b"])])
    people.unmerge("p-b")
    assert told == [["p-b", "p-a"]]  # the recognizer undoes its merge too
    # kept apart from p-a only: a later merge with someone else still happens
    photos.persist("originals/2020/04/01/IMG_4.jpg", [("p-d", BOX)])
    assert people.absorb("p-d", ["p-b", "p-a"]) == ["p-b"]
    assert (people.get("p-b").id, people.get("p-a").id) == ("p-d", "p-a")
    # two names the recognizer put together: the catalog keeps them apart and tells the recognizer
    people.name_person("p-d", "Tom")
    people.name_person("p-a", "Natalie")
    assert people.absorb("p-a", ["p-d"]) == [] and told[-1] == ["p-a", "p-d"]


def test_merge_needs_two_known_people(photos):
    photos.persist(K1, [("p-a", BOX)])
    with pytest.raises(PeopleError):
        photos.people.merge(["p-a"])
    with pytest.raises(PersonNotFound):
        photos.people.merge(["p-a", "p-nope"])
    assert photos.people.merge(["p-a", "p-a"]).aliases == []


def test_missing_cover_is_made_later(photos, stack):
    record = photos.record(K1, [("p-a", BOX)])
    stack.s3.delete_object(Bucket=stack.bucket, Key=record.thumbnails["view"]["key"])  # view not readable yet
    from shoebox.catalog.photos import persist_photo

    persist_photo(photos.catalog, record, bucket=stack.bucket)
    assert photos.people.get("p-a").cover is None  # the photo itself was not failed for it
    stack.s3.put_object(Bucket=stack.bucket, Key=record.thumbnails["view"]["key"], Body=view_with_box(BOX))
    assert photos.people.ensure_covers() == ["p-a"]
    assert photos.people.get("p-a").cover["crop"] == crop_key("p-a")
    stack.s3.delete_object(Bucket=stack.bucket, Key=crop_key("p-a"))
    assert photos.people.ensure_covers() == []
    assert photos.people.ensure_covers(check_objects=True) == ["p-a"]


def _view_reads(stack) -> list[str]:
    """The keys the S3 client is asked to GET from now on (each is a cover attempt's read of a view)."""
    reads: list[str] = []
    stack.s3.meta.events.register("provide-client-params.s3.GetObject",
                                  lambda params, **_: reads.append(params["Key"]))
    return reads


def test_a_cover_that_fails_is_tried_once_per_face_and_view(photos, stack):
    record = photos.record(K1, [("p-a", BOX)])
    view = record.thumbnails["view"]["key"]
    stack.s3.put_object(Bucket=stack.bucket, Key=view, Body=b"not a jpeg")  # unreadable view
    from shoebox.catalog.photos import persist_photo

    persist_photo(photos.catalog, record, bucket=stack.bucket)
    assert photos.people.get("p-a").cover is None
    reads = _view_reads(stack)
    assert photos.people.ensure_covers() == [] and reads == [view]  # tried at the first listing
    failed = photos.people._row("p-a")["cover_failed"]
    assert (failed["face_id"], failed["view"]) == (record.faces[0]["face_id"], view)
    assert photos.people.ensure_covers() == [] and reads == [view]  # not at the next ones
    assert photos.people.ensure_covers() == [] and reads == [view]
    # an explicit check of the objects tries again (and fails again: the view is still broken)
    assert photos.people.ensure_covers(check_objects=True) == [] and reads == [view, view]
    # a newer face of the person, readable: its processing makes the cover and clears the marker
    photos.persist(K2, [("p-a", BOX2)], taken_at="2021-01-01T10:00:00")
    cover = photos.people.get("p-a").cover
    assert cover["key"] == K2 and photos.people._row("p-a")["cover_failed"] is None
    assert stack.s3.head_object(Bucket=stack.bucket, Key=crop_key("p-a"))["ContentLength"] > 0


def test_a_newer_face_is_tried_at_the_next_listing_despite_an_older_failure(photos, stack):
    first = photos.record(K1, [("p-a", BOX)])
    stack.s3.put_object(Bucket=stack.bucket, Key=first.thumbnails["view"]["key"], Body=b"")
    from shoebox.catalog.photos import persist_photo

    persist_photo(photos.catalog, first, bucket=stack.bucket)
    assert photos.people.ensure_covers() == []
    assert photos.people._row("p-a")["cover_failed"]["face_id"] == first.faces[0]["face_id"]
    # the newer photo's view is not there when it is processed, then is
    second = photos.record(K2, [("p-a", BOX2)], taken_at="2021-01-01T10:00:00")
    view = second.thumbnails["view"]["key"]
    stack.s3.delete_object(Bucket=stack.bucket, Key=view)
    persist_photo(photos.catalog, second, bucket=stack.bucket)
    assert photos.people.get("p-a").cover is None
    stack.s3.put_object(Bucket=stack.bucket, Key=view, Body=view_with_box(BOX2))
    reads = _view_reads(stack)
    assert photos.people.ensure_covers() == ["p-a"] and reads == [view]
    assert photos.people.get("p-a").cover["face_id"] == second.faces[0]["face_id"]
    assert photos.people._row("p-a")["cover_failed"] is None


def test_crop_stays_inside_the_image_near_an_edge():
    bbox = {"left": 0.0, "top": 0.0, "width": 0.1, "height": 0.1}
    image = Image.open(io.BytesIO(make_crop(view_with_box(bbox, (1000, 500)), bbox)))
    assert image.size == (CROP_SIZE, CROP_SIZE)
    # face box is 100 px, crop side 160 px from the corner: the top-left 100/160 of the crop is red
    assert image.convert("RGB").getpixel((20, 20))[0] > 200
    assert image.convert("RGB").getpixel((150, 150))[2] > 200


class MergingRecognizer:
    """What the local recognizer answers after it merged two groups by itself: ``filed`` says where it
    files each face; told to keep two people apart it moves ``torn`` faces once (a repeat is a no-op)."""

    def __init__(self, filed: dict[str, str], torn: dict[str, tuple[str, str]]):
        self.filed, self.torn, self.told = dict(filed), dict(torn), []

    def keep_apart(self, person_ids):
        from shoebox.recognition.base import FaceMove

        self.told.append(list(person_ids))
        moves = [FaceMove(fid, key, person) for fid, (key, person) in self.torn.items()]
        for move in moves:
            self.filed[move.face_id] = move.person_id
        self.torn = {}
        return moves

    def filed_as(self, face_ids):
        return {fid: self.filed[fid] for fid in face_ids if fid in self.filed}


def _merged_while_young_joined(photos):
    """p-a and p-b merged by the recognizer; K3's face joined the merged group but is p-b's."""
    photos.persist(K1, [("p-a", BOX)])
    photos.persist(K2, [("p-b", BOX)])
    k3 = photos.persist(K3, [("p-a", BOX, ["p-b"])])
    assert photos.people.get("p-b").id == "p-a"
    face = k3.faces[0]["face_id"]
    return MergingRecognizer({"f-0001": "p-a", "f-0002": "p-b", face: "p-a"}, {face: (K3, "p-b")})


def _keys(people, ref):
    return [row["key"] for row in people.photos_of(ref)]


@pytest.mark.parametrize("again", ["p-b", "p-a"])  # the unmerged id, or the one it was unmerged from
def test_an_unmerge_cut_short_is_finished_by_saying_it_again(photos, monkeypatch, again):
    rec = _merged_while_young_joined(photos)
    people = People(photos.catalog, s3=photos.people.s3, bucket=photos.people.bucket,
                    keep_apart=rec.keep_apart, filed_as=rec.filed_as)
    real = photos.catalog.update_photo
    monkeypatch.setattr(photos.catalog, "update_photo", lambda *a, **k: (_ for _ in ()).throw(
        RuntimeError("throttled")))
    with pytest.raises(RuntimeError):
        people.unmerge("p-b")  # the recognizer moved K3's face; the catalog write failed
    assert _keys(people, "p-b") == [K2] and _keys(people, "p-a") == [K3, K1]  # catalog and recognizer disagree
    monkeypatch.setattr(photos.catalog, "update_photo", real)
    people.unmerge(again)  # again: the recognizer reports no move now, but K3 is filed where it says
    assert rec.told == [["p-b", "p-a"], [again, "p-b" if again == "p-a" else "p-a"]]
    assert _keys(people, "p-b") == [K3, K2] and _keys(people, "p-a") == [K1]
    assert (people.get("p-b").faces, people.get("p-a").faces) == (2, 1)
    assert photos.catalog.get_photo(K3).faces[0]["person_id"] == "p-b"
    people.unmerge("p-b")  # nothing left to do
    assert _keys(people, "p-b") == [K3, K2] and rec.told[-1] == ["p-b", "p-a"] and len(rec.told) == 3


def test_saying_unmerge_again_does_not_undo_a_later_merge_by_the_user(photos):
    rec = _merged_while_young_joined(photos)
    people = People(photos.catalog, s3=photos.people.s3, bucket=photos.people.bucket,
                    keep_apart=rec.keep_apart, filed_as=rec.filed_as)
    people.unmerge("p-b")
    assert _keys(people, "p-b") == [K3, K2]
    people.merge(["p-b", "p-a"])  # the user changes their mind: one person after all, under p-b
    people.unmerge("p-b")  # p-b is the canonical one: nothing to undo
    assert rec.told == [["p-b", "p-a"]] and people.get("p-a").id == "p-b"
    assert _keys(people, "p-b") == [K3, K2, K1]


@pytest.mark.parametrize("cut", ["batch_write", "record_photo", "_write_face_rows"])
def test_an_unmerge_cut_short_after_the_photo_was_written_is_finished_by_saying_it_again(photos, monkeypatch, cut):
    """The photo item already says the new person, but its index rows (``batch_write``), its person
    rows, counts and face rows (``record_photo``) or only its face rows (``_write_face_rows``, after the
    counts) were never written: saying unmerge again brings them in line."""
    rec = _merged_while_young_joined(photos)
    people = People(photos.catalog, s3=photos.people.s3, bucket=photos.people.bucket,
                    keep_apart=rec.keep_apart, filed_as=rec.filed_as)
    target = photos.catalog if cut == "batch_write" else people
    name = {"batch_write": "_batch_write"}.get(cut, cut)
    real = getattr(target, name)

    def fail_once(*args, **kwargs):
        monkeypatch.setattr(target, name, real)
        raise RuntimeError("throttled")

    monkeypatch.setattr(target, name, fail_once)
    with pytest.raises(RuntimeError):
        people.unmerge("p-b")
    assert photos.catalog.get_photo(K3).faces[0]["person_id"] == "p-b"  # the item was written
    assert [f["key"] for f in people.faces_of_id("p-b")] == [K2]  # …and not all that follows it
    people.unmerge("p-b")
    assert _keys(people, "p-b") == [K3, K2] and _keys(people, "p-a") == [K1]
    assert (people.get("p-b").faces, people.get("p-a").faces) == (2, 1)
    assert [f["key"] for f in people.faces_of_id("p-a")] == [K1]
    assert sorted(f["key"] for f in people.faces_of_id("p-b")) == [K2, K3]


def test_a_finished_unmerge_moves_the_old_persons_cover_and_samples_off_the_refiled_photo(photos, monkeypatch):
    """Cut short after the counts (``_write_face_rows``): the second unmerge drops the face row left under
    p-a, and p-a's cover and samples, which showed that photo, move to what p-a still has."""
    rec = _merged_while_young_joined(photos)
    people = People(photos.catalog, s3=photos.people.s3, bucket=photos.people.bucket,
                    keep_apart=rec.keep_apart, filed_as=rec.filed_as)
    people._update("p-a", "REMOVE cover", None)
    assert people.ensure_covers() == ["p-a"] and people.get("p-a").cover["key"] == K3  # the newest face
    real = people._write_face_rows

    def fail_once(*args, **kwargs):
        monkeypatch.setattr(people, "_write_face_rows", real)
        raise RuntimeError("throttled")

    monkeypatch.setattr(people, "_write_face_rows", fail_once)
    with pytest.raises(RuntimeError):
        people.unmerge("p-b")
    assert people._row("p-a")["cover"]["key"] == K3
    people.unmerge("p-b")
    a = people._row("p-a")
    assert a["cover"]["key"] == K1 and [sk.split("#", 1)[1] for sk in a["samples"]] == [K1]
    crop = photos.rt.s3.get_object(Bucket=photos.rt.bucket, Key=crop_key("p-a"))["Body"].read()
    assert crop[:2] == b"\xff\xd8"


@pytest.mark.parametrize("unmerge_refiles_first", [False, True])
def test_persist_files_a_face_that_an_unmerge_moved_while_it_wrote(photos, monkeypatch, unmerge_refiles_first):
    """A re-process of K3 writes the filing it was told before the user's unmerge moved K3's face (the
    persist step asks ``filed_as`` before its write, the move lands just after). Asked again after the
    write, the photo and its people rows follow the move, also when the unmerge's own re-file of the
    photo landed between the write and that second ask."""
    from shoebox.catalog.photos import persist_photo

    rec = _merged_while_young_joined(photos)
    stale = photos.catalog.get_photo(K3)
    assert stale.faces[0]["person_id"] == "p-a"
    rec.keep_apart(["p-b", "p-a"])  # the recognizer's side of the unmerge: K3's face is p-b's now
    if unmerge_refiles_first:
        real = photos.catalog.put_photo

        def then_refiled(record):
            real(record)
            photos.catalog.update_photo(K3, lambda r: refile(r, rec.filed_as([f["face_id"] for f in r.faces])))

        monkeypatch.setattr(photos.catalog, "put_photo", then_refiled)
    filed = persist_photo(photos.catalog, stale, bucket=photos.rt.bucket, filed_as=rec.filed_as)
    assert photos.catalog.get_photo(K3).faces[0]["person_id"] == "p-b" == filed.faces[0]["person_id"]  # the step reports it
    people = photos.people
    assert [f["key"] for f in people.faces_of_id("p-a")] == [K1]
    assert sorted(f["key"] for f in people.faces_of_id("p-b")) == [K2, K3]
    assert (people._row("p-a")["face_count"], people._row("p-b")["face_count"]) == (1, 2)


def test_the_persist_steps_separations_do_not_read_the_groups_faces(photos):
    """absorb's name conflict separates without checking every face's filing (that is the user's
    unmerge's job): no FACES# query, whatever the recognizer answers."""
    rec = _merged_while_young_joined(photos)
    asked: list[list[str]] = []
    people = People(photos.catalog, s3=photos.people.s3, bucket=photos.people.bucket,
                    keep_apart=rec.keep_apart, filed_as=lambda ids: asked.append(ids) or rec.filed_as(ids))
    people.unmerge("p-b")
    asked.clear()
    people.name_person("p-b", "Tom")
    people.name_person("p-a", "Natalie")
    photos.persist("originals/2020/04/01/IMG_4.jpg", [("p-c", BOX)])
    people.name_person("p-c", "Carl")
    assert people.absorb("p-a", ["p-c"]) == [] and rec.told[-1] == ["p-a", "p-c"]
    assert asked == []


def test_suggestions_fold_the_recognizers_guesses_onto_the_catalogs_people(photos):
    from shoebox.recognition.base import PeopleMatch

    for i, person in enumerate(("p-a", "p-b", "p-c", "p-d"), start=1):
        photos.persist(f"originals/2020/0{i}/01/IMG_{i}.jpg", [(person, BOX)])
    people = photos.people
    people.merge(["p-c", "p-d"])
    people.name_person("p-b", "Natalie")
    guesses = [PeopleMatch("p-a", "p-d", 0.31),   # p-d is p-c's now: offered as p-a / p-c
               PeopleMatch("p-a", "p-c", 0.36),   # the same pair again, more alike: counted once, at 0.36
               PeopleMatch("p-c", "p-d", 0.44),   # merged by the user: not a question any more
               PeopleMatch("p-b", "p-a", 0.40),
               PeopleMatch("p-a", "p-unknown", 0.42)]  # not persisted yet
    found = people.suggestions(guesses)
    assert [(s["a"]["id"], s["b"]["id"], s["similarity"]) for s in found] == [("p-a", "p-b", 0.40),
                                                                              ("p-a", "p-c", 0.36)]
    assert found[0]["b"]["name"] == "Natalie" and found[1]["b"]["aliases"] == ["p-d"]
    assert [s["b"]["id"] for s in people.suggestions(guesses, limit=1)] == ["p-b"]

    people.apart("natalie", "p-a")  # by name or id; no longer offered, in either order
    assert [(s["a"]["id"], s["b"]["id"]) for s in people.suggestions(guesses)] == [("p-a", "p-c")]
    people.apart("p-d", "p-a")  # a merged-away id stands for its whole group
    assert people.suggestions(guesses) == []
    with pytest.raises(PeopleError, match="one person"):
        people.apart("p-c", "p-d")


def test_apart_tells_the_recognizer_and_survives_its_merges(photos):
    told: list[list[str]] = []
    people = People(photos.catalog, s3=photos.people.s3, bucket=photos.people.bucket,
                    keep_apart=lambda ids: told.append(list(ids)) or [])
    photos.persist(K1, [("p-a", BOX)])
    photos.persist(K2, [("p-b", BOX)])
    people.apart("p-a", "p-b")
    assert told == [["p-a", "p-b"]]
    # a recognizer that merges them anyway (it reports p-b as an alias of p-a) is not followed
    assert people.absorb("p-a", ["p-b"]) == [] and people.get("p-b").id == "p-b"


def test_suggestions_leave_out_people_seen_together_and_groups_left_with_no_photo(photos):
    """The recognizer knows only its own groups: after the user merged p-c and p-d, p-b / p-c may be
    offered although p-b and p-d are in one photo. A group whose only photo lost its face is not offered."""
    from shoebox.recognition.base import PeopleMatch

    photos.persist(K1, [("p-a", BOX)])
    photos.persist(K2, [("p-b", BOX), ("p-d", BOX2)])
    photos.persist(K3, [("p-c", BOX)])
    photos.persist("originals/2020/04/01/IMG_4.jpg", [("p-e", BOX)])
    photos.persist("originals/2020/04/01/IMG_4.jpg", [])  # re-processed: no face any more
    people = photos.people
    people.merge(["p-c", "p-d"])
    guesses = [PeopleMatch("p-b", "p-c", 0.40), PeopleMatch("p-a", "p-e", 0.39), PeopleMatch("p-a", "p-c", 0.33)]
    assert people._row("p-e")["face_count"] == 0
    assert [(s["a"]["id"], s["b"]["id"]) for s in people.suggestions(guesses)] == [("p-a", "p-c")]


def test_hidden_people_leave_the_list_and_suggestions_but_stay_findable(photos):
    """Strangers in the background: hidden from the list and from suggestions, their photos still found
    by id or name; a merged-away group follows its person's visibility; unhide brings them back."""
    from shoebox.recognition.base import PeopleMatch

    for i, person in enumerate(("p-a", "p-b", "p-c"), start=1):
        photos.persist(f"originals/2020/0{i}/01/IMG_{i}.jpg", [(person, BOX)])
    people = photos.people
    people.name_person("p-b", "Stranger")
    hidden = people.hide("stranger")
    assert (hidden.id, hidden.hidden, hidden.to_json()["hidden"]) == ("p-b", True, True)
    assert [p.id for p in people.list_people(include_hidden=False)] == ["p-a", "p-c"]
    assert {p.id for p in people.list_people()} == {"p-a", "p-b", "p-c"}  # search's vocabulary keeps them
    assert people.resolve("Stranger") == ["p-b"] and _keys(people, "Stranger") == ["originals/2020/02/01/IMG_2.jpg"]
    guesses = [PeopleMatch("p-a", "p-b", 0.40), PeopleMatch("p-a", "p-c", 0.35)]
    assert [(s["a"]["id"], s["b"]["id"]) for s in people.suggestions(guesses)] == [("p-a", "p-c")]
    # merged into a listed person, the hidden group is listed with them; the canonical row decides
    people.merge(["p-c", "p-b"])
    assert [(p.id, p.hidden) for p in people.list_people(include_hidden=False)] == [("p-c", False), ("p-a", False)]
    people.unmerge("p-b")
    assert "p-b" not in {p.id for p in people.list_people(include_hidden=False)}
    assert people.hide("p-b", hidden=False).hidden is False
    assert {p.id for p in people.list_people(include_hidden=False)} == {"p-a", "p-b", "p-c"}
    with pytest.raises(PersonNotFound):
        people.hide("nobody")


def test_a_recognizer_merge_never_hides_a_listed_person(photos):
    """The user hid a one-photo group; the recognizer then finds a listed group to be the same person:
    the merged person is listed (a guess must not make photos of someone the user sees disappear)."""
    photos.persist("originals/2020/01/01/IMG_1.jpg", [("p-a", BOX)])
    for i in (2, 3, 4):
        photos.persist(f"originals/2020/01/0{i}/IMG_{i}.jpg", [("p-b", BOX)])
    people = photos.people
    people.hide("p-a")
    people.name_person("p-a", "Uncle Bob")  # the named group becomes the canonical one
    assert people.absorb("p-a", ["p-b"]) == ["p-b"]
    assert [(p.id, p.aliases, p.hidden) for p in people.list_people(include_hidden=False)] == [("p-a", ["p-b"], False)]


def test_forgetting_a_photo_leaves_no_contribution_row(photos):
    """A deleted photo's PHOTOFACES row goes with its faces (an empty one was a row of no photo)."""
    key = "originals/2020/01/01/gone.jpg"
    photos.persist(key, [("p-ann", BOX)])
    assert photos.raw_rows(f"PHOTOFACES#{key}")
    photos.people.forget_photo(key)
    assert photos.raw_rows(f"PHOTOFACES#{key}") == []
    assert photos.people.get("p-ann").faces == 0
    photos.persist(key, [("p-ann", BOX)])  # and it can come back
    assert photos.people.get("p-ann").faces == 1 and len(photos.raw_rows(f"PHOTOFACES#{key}")) == 1
