"""Catalog writes: idempotent re-puts, composite rows and their overflow, VOCAB counts, VIEWED moves."""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest

from shoebox.catalog import keys
from shoebox.catalog.store import build_items
from shoebox.models import PhotoRecord

PARIS = {"city": "Paris", "region": "Île-de-France", "country": "France", "country_code": "FR"}
ROME = {"city": "Rome", "region": "Lazio", "country": "Italy", "country_code": "IT"}


def record(key="originals/2009/06/21/cat.jpg", taken="2009-06-21T16:05:00", labels=("Cat", "Pet"),
           people=("p-1",), place=PARIS, camera="NIKON D70", status="processed") -> PhotoRecord:
    return PhotoRecord(
        key=key, status=status, etag="e1", format="jpeg", kind="lossy", taken_at=taken, camera=camera,
        place=dict(place) if place else None, labels=[{"name": n, "confidence": 90.0} for n in labels],
        faces=[{"face_id": f"f{i}", "person_id": p} for i, p in enumerate(people)],
        thumbnails={"grid": {"key": f"thumbnails/grid/{key}"}}, pipeline_version=3)


def rows_by_pk(items):
    return Counter(i["pk"]["S"] for i in items if i["sk"]["S"] not in (keys.PHOTO_SK,) and i["pk"]["S"] != keys.VOCAB_PK)


def vocab(catalog):
    return {pk: v["n"] for pk, v in catalog.vocabulary()[0].items()}


def test_partitions_use_place_keys_and_pairs():
    parts = keys.index_partitions(record())
    assert "PLACE#FR" in parts and "PLACE#FR/Île-de-France" in parts and "PLACE#FR/Île-de-France/Paris" in parts
    assert "LABEL#cat" in parts and "PERSON#p-1" in parts and "MD#06-21" in parts and "YEAR#2009" in parts
    assert "PERSON#p-1&LABEL#cat" in parts and "LABEL#pet&PLACE#FR/Île-de-France/Paris" in parts
    assert "PERSON#p-1&PLACE#FR" in parts
    assert keys.pair_pk("LABEL#cat", "PERSON#p-1") == keys.pair_pk("PERSON#p-1", "LABEL#cat")
    # 2 labels, 1 person, 3 place levels: 2 + 3 + 6 composites
    assert sum(1 for p in parts if keys.PAIR in p) == 11


def test_re_put_replaces_rows_never_duplicates(catalog, table_items):
    first = record()
    catalog.put_photo(copy.deepcopy(first))
    before = table_items()
    catalog.put_photo(copy.deepcopy(first))  # same record again (a Lambda retry, a re-run)
    def rows(items):  # the photo item's doc carries updated_at; every other item must be identical
        return sorted(json.dumps(i, sort_keys=True) for i in items if i["sk"]["S"] != keys.PHOTO_SK)

    assert rows(table_items()) == rows(before)
    assert len(table_items()) == len(before)
    photo = next(i for i in before if i["sk"]["S"] == keys.PHOTO_SK)
    listed = set(photo["index_rows"]["SS"])
    actual = {f'{i["pk"]["S"]}|{i["sk"]["S"]}' for i in before if i["pk"]["S"] not in (keys.VOCAB_PK,)
              and i["sk"]["S"] != keys.PHOTO_SK}
    assert listed == actual
    assert all(n == 1 for n in rows_by_pk(before).values())

    # re-processed: different labels, date and place → stale rows deleted, new ones written, once each
    changed = record(taken="2012-03-11T08:40:00", labels=("Coffee",), place=ROME, people=())
    catalog.put_photo(changed)
    after = table_items()
    pks = rows_by_pk(after)
    assert all(n == 1 for n in pks.values())
    assert not any(pk.startswith(("LABEL#cat", "LABEL#pet", "PERSON#", "PLACE#FR", "YEAR#2009", "MD#06-21"))
                   for pk in pks)
    assert {"LABEL#coffee", "PLACE#IT/Lazio/Rome", "YEAR#2012", "MD#03-11", "LABEL#coffee&PLACE#IT"} <= set(pks)
    photo = next(i for i in after if i["sk"]["S"] == keys.PHOTO_SK)
    assert len(photo["index_rows"]["SS"]) == sum(pks.values())
    assert photo["pipeline_version"]["N"] == "3"
    counts = vocab(catalog)
    assert counts["LABEL#coffee"] == 1 and "LABEL#cat" not in counts and "PERSON#p-1" not in counts
    assert counts[keys.ALL_COUNT] == 1


