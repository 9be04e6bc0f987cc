"""The local face index's grouping rules on hand-made embeddings: automatic merges of groups that turn out
to be one person, never of people seen together, persisted like every other decision."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shoebox.recognition.local.index import FaceIndex

BOX = {"left": 0.4, "top": 0.2, "width": 0.2, "height": 0.3}


def at(degrees: float) -> np.ndarray:
    """A unit embedding in the plane of the first two axes: cosine between two is cos(angle difference)."""
    v = np.zeros(128, np.float32)
    v[0], v[1] = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return v


FAR = math.degrees(math.acos(0.40))  # 66.4°: cosine 0.40 to the first face, under the 0.435 threshold


def test_a_bridging_photo_merges_two_groups_of_one_person(tmp_path):
    index = FaceIndex(tmp_path)
    (first,) = index.add("young.jpg", [(BOX, 99.0, at(0))])
    (second,) = index.add("older.jpg", [(BOX, 99.0, at(FAR))])
    assert first.person_id != second.person_id  # too unlike to join at first
    (bridge,) = index.add("between.jpg", [(BOX, 99.0, at(25))])
    # the bridge joins the first group (0.91; 0.75 to the second), whose centroid (12.5°) is then 0.59
    # alike the second: merged;
    # the bigger group keeps its id and the merged-away one is reported as its alias
    assert bridge.person_id == first.person_id
    assert index.aliases(first.person_id) == [second.person_id]
    assert index.people() == {first.person_id: [first.face_id, second.face_id, bridge.face_id]}
    # decided once, for every process: a new index on the same directory replays the merge
    again = FaceIndex(tmp_path)
    assert again.people() == index.people() and again.canonical(second.person_id) == first.person_id
    # and the journal's compaction keeps it
    with again._locked():
        again._compact()
    assert FaceIndex(tmp_path).people() == index.people()


def test_people_seen_in_one_photo_are_never_merged(tmp_path):
    index = FaceIndex(tmp_path)
    a, b = index.add("together.jpg", [(BOX, 99.0, at(0)), (BOX, 98.0, at(FAR))])
    (bridge,) = index.add("between.jpg", [(BOX, 99.0, at(25))])
    assert bridge.person_id == a.person_id
    assert len(index.people()) == 2 and index.aliases(a.person_id) == []


def test_merging_can_be_turned_off(tmp_path):
    index = FaceIndex(tmp_path, merge_threshold=None)
    index.add("young.jpg", [(BOX, 99.0, at(0))])
    index.add("older.jpg", [(BOX, 99.0, at(FAR))])
    index.add("between.jpg", [(BOX, 99.0, at(25))])
    assert len(index.people()) == 2


def test_merges_chain_to_the_last_survivor(tmp_path):
    index = FaceIndex(tmp_path)
    with index._locked():
        index._append([{"op": "merge", "from": "p-b", "into": "p-a"}, {"op": "merge", "from": "p-a", "into": "p-c"}])
    again = FaceIndex(tmp_path)
    with again._locked(exclusive=False):
        assert again.canonical("p-b") == "p-c" and again.aliases("p-c") == ["p-a", "p-b"]
        assert again.canonical("p-x") == "p-x" and again.aliases("p-x") == []


def test_kept_apart_undoes_a_merge_and_stops_it_coming_back(tmp_path):
    index = FaceIndex(tmp_path)
    (first,) = index.add("young.jpg", [(BOX, 99.0, at(0))])
    (second,) = index.add("older.jpg", [(BOX, 99.0, at(FAR))])
    index.add("between.jpg", [(BOX, 99.0, at(25))])
    assert index.canonical(second.person_id) == first.person_id  # merged, as above
    index.keep_apart(second.person_id, first.person_id)  # the user: two people
    assert index.canonical(second.person_id) == second.person_id and len(index.people()) == 2
    # another bridging photo would merge them again; the user's word holds, here and after replay
    index.add("between-2.jpg", [(BOX, 99.0, at(30))])
    assert len(index.people()) == 2
    again = FaceIndex(tmp_path)
    with again._locked():
        again._compact()
    assert FaceIndex(tmp_path).people() == index.people()


def test_kept_apart_sends_faces_that_joined_the_merged_group_to_their_side(tmp_path):
    index = FaceIndex(tmp_path)
    (first,) = index.add("young.jpg", [(BOX, 99.0, at(0))])
    (second,) = index.add("older.jpg", [(BOX, 99.0, at(FAR))])
    (bridge,) = index.add("between.jpg", [(BOX, 99.0, at(25))])
    # while merged, new faces of either side join the merged group under the survivor's id
    (near_second,) = index.add("later-older.jpg", [(BOX, 99.0, at(FAR - 4))])
    (near_first,) = index.add("later-young.jpg", [(BOX, 99.0, at(4))])
    assert near_second.person_id == near_first.person_id == first.person_id
    assert near_second.joined == [first.person_id, second.person_id]
    moved = index.keep_apart(second.person_id, first.person_id)
    # decided again by the sides' own faces: 4° from the second face goes there; the rest stay
    assert [(f.face_id, f.photo_id, f.person_id) for f in moved] == [
        (near_second.face_id, "later-older.jpg", second.person_id)]
    expected = {first.person_id: sorted([first.face_id, bridge.face_id, near_first.face_id]),
                second.person_id: sorted([second.face_id, near_second.face_id])}
    assert {p: sorted(f) for p, f in index.people().items()} == expected
    # decided once: a replay and a compacted journal agree, and saying it again moves nothing
    assert {p: sorted(f) for p, f in FaceIndex(tmp_path).people().items()} == expected
    with index._locked():
        index._compact()
    again = FaceIndex(tmp_path)
    assert {p: sorted(f) for p, f in again.people().items()} == expected
    assert again.keep_apart(first.person_id, second.person_id) == []


def test_a_bridge_that_joined_the_smaller_group_is_filed_as_reported_and_decided_again(tmp_path):
    index = FaceIndex(tmp_path)
    first = [index.add(f"young-{i}.jpg", [(BOX, 99.0, at(3 * i))])[0] for i in range(3)]
    (second,) = index.add("older.jpg", [(BOX, 99.0, at(FAR + 6))])  # 0.35 to their centroid: apart
    assert second.person_id != first[0].person_id
    # nearer the single older face than the young three: joins that group, which its arrival then
    # merges into the bigger one; the index files it under the id it reports, as the catalog will
    (bridge,) = index.add("between.jpg", [(BOX, 99.0, at(52))])
    assert index.canonical(second.person_id) == first[0].person_id
    assert bridge.person_id == first[0].person_id and bridge.joined == [first[0].person_id, second.person_id]
    stored = {f.face_id: f.person_id for f in FaceIndex(tmp_path).faces()}
    assert stored[bridge.face_id] == bridge.person_id
    (moved,) = index.keep_apart(first[0].person_id, second.person_id)
    assert (moved.face_id, moved.person_id) == (bridge.face_id, second.person_id)


def test_apart_in_a_chain_cuts_only_the_link_between_the_two(tmp_path):
    index = FaceIndex(tmp_path)
    with index._locked():
        index._append([{"op": "merge", "from": "p-b", "into": "p-a"}, {"op": "merge", "from": "p-c", "into": "p-b"}])
    index.keep_apart("p-b", "p-c")
    with index._locked(exclusive=False):
        assert index.canonical("p-b") == "p-a" and index.canonical("p-c") == "p-c"
    index.keep_apart("p-a", "p-b")
    with index._locked(exclusive=False):
        assert index.canonical("p-b") == "p-b"


def test_a_group_of_three_split_twice_decides_its_faces_each_time(tmp_path):
    index = FaceIndex(tmp_path, merge_threshold=None)
    d, a, b = (index.add(f"{n}.jpg", [(BOX, 99.0, at(deg))])[0].person_id
               for n, deg in (("d", 0), ("a", 80), ("b", 160)))
    with index._locked():
        index._append([{"op": "merge", "from": a, "into": d}, {"op": "merge", "from": b, "into": d}])
    (face,) = index.add("near-a.jpg", [(BOX, 99.0, at(78))])
    assert face.person_id == d and sorted(face.joined) == sorted([d, a, b])
    assert index.keep_apart(b, d) == []  # nearer the D + A side: stays, still torn between D and A
    (moved,) = index.keep_apart(a, d)
    assert (moved.face_id, moved.person_id) == (face.face_id, a)
    assert index.keep_apart(a, d) == []  # said again: nothing more to do


def test_a_face_moved_before_its_photo_is_persisted_is_filed_where_the_index_has_it(tmp_path):
    """The unmerge comes between index_faces and persist (or before a retried persist): the catalog has
    no record to move, so persist asks the recognizer where each face is filed now."""
    from shoebox.catalog.people_rules import refile
    from shoebox.models import PhotoRecord

    index = FaceIndex(tmp_path)
    first = [index.add(f"young-{i}.jpg", [(BOX, 99.0, at(3 * i))])[0] for i in range(3)]
    (second,) = index.add("older.jpg", [(BOX, 99.0, at(FAR + 6))])
    (bridge,) = index.add("between.jpg", [(BOX, 99.0, at(52))])
    state = PhotoRecord(key="between.jpg", status="processed", faces=[
        {"face_id": bridge.face_id, "person_id": bridge.person_id, "aliases": [second.person_id]}])
    index.keep_apart(first[0].person_id, second.person_id)
    assert refile(state, index.filed_as([bridge.face_id, "f-gone"]))
    assert state.faces == [{"face_id": bridge.face_id, "person_id": second.person_id}]
    assert not refile(state, index.filed_as([bridge.face_id]))  # filed already: nothing to do


@pytest.mark.parametrize("block", [1024, 1, 4])  # people compared a block of rows at a time: any size
def test_similar_offers_what_merging_did_not_dare_most_alike_first(tmp_path, monkeypatch, block):
    """Groups 0.30 to 0.45 alike are offered to the user; not people seen in one photo together, not
    groups the user keeps apart, not groups too unlike."""
    monkeypatch.setattr("shoebox.recognition.local.index.SIMILAR_BLOCK", block)
    index = FaceIndex(tmp_path, merge_threshold=None)

    def vec(**axes: float) -> np.ndarray:  # e.g. vec(e0=0.34, e1=...): cosines are dot products
        v = np.zeros(128, np.float32)
        for axis, value in axes.items():
            v[int(axis[1:])] = value
        return v / np.linalg.norm(v)

    def person(photo, emb):
        (face,) = index.add(photo, [(BOX, 99.0, emb)])
        return face.person_id

    young = person("young.jpg", vec(e0=1))
    older = person("older.jpg", vec(e0=0.34, e1=math.sqrt(1 - 0.34**2)))  # Jesper at 18 and 35 score about this
    cousin = person("cousin.jpg", vec(e1=0.4253, e2=math.sqrt(1 - 0.4253**2)))  # 0.40 to older, 0 to young
    stranger = person("stranger.jpg", vec(e3=1))
    a, b = index.add("together.jpg", [(BOX, 99.0, vec(e4=1)), (BOX, 98.0, vec(e4=0.42, e5=math.sqrt(1 - 0.42**2)))])
    assert len(index.people()) == 6
    pairs = index.similar()
    assert [(sorted((x, y)), round(sim, 2)) for x, y, sim in pairs] == [
        (sorted((older, cousin)), 0.40), (sorted((young, older)), 0.34)]
    offered = {p for x, y, _ in pairs for p in (x, y)}
    assert stranger not in offered and {a.person_id, b.person_id}.isdisjoint(offered)  # one photo: two people
    index.keep_apart(older, cousin)
    assert [sorted((x, y)) for x, y, _ in FaceIndex(tmp_path, merge_threshold=None).similar()] == [sorted((young, older))]


def from_scratch(index: FaceIndex) -> dict[str, tuple[np.ndarray, int, dict[str, int]]]:
    """Each person's totals computed anew from every face, as grouping did before it kept running totals."""
    out: dict[str, tuple[np.ndarray, int, dict[str, int]]] = {}
    for f in index._faces.values():
        total, n, photos = out.get(index.canonical(f.person_id), (np.zeros(128), 0, {}))
        photos = {**photos, f.photo_id: photos.get(f.photo_id, 0) + 1}
        out[index.canonical(f.person_id)] = (total + f.embedding, n + 1, photos)
    return out


