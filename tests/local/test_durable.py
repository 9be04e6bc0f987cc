"""The durable store's files: frames, torn tails, snapshots, and homes written in the earlier JSON format."""

from __future__ import annotations

import json
import pickle

import pytest

from shoebox.local import LocalRuntime
from shoebox.local.durable import DurableStore, Journal, attr_key, frame, read_frames


def _item(pk: str, sk: str, **extra: dict) -> tuple:
    return ("item", "T", attr_key({"pk": {"S": pk}, "sk": {"S": sk}}),
            (("pk", "S", pk), ("sk", "S", sk), *((k, *next(iter(v.items()))) for k, v in extra.items())))


def test_a_torn_or_corrupt_last_frame_is_ignored(tmp_path):
    path = tmp_path / "journal-1.bin"
    journal = Journal(path)
    journal.sync(journal.append_records([_item("a", "1")]))
    journal.sync(journal.append_records([_item("a", "2"), _item("a", "3")]))
    journal.close()
    whole = path.read_bytes()
    assert [len(records) for records in read_frames(path)] == [1, 2]
    second = len(whole) - len(frame([_item("a", "1")]))
    for cut in (1, 5, second - 8, second - 3):  # inside the payload, right after the header, inside the header
        path.write_bytes(whole[:-cut])
        assert [len(records) for records in read_frames(path)] == [1]
    flipped = bytearray(whole)
    flipped[-3] ^= 0xFF  # a bit gone wrong in the last frame's payload: its checksum says so
    path.write_bytes(bytes(flipped))
    assert [len(records) for records in read_frames(path)] == [1]


def test_frames_refuse_anything_but_plain_data(tmp_path):
    payload = pickle.dumps([("item", "T", (), ()), pytest.approx(1)])  # names a class
    path = tmp_path / "journal-1.bin"
    path.write_bytes(frame([("item", "T", (), ())]) + len(payload).to_bytes(4, "little")
                     + __import__("zlib").crc32(payload).to_bytes(4, "little") + payload)
    assert [len(records) for records in read_frames(path)] == [1]  # the second frame is refused, not loaded


def test_snapshot_then_journal_replay_gives_the_last_write(tmp_path):
    store = DurableStore(tmp_path)
    assert store.load().items == {}
    store.journal.sync(store.journal.append_records([_item("p", "1", n={"N": "1"}), _item("p", "2")]))
    store.close()
    store = DurableStore(tmp_path)
    state = store.load()  # journal 1 replayed; journal 2 opened
    store.snapshot_in_background(state)
    store.wait_for_snapshot()
    store.journal.sync(store.journal.append_records([_item("p", "1", n={"N": "2"}),
                                                     ("gone", "T", attr_key({"pk": {"S": "p"}, "sk": {"S": "2"}}))]))
    store.close()
    assert sorted(p.name for p in (tmp_path / "state").glob("*-*")) == ["journal-2.bin", "snapshot-1.bin"]
    state = DurableStore(tmp_path).load()
    (key, attrs), = state.items["T"].items()
    assert dict((name, value) for name, _, value in attrs)["n"] == "2"


def test_a_home_in_the_earlier_json_format_loads_and_moves_to_the_binary_one(home):
    """JSON lines (the format before frames): a snapshot with its end line, and a journal after it."""
    state = home / "state"
    (state / "bodies").mkdir(parents=True)
    (state / "bodies" / "b1").write_bytes(b"photo")
    key_json = json.dumps({"pk": {"S": "X"}, "sk": {"S": "Y"}}, separators=(",", ":"))
    snapshot = [{"o": "header", "gen": 1},
                {"o": "put", "b": "shoebox-local-photobucket", "k": "originals/a.jpg", "f": "b1", "e": "e1",
                 "s": 5, "m": {"content-type": "image/jpeg"}, "t": "2024-01-02T03:04:05", "v": None,
                 "sc": "STANDARD", "ca": None, "cv": None},
                {"o": "item", "t": "shoebox-local-CatalogTable", "k": key_json,
                 "i": {"pk": {"S": "X"}, "sk": {"S": "Y"}, "n": {"N": "1"}, "l": {"L": [{"S": "a"}]}}},
                {"o": "end"}]
    (state / "snapshot-1.jsonl").write_text("".join(json.dumps(line) + "\n" for line in snapshot))
    journal = [{"o": "item", "t": "shoebox-local-CatalogTable", "k": key_json,
                "i": {"pk": {"S": "X"}, "sk": {"S": "Y"}, "n": {"N": "2"}, "l": {"L": [{"S": "b"}]}}}]
    (state / "journal-2.jsonl").write_text("".join(json.dumps(line) + "\n" for line in journal) + '{"o": "item", "t')
    from shoebox import aws

    for _ in range(2):  # the second start reads what the first one's snapshot wrote
        with LocalRuntime(home, recognizer="none", workflows=False) as rt:
            assert rt.s3.get_object(Bucket=rt.bucket, Key="originals/a.jpg")["Body"].read() == b"photo"
            item = aws.client("dynamodb").get_item(TableName=rt.table, Key={"pk": {"S": "X"}, "sk": {"S": "Y"}})
            assert item["Item"]["n"] == {"N": "2"} and item["Item"]["l"] == {"L": [{"S": "b"}]}
            rt.store.wait_for_snapshot()
    names = sorted(p.name for p in state.glob("*-*"))
    assert not [n for n in names if n.endswith(".jsonl")], names
