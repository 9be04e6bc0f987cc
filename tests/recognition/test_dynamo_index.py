"""The DynamoDB face index (hybrid/local recognizers on AWS) on the local runtime's moto DynamoDB: same
decisions as the file index, exact counts under concurrent executions, no person split by a race."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from shoebox import aws
from shoebox.recognition.dynamo_index import PK, DynamoFaceIndex, _plain, _vec64
from shoebox.recognition.local.index import FaceIndex


@pytest.fixture
def table(home):
    from shoebox.local import LocalRuntime

    with LocalRuntime(home, recognizer="none", workflows=False) as rt:
        yield rt.table


def unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v)


def near(base, rng, noise=0.15):
    return unit(base + rng.normal(0, noise / np.sqrt(128), 128))


BOX = {"left": 0.1, "top": 0.1, "width": 0.2, "height": 0.2}


def person_items(table):
    items = aws.client("dynamodb").query(
        TableName=table, KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": PK}, ":p": {"S": "P#"}}, ConsistentRead=True)["Items"]
    return {it["sk"][2:]: it for it in map(_plain, items)}


def test_200_faces_from_8_concurrent_executions_file_into_one_person_with_exact_counts(table):
    rng = np.random.default_rng(1)
    base = unit(rng.normal(size=128))
    embs = [near(base, rng) for _ in range(200)]
    barrier = threading.Barrier(8)
    indexes = [DynamoFaceIndex(table) for _ in range(8)]  # one per execution: nothing shared in memory
    errors = []

    def execution(k: int) -> None:
        try:
            barrier.wait()
            for n in range(25):
                i = k * 25 + n
                indexes[k].add(f"originals/p{i:03d}.jpg", [(BOX, 99.0, embs[i])])
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=execution, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    people = DynamoFaceIndex(table).people()
    assert len(people) == 1
    (faces,) = people.values()
    assert len(faces) == 200
    items = person_items(table)
    assert sum(int(it["faces"]) for it in items.values()) == 200
    total = sum(_vec64(it["total"]) for it in items.values())
    np.testing.assert_allclose(total, np.sum(np.stack(embs).astype(np.float64), axis=0), atol=1e-9)
    assert sum(ix.conflicts for ix in indexes) > 0  # the executions really did collide


def test_a_new_person_seen_by_8_executions_at_once_becomes_one_person(table):
    rng = np.random.default_rng(2)
    base = unit(rng.normal(size=128))
    barrier = threading.Barrier(8)
    results = {}

    def execution(k: int) -> None:
        index = DynamoFaceIndex(table)
        barrier.wait()
        results[k] = index.add(f"originals/new{k}.jpg", [(BOX, 99.0, near(base, rng))])

    threads = [threading.Thread(target=execution, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({faces[0].person_id for faces in results.values()}) == 1
    assert len(DynamoFaceIndex(table).people()) == 1


def clusters(seed, people=12, per=6):
    rng = np.random.default_rng(seed)
    bases = [unit(rng.normal(size=128)) for _ in range(people)]
    photos = []
    for p, base in enumerate(bases):
        for n in range(per):
            # a person's first photos unlike each other sometimes (split, later merged)
            photos.append((f"p{p}-{n}", [near(base, rng, noise=0.9 if n % 3 == 0 else 0.5)]))
    # a few group photos of two people
    for n in range(8):
        a, b = rng.choice(people, 2, replace=False)
        photos.append((f"g{n}", [near(bases[a], rng, 0.5), near(bases[b], rng, 0.5)]))
    order = rng.permutation(len(photos))
    return [photos[i] for i in order]


def partition(index, photos, added):
    group_of = {fid: person for person, fids in index.people().items() for fid in fids}
    return sorted(sorted(k for k, fid in added.items() if group_of[fid] == g) for g in set(group_of.values()))


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_same_people_as_the_file_index(table, tmp_path, seed):
    photos = clusters(seed)
    ddb, local = DynamoFaceIndex(table), FaceIndex(tmp_path / f"faces{seed}")
    added_d, added_l = {}, {}
    for name, embs in photos:
        faces = [({"left": 0.1 + 0.3 * i, "top": 0.1, "width": 0.2, "height": 0.2}, 99.0 - i, e)
                 for i, e in enumerate(embs)]
        for index, added in ((ddb, added_d), (local, added_l)):
            for i, f in enumerate(index.add(name, faces)):
                added[(name, i)] = f.face_id
    got, want = partition(ddb, photos, added_d), partition(local, photos, added_l)
    assert got == want
    assert len(want) < sum(len(e) for _, e in photos)  # grouping did something


def test_reindexing_a_photo_replaces_its_faces_and_keeps_the_person(table):
    rng = np.random.default_rng(6)
    base = unit(rng.normal(size=128))
    index = DynamoFaceIndex(table)
    first = index.add("a.jpg", [(BOX, 99.0, near(base, rng))])
    again = index.add("a.jpg", [(BOX, 99.0, near(base, rng))])
    assert again[0].person_id == first[0].person_id
    assert again[0].face_id != first[0].face_id
    assert index.people() == {first[0].person_id: [again[0].face_id]}
    assert int(person_items(table)[first[0].person_id]["faces"]) == 1


def test_remove_takes_faces_out_of_the_running_totals(table):
    rng = np.random.default_rng(7)
    base = unit(rng.normal(size=128))
    index = DynamoFaceIndex(table)
    a = index.add("a.jpg", [(BOX, 99.0, near(base, rng))])[0]
    b = index.add("b.jpg", [(BOX, 99.0, near(base, rng))])[0]
    assert a.person_id == b.person_id
    index.remove([a.face_id, "f-unknown"])
    item = person_items(table)[a.person_id]
    assert int(item["faces"]) == 1
    np.testing.assert_allclose(_vec64(item["total"]), b.embedding.astype(np.float64), atol=1e-6)
    assert index.filed_as([a.face_id, b.face_id]) == {b.face_id: b.person_id}


def test_two_people_in_one_photo_are_never_merged_and_keep_apart_cuts_a_merge(table):
    rng = np.random.default_rng(8)
    base = unit(rng.normal(size=128))
    index = DynamoFaceIndex(table, threshold=0.99, merge_threshold=0.5)  # every face a new group, then merged
    box2 = {**BOX, "left": 0.6}
    pair = index.add("both.jpg", [(BOX, 99.0, near(base, rng, 0.3)), (box2, 98.0, near(base, rng, 0.3))])
    assert len({f.person_id for f in pair}) == 2
    third = index.add("c.jpg", [(BOX, 99.0, near(base, rng, 0.3))])[0]
    people = index.people()
    assert len(people) == 2  # the third merged into one of the two, which stay apart
    survivor = index.canonical(third.person_id)
    gone = third.person_id if survivor != third.person_id else next(
        a for a in index.aliases(survivor))
    assert index.aliases(survivor) == [gone]
    index.keep_apart(survivor, gone)
    items = person_items(table)
    assert "into" not in items[gone]
    assert index.aliases(survivor) == []
    head = _plain(aws.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": PK}, "sk": {"S": "HEAD"}}, ConsistentRead=True)["Item"])
    assert sorted((survivor, gone)) in head["apart"]
    # the merged face stays where it was filed (no other face of `gone` to decide it against, as in the
    # file index), and asking again changes nothing. Which id survived the merge is the tie-break on ids
    # (random): when `gone` is one of the pair's, its own face makes it a person again
    people = index.people()
    assert sum(map(len, people.values())) == 3
    assert len(people) == (3 if gone in {f.person_id for f in pair} else 2)
    assert index.keep_apart(survivor, gone) == []


def test_a_warm_execution_reads_only_what_changed(table):
    """Per-photo reads stay flat as people accumulate: after its first read an execution reads the head
    and the person items other executions wrote, not every person."""
    rng = np.random.default_rng(9)
    bases = [unit(rng.normal(size=128)) for _ in range(6)]
    warm, other = DynamoFaceIndex(table), DynamoFaceIndex(table)
    for n, base in enumerate(bases[:3]):
        warm.add(f"w{n}.jpg", [(BOX, 99.0, near(base, rng))])
    new = other.add("o.jpg", [(BOX, 99.0, near(bases[3], rng))])[0]  # a person the warm one has not seen
    joined = other.add("o2.jpg", [(BOX, 99.0, near(bases[0], rng))])[0]  # a join: no head change
    again = warm.add("w9.jpg", [(BOX, 99.0, near(bases[3], rng))])[0]
    assert again.person_id == new.person_id  # caught up through the head's log
    assert warm.full_reads == 1
    # its cached copy of person 0 is one face behind: joining it fails the version check, is re-read
    late = warm.add("w10.jpg", [(BOX, 99.0, near(bases[0], rng))])[0]
    assert late.person_id == joined.person_id and warm.conflicts >= 1 and warm.full_reads == 1
    assert int(person_items(table)[joined.person_id]["faces"]) == 3