def test_failed_photo_leaves_only_the_sparse_index(catalog, table_items):
    catalog.put_photo(record())
    failed = record(status="failed")
    failed.error = "CorruptImage: truncated"
    catalog.put_photo(failed)
    items = table_items()
    assert [i["pk"]["S"] for i in items if i["pk"]["S"] != keys.VOCAB_PK] == [keys.photo_pk(failed.key)]
    assert [r.key for r in catalog.list_failed()] == [failed.key]
    assert vocab(catalog) == {}


def test_big_group_photo_writes_overflow_rows_not_every_pair():
    people = tuple(f"p-{i}" for i in range(10))  # 45 person pairs > cap 15
    labels = tuple(f"L{i}" for i in range(25))   # 25 labels × 3 place levels = 75 > cap 60
    parts = keys.index_partitions(record(people=people, labels=labels))
    assert not any(p.startswith("PERSON#p-0&PERSON#p-1") for p in parts)
    assert sum(p.endswith("&PERSON#*") for p in parts) == 10
    assert sum(p.endswith("&LABEL#*") and not p.startswith(keys.GROUP) for p in parts) == 10  # 10 × 25 > 60
    assert sum(p.endswith("&PLACE#*") and p.startswith("LABEL#") for p in parts) == 25
    assert "PERSON#p-0&PLACE#FR" in parts                            # 10 × 3 = 30 ≤ 30
    assert len(parts) < 120


def test_mark_viewed_moves_the_viewed_row(catalog, table_items):
    a = record()
    b = record(key="originals/2012/03/11/coffee.jpg", taken="2012-03-11T08:40:00", labels=("Coffee",))
    catalog.put_photo(a)
    catalog.put_photo(b)
    order = [r["key"] for r in catalog.query_partition(keys.VIEWED_PK, newest_first=False)]
    assert order == [a.key, b.key]  # never viewed: oldest capture first
    catalog.mark_viewed(a.key, "2024-01-01T00:00:00")
    order = [r["key"] for r in catalog.query_partition(keys.VIEWED_PK, newest_first=False)]
    assert order == [b.key, a.key]
    viewed = [i for i in table_items() if i["pk"]["S"] == keys.VIEWED_PK]
    assert len(viewed) == 2
    catalog.put_photo(record())  # re-processing keeps the view
    assert [r["key"] for r in catalog.query_partition(keys.VIEWED_PK, newest_first=False)] == [b.key, a.key]
    assert len([i for i in table_items() if i["pk"]["S"] == keys.VIEWED_PK]) == 2


def _untracked(catalog, key):
    """Make the photo item look written before versions were kept (no ``cv``, no ``counted``)."""
    catalog.client.update_item(TableName=catalog.table, Key={"pk": {"S": keys.photo_pk(key)}, "sk": {"S": keys.PHOTO_SK}},
                               UpdateExpression="REMOVE cv, counted")


@pytest.mark.parametrize("untracked", [False, True])
@pytest.mark.parametrize("window", ["_get_raw", "_put_if_version"])
def test_a_view_landing_while_the_photo_is_rewritten_is_kept(catalog, table_items, monkeypatch, window, untracked):
    """The view lands after a re-process read the photo item (``_get_raw``), or after it wrote the item
    and before the VIEWED row (``_put_if_version``): the re-process starts over on the viewed item
    instead of restoring the old view (which left the new VIEWED row listed by no photo: the photo twice
    in "recently viewed"). Also for an item written before versions were kept; its counts stay exact."""
    catalog.put_photo(record())
    catalog.mark_viewed(record().key, "2023-01-01T00:00:00")
    before = vocab(catalog)
    if untracked:
        _untracked(catalog, record().key)
    real, fired = getattr(catalog, window), []

    def view_first(*args, **kwargs):
        if not fired:
            fired.append(args)
            if window == "_get_raw":  # after the read
                raw = real(*args, **kwargs)
                catalog.mark_viewed(record().key, "2024-01-01T00:00:00")
                return raw
            catalog.mark_viewed(record().key, "2024-01-01T00:00:00")
        return real(*args, **kwargs)

    monkeypatch.setattr(catalog, window, view_first)
    catalog.put_photo(record())
    monkeypatch.undo()
    assert fired
    viewed = [i for i in table_items() if i["pk"]["S"] == keys.VIEWED_PK]
    assert [i["sk"]["S"].split("#")[1] for i in viewed] == ["2024-01-01T00:00:00"]
    assert catalog._get_raw(record().key)["last_viewed"]["S"] == "2024-01-01T00:00:00"
    assert vocab(catalog) == before


