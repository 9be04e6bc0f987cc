"""The rekognition mode's default face grouping (recognition/face_search.py): SearchFaces, a vote of the
matched faces' people, the face → person map in the catalog table. The recognizer's own code runs against
the Rekognition emulator (a real boto3 client, answered from a before-call hook) and moto's DynamoDB."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from moto import mock_aws

from shoebox import aws
from shoebox.local.rekognition_emulator import Analysis, RekognitionEmulator, SeenFace
from shoebox.local.template import load_template
from shoebox.recognition.base import ImageRef
from shoebox.recognition.external_id import external_image_id
from shoebox.recognition.face_search import PK, FaceMap, Match, choose_person, matches_from
from shoebox.recognition.rate_limit import rate_key
from shoebox.recognition.rekognition import CLIENT_CONFIG, RekognitionRecognizer

BOX = {"Left": 0.1, "Top": 0.1, "Width": 0.2, "Height": 0.2}


# ------------------------------------------------------------------------------------------ pure


def test_the_person_with_the_most_similarity_wins_and_taken_people_are_skipped():
    matches = [Match("f1", 90.0), Match("f2", 85.0), Match("f3", 99.0), Match("f4", 95.0, user_id="person-u")]
    filed = {"f1": "person-a", "f2": "person-a", "f3": "person-b"}
    assert choose_person(matches, filed, set()) == ("person-a", [])  # 175 beats 99 and 95
    assert choose_person(matches, filed, {"person-a"}) == ("person-b", [])
    # a face still associated with a user (grouped with user vectors before the switch) votes for it
    assert choose_person(matches, filed, {"person-a", "person-b"}) == ("person-u", [])


def test_a_tie_goes_to_the_same_person_in_every_execution():
    matches = [Match("f1", 90.0), Match("f2", 90.0)]
    assert choose_person(matches, {"f1": "person-z", "f2": "person-y"}, set())[0] == "person-y"
    assert choose_person(list(reversed(matches)), {"f1": "person-z", "f2": "person-y"}, set())[0] == "person-y"


def test_nobody_filed_returns_the_faces_in_flight():
    matches = [Match("f1", 90.0), Match("f2", 85.0)]
    assert choose_person(matches, {}, set()) == (None, matches)


def test_matches_leave_out_the_photos_own_faces_and_decode_the_photo():
    response = {"FaceMatches": [
        {"Similarity": 97.5, "Face": {"FaceId": "f1", "ExternalImageId": external_image_id("originals/2007/a b.jpg")}},
        {"Similarity": 99.0, "Face": {"FaceId": "own", "ExternalImageId": external_image_id("originals/2007/b.jpg")}},
        {"Similarity": 88.0, "Face": {"FaceId": "f2", "UserId": "person-u", "ExternalImageId": "not:ours"}},
    ]}
    got = matches_from(response, exclude=["own"])
    assert [(m.face_id, m.similarity, m.photo_id, m.user_id) for m in got] == [
        ("f1", 97.5, "originals/2007/a b.jpg", None), ("f2", 88.0, None, "person-u")]


# ---------------------------------------------------------------------------- against the emulator


@pytest.fixture
def setup(monkeypatch):
    """(new recognizer, emulator, images): ``images[key]`` is the comma-separated people a view shows."""
    from shoebox.local import moto_dynamodb

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    images: dict[str, str] = {}
    emulator = RekognitionEmulator(read_object=lambda bucket, key: images[key].encode(),
                                   analyse=lambda data: Analysis(
                                       [{"Name": "Person", "Confidence": 99.0, "Parents": []}],
                                       [SeenFace(BOX, who) for who in data.decode().split(",") if who]))
    client = boto3.session.Session().client("rekognition", region_name="us-east-1", config=CLIENT_CONFIG)
    emulator.attach(client)
    spec = load_template().table
    uninstall = moto_dynamodb.install()  # conditional writes isolated under threads, as the local runtime has
    try:
        with mock_aws():
            aws.reset_clients()
            aws.client("dynamodb").create_table(**spec)
            table = spec["TableName"]

            def new(grouping: str = "faces") -> RekognitionRecognizer:
                return RekognitionRecognizer("faces", client=client, grouping=grouping,
                                             face_map=FaceMap(aws.client("dynamodb"), table))

            yield new, emulator, images
    finally:
        emulator.detach()
        uninstall()
        aws.reset_clients()


def index(rec, images, key, people):
    images[key] = people
    return rec.index_faces(ImageRef("bucket", key), photo_id=f"originals/{key}")


def filed(rec) -> dict[str, str]:
    return {f: p for p, fs in rec.face_map.faces_by_person().items() for f in fs}


def test_faces_of_one_person_group_with_one_search_each_and_no_user(setup):
    new, emulator, images = setup
    rec = new()
    with rec.track() as first_calls:
        (ann,) = index(rec, images, "a.jpg", "ann")
    with rec.track() as second_calls:
        ann2, bob = index(rec, images, "b.jpg", "ann,bob")
    assert ann2.person_id == ann.person_id == f"person-{ann.face_id}"
    assert bob.person_id == f"person-{bob.face_id}"
    assert first_calls == {"IndexFaces": 1, "SearchFaces": 1}
    assert second_calls == {"IndexFaces": 1, "SearchFaces": 2}  # no SearchUsers, no AssociateFaces
    assert not emulator.users
    assert filed(rec) == {ann.face_id: ann.person_id, ann2.face_id: ann.person_id, bob.face_id: bob.person_id}


def test_two_faces_of_one_look_in_one_photo_are_two_people(setup):
    new, _, images = setup
    rec = new()
    (first,) = index(rec, images, "a.jpg", "twin")
    one, other = index(rec, images, "b.jpg", "twin,twin")
    assert one.person_id == first.person_id != other.person_id


def test_switching_from_user_vectors_keeps_the_people(setup):
    new, emulator, images = setup
    (ann,) = index(new("users"), images, "a.jpg", "ann")
    assert emulator.users == {ann.person_id: emulator.users[ann.person_id]}
    rec = new("faces")
    (again,) = index(rec, images, "b.jpg", "ann")
    assert again.person_id == ann.person_id  # the matched face's UserId is the person
    assert filed(rec) == {again.face_id: ann.person_id}


def test_removed_faces_leave_the_collection_and_the_map(setup):
    new, emulator, images = setup
    rec = new()
    (ann,) = index(rec, images, "a.jpg", "ann")
    (ann2,) = index(rec, images, "b.jpg", "ann")
    rec.remove_faces([ann.face_id])
    assert set(emulator.faces) == {ann2.face_id}
    assert filed(rec) == {ann2.face_id: ann.person_id}
    (ann3,) = index(rec, images, "c.jpg", "ann")
    assert ann3.person_id == ann.person_id  # the person lives on in its other face
    # a look-alike filed late by an execution whose search saw the face before it left: refused
    assert rec.face_map.claim(ann.face_id, "person-late", "originals/a.jpg") == "person-late"
    assert ann.face_id not in rec.face_map.get([ann.face_id]) and ann.face_id not in filed(rec)


def test_a_failed_step_rolls_back_its_faces_and_their_items(setup):
    new, emulator, images = setup
    rec = new()
    index(rec, images, "a.jpg", "ann")
    emulator.fault = lambda operation, photo: "ThrottlingException" if operation == "SearchFaces" else None
    with pytest.raises(Exception, match="SearchFaces ThrottlingException"):
        index(rec, images, "b.jpg", "ann,bob")
    emulator.fault = None
    assert {f.photo for f in emulator.faces.values()} == {"originals/a.jpg"}
    assert len(filed(rec)) == 1


def test_people_indexed_at_once_by_many_executions_are_one_person_each(setup):
    """A day's photos of two new guests, filed by 8 executions at once: each guest is one person, exactly."""
    new, emulator, images = setup
    keys = [f"p{i}.jpg" for i in range(24)]
    for i, key in enumerate(keys):
        images[key] = "guest" if i % 2 else "guest,other"
    start = threading.Barrier(8)

    def run(batch: list[str]) -> list:
        rec = new()  # one recognizer per execution, sharing the collection and the table
        start.wait()
        return [f for key in batch for f in rec.index_faces(ImageRef("bucket", key), photo_id=f"originals/{key}")]

    with ThreadPoolExecutor(8) as pool:
        faces = [f for got in pool.map(run, [keys[i::8] for i in range(8)]) for f in got]
    signature = {f.face_id: emulator.faces[f.face_id].signature for f in faces}
    people = {s: {f.person_id for f in faces if signature[f.face_id] == s} for s in ("guest", "other")}
    assert len(faces) == 36
    assert all(len(ids) == 1 for ids in people.values()), people
    assert people["guest"] != people["other"]
    assert filed(new()) == {f.face_id: f.person_id for f in faces}