def assert_totals_current(index: FaceIndex) -> None:
    running = index._regroup()
    fresh = from_scratch(index)
    assert sorted(running) == sorted(fresh)
    for pid, (total, n, photos) in fresh.items():
        assert running[pid].faces == n and dict(running[pid].photos) == photos
        np.testing.assert_allclose(running[pid].total, total, atol=1e-9)
    assert {p: set(fids) for p, fids in index._by_photo.items()} == \
        {p: {f.face_id for f in index._faces.values() if f.photo_id == p} for p in {f.photo_id for f in index._faces.values()}}


def test_running_totals_match_the_faces_through_every_kind_of_change(tmp_path, monkeypatch):
    """Grouping reads per-person running totals instead of every face (indexing stays fast at 60,000
    photos): after adds, re-indexing, removals, merges, unmerges and another process's writes, they
    equal what the faces add up to."""
    import random
    import uuid

    ids = random.Random(7)  # ids decide which people the steps below pick: the same every run
    monkeypatch.setattr("shoebox.recognition.local.index.uuid.uuid4", lambda: uuid.UUID(int=ids.getrandbits(128)))
    rng = np.random.default_rng(7)
    index, other = FaceIndex(tmp_path), FaceIndex(tmp_path)
    angles = [0, FAR, 25, 180, 180 + FAR, 205, 90]
    added, unmerged = [], 0
    for step in range(100):
        writer = other if step % 7 == 3 else index  # now and then another process writes
        photo = f"p{rng.integers(20)}.jpg"  # photos come back: re-indexing replaces their faces
        faces = [(BOX, float(rng.integers(80, 100)), at(angles[rng.integers(len(angles))] + rng.normal(0, 3)))
                 for _ in range(rng.integers(1, 3))]
        added += writer.add(photo, faces)
        if step % 11 == 5:
            index.remove([added[int(rng.integers(len(added)))].face_id])
        if step % 13 == 8:  # the user unmerges a merged group, or keeps two people apart
            people = sorted(index.people())
            merged = [(p, index.aliases(p)[0]) for p in people if index.aliases(p)]
            if merged:
                unmerged += 1
                index.keep_apart(*merged[0])
            elif len(people) >= 2:
                index.keep_apart(people[0], people[-1])
        with index._locked(exclusive=False):
            assert_totals_current(index)
    assert unmerged >= 3  # merges happened on the way, and some were undone
    with other._locked(exclusive=False):
        assert_totals_current(other)


