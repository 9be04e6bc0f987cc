"""Person×person×label triple rows: one per person pair and label up to the cap, overflow rows beyond it,
group rows per label for group photos (over the person×person cap), overflow and group rows counted in
VOCAB."""

from __future__ import annotations

from shoebox.catalog import keys
from shoebox.models import PhotoRecord


def record(people, labels, key="originals/2019/07/14/IMG_0001.JPG") -> PhotoRecord:
    return PhotoRecord(
        key=key, status="processed", etag="e1", format="jpeg", kind="lossy", taken_at="2019-07-14T10:00:00",
        camera="NIKON D70", place=None, labels=[{"name": n, "confidence": 90.0} for n in labels],
        faces=[{"face_id": f"f{i}", "person_id": p} for i, p in enumerate(people)], pipeline_version=3)


def triples(parts):
    return [p for p in parts if p.count(keys.PAIR) == 2 and not p.startswith(keys.GROUP)]


def groups(parts):
    return [p for p in parts if p.startswith(keys.GROUP + keys.PAIR)]


def test_two_people_three_labels_write_three_triples_people_sorted():
    parts = keys.index_partitions(record(["tom", "natalie"], ["Beach", "Dog", "Sea"]))
    assert sorted(triples(parts)) == ["PERSON#natalie&PERSON#tom&LABEL#beach",
                                      "PERSON#natalie&PERSON#tom&LABEL#dog",
                                      "PERSON#natalie&PERSON#tom&LABEL#sea"]
    assert keys.triple_pk("PERSON#tom", "PERSON#natalie", "LABEL#dog") == "PERSON#natalie&PERSON#tom&LABEL#dog"
    # the pairs are still there
    assert "PERSON#natalie&PERSON#tom" in parts and "PERSON#tom&LABEL#beach" in parts
    # one person or no label: no triples
    assert not triples(keys.index_partitions(record(["tom"], ["Beach", "Dog"])))
    assert not triples(keys.index_partitions(record(["tom", "natalie"], [])))


def test_three_people_write_one_triple_per_person_pair_and_label():
    parts = keys.index_partitions(record(["a", "b", "c"], ["Dog", "Cat"]))
    assert len(triples(parts)) == 3 * 2
    assert "PERSON#a&PERSON#c&LABEL#cat" in parts


def test_over_the_cap_one_overflow_row_per_person_pair():
    people = ["p-0", "p-1", "p-2", "p-3", "p-4"]          # 10 person pairs
    labels = [f"L{i}" for i in range(7)]                  # 10 × 7 = 70 > TRIPLE_CAP
    parts = keys.index_partitions(record(people, labels))
    assert len(people) * (len(people) - 1) // 2 * len(labels) > keys.TRIPLE_CAP
    assert sorted(triples(parts)) == sorted(f"PERSON#{a}&PERSON#{b}&LABEL#*"
                                            for i, a in enumerate(people) for b in people[i + 1:])
    assert keys.triple_overflow_pk("PERSON#p-1", "PERSON#p-0") == "PERSON#p-0&PERSON#p-1&LABEL#*"
    # at the cap: every triple
    assert len(triples(keys.index_partitions(record(people, labels[:6])))) == keys.TRIPLE_CAP
    # overflow rows are counted (planner estimates), triple rows are not (like pair rows)
    assert set(triples(parts)) <= set(keys.counted(parts))
    assert not triples(keys.counted(keys.index_partitions(record(people, labels[:6]))))


def test_group_photo_writes_one_group_row_per_label_not_triples():
    people = [f"p-{i}" for i in range(7)]                 # 21 person pairs > person×person cap 15
    parts = keys.index_partitions(record(people, ["Beach", "Dog"]))
    assert not triples(parts)
    assert sorted(groups(parts)) == ["PERSON#*&PERSON#*&LABEL#beach", "PERSON#*&PERSON#*&LABEL#dog"]
    assert "PERSON#p-0&PERSON#*" in parts and "PERSON#p-6&PERSON#*" in parts
    assert set(groups(parts)) <= set(keys.counted(parts))
    over = keys.index_partitions(record(people, [f"L{i}" for i in range(keys.GROUP_CAP + 1)]))
    assert groups(over) == ["PERSON#*&PERSON#*&LABEL#*"]
    assert not groups(keys.index_partitions(record(people[:6], ["Beach"])))
    # 6 people × 60-row cap: 15 pairs × 4 labels = 60 triples, × 5 labels = 15 overflow rows
    assert len(triples(keys.index_partitions(record(people[:6], ["a", "b", "c", "d"])))) == 60
    assert len(triples(keys.index_partitions(record(people[:6], ["a", "b", "c", "d", "e"])))) == 15


def test_put_photo_counts_triple_overflow_partitions(catalog):
    people = ["p-0", "p-1", "p-2", "p-3", "p-4"]
    catalog.put_photo(record(people, [f"L{i}" for i in range(7)]))
    catalog.put_photo(record(["p-0", "p-1"], ["L0"], key="originals/2019/07/15/IMG_0002.JPG"))
    counts = {pk: v["n"] for pk, v in catalog.vocabulary()[0].items()}
    assert counts["PERSON#p-0&PERSON#p-1&LABEL#*"] == 1
    assert "PERSON#p-0&PERSON#p-1&LABEL#l0" not in counts
    catalog.put_photo(record([f"g-{i}" for i in range(8)], ["L0"], key="originals/2019/07/16/IMG_0003.JPG"))
    counts = {pk: v["n"] for pk, v in catalog.vocabulary()[0].items()}
    assert counts["PERSON#*&PERSON#*&LABEL#l0"] == 1