def test_similar_people_search_one_face_of_each(setup):
    new, emulator, images = setup
    rec = new()
    (ann,) = index(rec, images, "a.jpg", "ann")
    # the same look filed as two people (what `shoebox people merge` is for): the suggestion finds them
    (ann2,) = index(rec, images, "b.jpg", "ann")
    item = {"pk": {"S": PK}, "sk": {"S": ann2.face_id}, "person_id": {"S": "person-split"}}
    aws.client("dynamodb").put_item(TableName=rec.face_map.table, Item=item)
    with rec.track() as used:
        pairs = rec.similar_people([ann.person_id, "person-split"])
    assert [(m.a, m.b, m.similarity) for m in pairs] == [tuple(sorted((ann.person_id, "person-split"))) + (0.99,)]
    assert used == {"SearchFaces": 2}


def test_people_suggest_on_a_deployed_rekognition_stack_asks_its_face_items(setup, monkeypatch):
    """The CLI's backend for a deployed stack builds the recognizer over the stack's table and collection."""
    from shoebox.cli.backends import Backend
    from shoebox.recognition import registry, rekognition

    new, _, images = setup
    rec = new()
    (ann,) = index(rec, images, "a.jpg", "ann")
    (ann2,) = index(rec, images, "b.jpg", "ann")
    item = {"pk": {"S": PK}, "sk": {"S": ann2.face_id}, "person_id": {"S": "person-split"}}
    aws.client("dynamodb").put_item(TableName=rec.face_map.table, Item=item)
    monkeypatch.setattr(registry, "stack_index_recognizer", lambda stack, table: None)  # a rekognition stack
    monkeypatch.setattr(registry, "deployed_calls_per_second", {"shoebox": 5.0}.__getitem__)  # its parameter
    monkeypatch.setattr(rekognition, "_default_client", lambda region: rec.client)  # the emulated collection
    backend = Backend(aws.Endpoint(region="us-east-1"), "shoebox", outputs={
        "BucketName": "bucket", "TableName": rec.face_map.table, "ProcessPhotoStateMachineArn": "arn",
        "CollectionId": "faces"})
    (pair,) = backend.similar_people([ann.person_id, "person-split"])
    assert {pair.a, pair.b} == {ann.person_id, "person-split"} and pair.similarity == 0.99
    # its two SearchFaces took their slots from the stack's shared rate limiter, as the Lambdas' calls do
    slot = aws.client("dynamodb").get_item(TableName=rec.face_map.table, Key=rate_key("SearchFaces"))
    assert "next_at" in slot.get("Item", {})