def test_a_view_of_an_old_item_deleted_meanwhile_does_not_bring_it_back(catalog, table_items, monkeypatch):
    from botocore.exceptions import ClientError

    catalog.put_photo(record())
    _untracked(catalog, record().key)
    real = catalog._get_raw

    def read_then_deleted(key):
        raw = real(key)
        monkeypatch.setattr(catalog, "_get_raw", real)
        catalog.delete_photo(key)
        return raw

    monkeypatch.setattr(catalog, "_get_raw", read_then_deleted)
    with pytest.raises(ClientError, match="no photo"):
        catalog.mark_viewed(record().key, "2024-01-01T00:00:00")
    assert [i for i in table_items() if i["pk"]["S"] != keys.VOCAB_PK] == []
    assert set(vocab(catalog).values()) <= {0}


def test_delete_photo_removes_every_row(catalog, table_items):
    catalog.put_photo(record())
    catalog.delete_photo(record().key)
    assert [i for i in table_items() if i["pk"]["S"] != keys.VOCAB_PK] == []
    assert vocab(catalog) == {}


def test_build_items_is_what_put_photo_writes(catalog, table_items):
    rec = record()
    catalog.put_photo(copy.deepcopy(rec))
    rec.updated_at = catalog.get_photo(rec.key).updated_at
    item, rows = build_items(rec)
    stored = {(i["pk"]["S"], i["sk"]["S"]): i for i in table_items() if i["pk"]["S"] != keys.VOCAB_PK}
    assert {(r["pk"]["S"], r["sk"]["S"]): r for r in rows + [item]} == stored


def test_update_photo_reapplies_its_change_to_a_record_written_meanwhile(catalog):
    """A read-modify-write (the people CLI re-filing a face) racing a re-process of the same photo: the
    re-process's record is kept and the change is applied to it, not to the record read before it."""
    key = "originals/2009/06/21/cat.jpg"
    catalog.put_photo(record(key, labels=("Cat",), people=("p-1",)))
    seen: list[list[str]] = []

    def move_face(rec: PhotoRecord) -> bool:
        seen.append(rec.label_names)
        if len(seen) == 1:  # the re-process lands between our read and our write
            catalog.put_photo(record(key, labels=("Cat", "Sofa"), people=("p-1",)))
        rec.faces[0]["person_id"] = "p-2"
        return True

    written = catalog.update_photo(key, move_face)
    assert seen == [["Cat"], ["Cat", "Sofa"]]  # read again after the conflict
    stored = catalog.get_photo(key)
    assert stored.label_names == ["Cat", "Sofa"] and stored.faces[0]["person_id"] == "p-2"
    assert written.to_dict() == stored.to_dict()
    assert "PERSON#p-2" in keys.index_partitions(stored)
    assert vocab(catalog).get("PERSON#p-2") == 1 and "PERSON#p-1" not in vocab(catalog)
    assert vocab(catalog)["LABEL#sofa"] == 1


def test_update_photo_writes_nothing_when_nothing_changes_or_the_photo_is_unknown(catalog, table_items):
    key = "originals/2009/06/21/cat.jpg"
    catalog.put_photo(record(key))
    before = table_items()
    assert catalog.update_photo(key, lambda rec: False) is None
    assert table_items() == before
    assert catalog.update_photo("originals/2001/01/01/none.jpg", lambda rec: True) is None