@pytest.mark.parametrize("where", ["grouping", "merging", "writing", "disk full mid-line"])
def test_a_failed_add_leaves_memory_and_journal_as_they_were(tmp_path, monkeypatch, where):
    """An add that fails (a bad embedding while grouping, an error while deciding merges, a full disk
    while writing) changes nothing: the photo's earlier face, removed in memory to make room for the new
    one, is back; the journal has no torn line; the next add works and every reader agrees."""
    import shoebox.recognition.local.index as module

    index = FaceIndex(tmp_path)
    (kept,) = index.add("a.jpg", [(BOX, 99.0, at(0))])
    size = index.journal.stat().st_size
    new = at(90)
    if where == "grouping":
        new = np.ones(512, np.float32)  # not a 128-d embedding
    elif where == "merging":
        monkeypatch.setattr(index, "_merge_close", lambda touched: 1 / 0)
    elif where == "disk full mid-line":
        real_write = module.os.write
        room = [10]  # the disk takes 10 more bytes

        def filling(fd, data):
            if not room[0]:
                raise OSError(28, "No space left on device")
            n = real_write(fd, bytes(data[:room[0]]))
            room[0] -= n
            return n

        monkeypatch.setattr(module.os, "write", filling)
    else:
        real_fsync = module.os.fsync

        def full_disk(fd):
            real_fsync(fd)
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(module.os, "fsync", full_disk)
    with pytest.raises((ValueError, ZeroDivisionError, OSError)):
        index.add("a.jpg", [(BOX, 99.0, new)])  # re-index: would replace the face
    monkeypatch.undo()
    assert index.journal.stat().st_size == size
    assert [f.face_id for f in index.faces()] == [kept.face_id]
    assert index.people() == FaceIndex(tmp_path).people() == {kept.person_id: [kept.face_id]}
    with index._locked(exclusive=False):
        assert_totals_current(index)
    (again,) = index.add("a.jpg", [(BOX, 99.0, at(2))])  # the retry replaces it, for every reader
    assert [f.face_id for f in FaceIndex(tmp_path).faces()] == [f.face_id for f in index.faces()] == [again.face_id]