def test_a_new_person_files_one_look_alike_in_flight_per_photo(setup):
    """Two unfiled look-alikes from one photo (twins whose run is still going): only the more alike one
    joins the new person, the other keeps its own decision."""
    import contextlib

    from shoebox.recognition.face_search import assign

    new, _, _ = setup
    faces = new().face_map
    response = {"FaceMatches": [
        {"Similarity": 95.0, "Face": {"FaceId": "f-twin-2", "ExternalImageId": external_image_id("originals/t.jpg")}},
        {"Similarity": 99.0, "Face": {"FaceId": "f-twin-1", "ExternalImageId": external_image_id("originals/t.jpg")}},
        {"Similarity": 90.0, "Face": {"FaceId": "f-other", "ExternalImageId": external_image_id("originals/o.jpg")}},
    ]}
    person = assign(lambda fid: response, faces, "f-new", "originals/n.jpg", ["f-new"], set(),
                    lambda fid: f"person-{fid}", contextlib.nullcontext)
    assert person == "person-f-new"
    assert faces.get(["f-new", "f-twin-1", "f-twin-2", "f-other"]) == {
        "f-new": person, "f-twin-1": person, "f-other": person}


def _m(fid: str, similarity: float, photo: str, user: str | None = None) -> dict:
    face = {"FaceId": fid, "ExternalImageId": external_image_id(photo), **({"UserId": user} if user else {})}
    return {"Similarity": similarity, "Face": face}


def _assign(faces, fid, photo, photo_faces, taken, *matches):
    import contextlib

    from shoebox.recognition.face_search import assign

    return assign(lambda _: {"FaceMatches": list(matches)}, faces, fid, photo, photo_faces, taken,
                  lambda f: f"person-{f}", contextlib.nullcontext)


def test_a_look_alike_filed_in_flight_is_corrected_by_its_own_photo(setup):
    """Twins t1, t2 in t.jpg, still in flight when a new face `a` files t1 under its new person. t.jpg's own
    step handles t2 first, which joins person-a through `a`; t1 then may not be person-a too."""
    new, _, _ = setup
    faces = new().face_map
    assert _assign(faces, "a", "originals/n.jpg", ["a"], set(),
                   _m("t1", 99, "originals/t.jpg"), _m("t2", 95, "originals/t.jpg")) == "person-a"
    assert faces.filings(["t1"]) == {"t1": ("person-a", True)}  # provisional
    taken: set[str] = set()
    taken.add(_assign(faces, "t2", "originals/t.jpg", ["t1", "t2"], taken, _m("a", 95, "originals/n.jpg")))
    t1 = _assign(faces, "t1", "originals/t.jpg", ["t1", "t2"], taken, _m("a", 99, "originals/n.jpg"))
    assert taken == {"person-a"} and t1 == "person-t1"
    assert faces.filings(["t1", "t2"]) == {"t1": ("person-t1", False), "t2": ("person-a", False)}


def test_a_look_alike_filed_in_flight_follows_its_own_matches(setup):
    """`b` was filed provisionally under a new person, but its own search finds an established person."""
    new, _, _ = setup
    faces = new().face_map
    faces.claim("y1", "person-y", "originals/y1.jpg")
    faces.claim("y2", "person-y", "originals/y2.jpg")
    _assign(faces, "a", "originals/a.jpg", ["a"], set(), _m("b", 85, "originals/b.jpg"))
    assert faces.get(["b"]) == {"b": "person-a"}
    assert _assign(faces, "b", "originals/b.jpg", ["b"], set(), _m("y1", 97, "originals/y1.jpg"),
                   _m("y2", 96, "originals/y2.jpg")) == "person-y"
    # with nothing better it adopts the new person, and a replay of its step keeps that
    _assign(faces, "c", "originals/c.jpg", ["c"], set(), _m("d", 90, "originals/d.jpg"))
    assert _assign(faces, "d", "originals/d.jpg", ["d"], set()) == "person-c"
    assert _assign(faces, "d", "originals/d.jpg", ["d"], set()) == "person-c"
    assert faces.filings(["b", "d"]) == {"b": ("person-y", False), "d": ("person-c", False)}


def test_faces_grouped_before_the_map_count_for_their_catalog_person(setup):
    """A stack switching from user vectors: a person's faces beyond the ten its vector holds have no UserId
    and no item; the catalog's row of their photo (PHOTOFACES) says whose they are."""
    import json

    new, _, _ = setup
    faces = new().face_map
    row = {"pk": {"S": "PHOTOFACES#originals/old.jpg"}, "sk": {"S": "FACES"},
           "faces": {"S": json.dumps([["person-old", "2007-06-09T10:00:00#originals/old.jpg#f-old"]])}}
    aws.client("dynamodb").put_item(TableName=faces.table, Item=row)
    assert _assign(faces, "f-new", "originals/new.jpg", ["f-new"], set(),
                   _m("f-old", 97, "originals/old.jpg")) == "person-old"
    # and a face in a user vector counts for its user
    assert _assign(faces, "f-3", "originals/3.jpg", ["f-3"], set(),
                   _m("f-u", 97, "originals/u.jpg", user="person-u")) == "person-u"
