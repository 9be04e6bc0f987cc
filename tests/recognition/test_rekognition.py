"""The Rekognition backend, against botocore's Stubber (real response shapes, exact requests) and, for
DetectLabels, moto (the only call here that moto's rekognition implements)."""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.loaders import Loader
from botocore.stub import Stubber
from moto import mock_aws

from shoebox.errors import RecognitionError, RecognitionThrottled
from shoebox.recognition.base import Face, ImageRef, Label
from shoebox.recognition.rekognition import (
    DEFAULT_FACE_MATCH_THRESHOLD,
    RekognitionRecognizer,
    external_image_id,
    has_person,
    person_id_for_face,
    photo_id_from_external_image_id,
)
from shoebox.recognition.user_vectors import token as _token

COLLECTION = "shoebox-test-faces"
BUCKET = "shoebox-photos"
PHOTO = "originals/2007/06/09/IMG_0042.JPG"
VIEW = ImageRef(bucket=BUCKET, key="thumbnails/2007/06/09/IMG_0042.JPG.jpg")
S3_IMAGE = {"S3Object": {"Bucket": BUCKET, "Name": VIEW.key}}

FACE_A = "11111111-1111-4111-8111-111111111111"
FACE_B = "22222222-2222-4222-8222-222222222222"
IMAGE_ID = "99999999-9999-4999-8999-999999999999"
NATALIE = "person-aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
SISTER = "person-bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"

SERVICE_MODEL = Loader().load_service_model("rekognition", "service-2")


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return boto3.session.Session().client("rekognition", region_name="us-east-1")


@pytest.fixture
def stub(client):
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def rec(client):
    # the user-vector grouping's association flow itself; the cap on associations per user (ListFaces) has
    # its own tests below; the default grouping (SearchFaces) is tested in test_face_search.py
    return RekognitionRecognizer(COLLECTION, client=client, user_vector_faces=0, grouping="users")


# ------------------------------------------------------------------------------ response builders


def bbox(left, top, width, height):
    return {"Width": width, "Height": height, "Left": left, "Top": top}


def face_record(face_id, box, confidence=99.98):
    """One IndexFaces FaceRecord as Rekognition returns it with DetectionAttributes=DEFAULT."""
    return {
        "Face": {
            "FaceId": face_id,
            "BoundingBox": box,
            "ImageId": IMAGE_ID,
            "ExternalImageId": external_image_id(PHOTO),
            "Confidence": confidence,
        },
        "FaceDetail": {
            "BoundingBox": box,
            "Landmarks": [
                {"Type": "eyeLeft", "X": 0.41, "Y": 0.32},
                {"Type": "eyeRight", "X": 0.47, "Y": 0.33},
                {"Type": "mouthLeft", "X": 0.42, "Y": 0.41},
                {"Type": "mouthRight", "X": 0.46, "Y": 0.42},
                {"Type": "nose", "X": 0.44, "Y": 0.37},
            ],
            "Pose": {"Roll": -2.1, "Yaw": 7.9, "Pitch": 4.4},
            "Quality": {"Brightness": 71.2, "Sharpness": 86.9},
            "Confidence": confidence,
        },
    }


def index_response(*records, unindexed=()):
    return {
        "FaceRecords": list(records),
        "OrientationCorrection": "ROTATE_0",
        "FaceModelVersion": "7.0",
        "UnindexedFaces": list(unindexed),
    }


def index_request(photo_id=PHOTO):
    return {
        "CollectionId": COLLECTION,
        "Image": S3_IMAGE,
        "ExternalImageId": external_image_id(photo_id),
        "MaxFaces": 15,
        "QualityFilter": "AUTO",
        "DetectionAttributes": ["DEFAULT"],
    }


def search_request(face_id):
    return {
        "CollectionId": COLLECTION,
        "FaceId": face_id,
        "UserMatchThreshold": DEFAULT_FACE_MATCH_THRESHOLD,
        "MaxUsers": 5,
    }


def search_response(face_id, *matches):
    return {
        "UserMatches": [
            {"Similarity": similarity, "User": {"UserId": user_id, "UserStatus": "ACTIVE"}}
            for user_id, similarity in matches
        ],
        "FaceModelVersion": "7.0",
        "SearchedFace": {"FaceId": face_id},
    }


def associate_request(user_id, face_id):
    return {
        "CollectionId": COLLECTION,
        "UserId": user_id,
        "FaceIds": [face_id],
        "UserMatchThreshold": DEFAULT_FACE_MATCH_THRESHOLD,
        "ClientRequestToken": _token("AssociateFaces", user_id, face_id),
    }


def associated(face_id):
    return {"AssociatedFaces": [{"FaceId": face_id}], "UnsuccessfulFaceAssociations": [], "UserStatus": "UPDATING"}


# ------------------------------------------------------------------------------------------ labels


def test_detect_labels_sends_view_image_and_keeps_parents(stub, rec):
    stub.add_response(
        "detect_labels",
        {
            "Labels": [
                {
                    "Name": "Dog",
                    "Confidence": 97.3,
                    "Instances": [{"BoundingBox": bbox(0.1, 0.2, 0.5, 0.6), "Confidence": 97.3}],
                    "Parents": [{"Name": "Animal"}, {"Name": "Canine"}, {"Name": "Mammal"}, {"Name": "Pet"}],
                    "Aliases": [{"Name": "Puppy"}],
                    "Categories": [{"Name": "Animals and Pets"}],
                },
                {
                    "Name": "Beach",
                    "Confidence": 99.1,
                    "Instances": [],
                    "Parents": [{"Name": "Coast"}, {"Name": "Nature"}, {"Name": "Outdoors"}],
                    "Aliases": [],
                    "Categories": [{"Name": "Nature and Outdoors"}],
                },
                {
                    "Name": "Animal",
                    "Confidence": 97.3,
                    "Instances": [],
                    "Parents": [],
                    "Aliases": [],
                    "Categories": [{"Name": "Animals and Pets"}],
                },
            ],
            "LabelModelVersion": "3.0",
        },
        {"Image": S3_IMAGE, "MinConfidence": 70.0, "MaxLabels": 50},
    )

    labels = rec.detect_labels(VIEW)

    assert labels == [
        Label("Beach", 99.1, ["Coast", "Nature", "Outdoors"]),
        Label("Dog", 97.3, ["Animal", "Canine", "Mammal", "Pet"]),
        Label("Animal", 97.3, []),
    ]
    assert rec.calls() == {"DetectLabels": 1}


def test_detect_labels_against_moto(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("SHOEBOX_COLLECTION_ID", COLLECTION)
    monkeypatch.setenv("SHOEBOX_MIN_CONFIDENCE", "55")
    with mock_aws():
        client = boto3.session.Session().client("rekognition", region_name="us-east-1")
        rec = RekognitionRecognizer.from_env(client=client)
        labels = rec.detect_labels(VIEW)
    # moto answers every DetectLabels with its canned "Mobile Phone" label
    assert labels == [Label("Mobile Phone", 99.9364013671875, ["Phone"])]
    assert rec.min_confidence == 55.0
    assert rec.calls() == {"DetectLabels": 1}


def test_has_person():
    assert has_person([Label("Person", 99.0)])
    assert has_person([Label("Adult", 98.0, ["Person"])])
    assert not has_person([Label("Dog", 97.0, ["Animal", "Pet"]), Label("Beach", 90.0, ["Nature"])])
    assert not has_person([])


# ----------------------------------------------------------------------------------------- faces


def test_no_faces_makes_no_grouping_calls(stub, rec):
    stub.add_response(
        "index_faces",
        index_response(
            unindexed=[
                {
                    "Reasons": ["SMALL_BOUNDING_BOX", "LOW_SHARPNESS"],
                    "FaceDetail": {"BoundingBox": bbox(0.9, 0.9, 0.02, 0.03), "Confidence": 61.0},
                }
            ]
        ),
        index_request(),
    )

    assert rec.index_faces(VIEW, PHOTO) == []
    assert rec.calls() == {"IndexFaces": 1}


def test_face_matching_an_existing_person_joins_that_person(stub, rec):
    box = bbox(0.3848, 0.2167, 0.1219, 0.2631)
    stub.add_response("index_faces", index_response(face_record(FACE_A, box, 99.99)), index_request())
    stub.add_response("search_users", search_response(FACE_A, (NATALIE, 96.7)), search_request(FACE_A))
    stub.add_response("associate_faces", associated(FACE_A), associate_request(NATALIE, FACE_A))

    faces = rec.index_faces(VIEW, PHOTO)

    assert faces == [
        Face(
            face_id=FACE_A,
            bbox={"left": 0.3848, "top": 0.2167, "width": 0.1219, "height": 0.2631},
            confidence=99.99,
            person_id=NATALIE,
        )
    ]
    assert rec.calls() == {"IndexFaces": 1, "SearchUsers": 1, "AssociateFaces": 1}


def test_new_face_creates_a_person_named_after_it(stub, rec):
    stub.add_response("index_faces", index_response(face_record(FACE_A, bbox(0.1, 0.1, 0.2, 0.3))), index_request())
    stub.add_response("search_users", search_response(FACE_A), search_request(FACE_A))
    new_person = person_id_for_face(FACE_A)
    stub.add_response(
        "create_user",
        {},
        {"CollectionId": COLLECTION, "UserId": new_person, "ClientRequestToken": _token("CreateUser", new_person)},
    )
    stub.add_response("associate_faces", associated(FACE_A), associate_request(new_person, FACE_A))

    [face] = rec.index_faces(VIEW, PHOTO)

    assert face.person_id == new_person == "person-" + FACE_A
    assert re.fullmatch(SERVICE_MODEL["shapes"]["UserId"]["pattern"], new_person)
    assert rec.calls() == {"IndexFaces": 1, "SearchUsers": 1, "CreateUser": 1, "AssociateFaces": 1}


def test_two_faces_in_one_photo_are_never_the_same_person(stub, rec):
    """Sisters in one photo: the second face's best match is the person already given to the first."""
    stub.add_response(
        "index_faces",
        index_response(face_record(FACE_A, bbox(0.1, 0.1, 0.2, 0.3)), face_record(FACE_B, bbox(0.6, 0.1, 0.2, 0.3))),
        index_request(),
    )
    stub.add_response("search_users", search_response(FACE_A, (NATALIE, 97.0)), search_request(FACE_A))
    stub.add_response("associate_faces", associated(FACE_A), associate_request(NATALIE, FACE_A))
    stub.add_response(
        "search_users", search_response(FACE_B, (NATALIE, 88.0), (SISTER, 86.5)), search_request(FACE_B)
    )
    stub.add_response("associate_faces", associated(FACE_B), associate_request(SISTER, FACE_B))

    faces = rec.index_faces(VIEW, PHOTO)

    assert [(f.face_id, f.person_id) for f in faces] == [(FACE_A, NATALIE), (FACE_B, SISTER)]


def test_association_refused_for_low_confidence_falls_back_to_a_new_person(stub, rec):
    stub.add_response("index_faces", index_response(face_record(FACE_A, bbox(0.1, 0.1, 0.2, 0.3))), index_request())
    stub.add_response("search_users", search_response(FACE_A, (NATALIE, 80.2)), search_request(FACE_A))
    stub.add_response(
        "associate_faces",
        {
            "AssociatedFaces": [],
            "UnsuccessfulFaceAssociations": [
                {"FaceId": FACE_A, "UserId": NATALIE, "Confidence": 79.1, "Reasons": ["LOW_MATCH_CONFIDENCE"]}
            ],
            "UserStatus": "ACTIVE",
        },
        associate_request(NATALIE, FACE_A),
    )
    new_person = person_id_for_face(FACE_A)
    stub.add_response(
        "create_user",
        {},
        {"CollectionId": COLLECTION, "UserId": new_person, "ClientRequestToken": _token("CreateUser", new_person)},
    )
    stub.add_response("associate_faces", associated(FACE_A), associate_request(new_person, FACE_A))

    [face] = rec.index_faces(VIEW, PHOTO)
    assert face.person_id == new_person


def test_full_user_still_claims_the_face(stub, rec):
    """A user holds at most 100 faces; AssociateFaces then fails with ServiceQuotaExceededException but
    SearchUsers has already said who it is."""
    stub.add_response("index_faces", index_response(face_record(FACE_A, bbox(0.1, 0.1, 0.2, 0.3))), index_request())
    stub.add_response("search_users", search_response(FACE_A, (NATALIE, 99.2)), search_request(FACE_A))
    stub.add_client_error(
        "associate_faces",
        service_error_code="ServiceQuotaExceededException",
        service_message="The number of faces associated with the user exceeds the limit.",
        http_status_code=400,
        expected_params=associate_request(NATALIE, FACE_A),
    )

    [face] = rec.index_faces(VIEW, PHOTO)
    assert face.person_id == NATALIE
    assert rec.calls() == {"IndexFaces": 1, "SearchUsers": 1}  # the failed call is not billed


def test_replayed_association_reports_the_existing_person(stub, rec):
    stub.add_response("index_faces", index_response(face_record(FACE_A, bbox(0.1, 0.1, 0.2, 0.3))), index_request())
    stub.add_response("search_users", search_response(FACE_A, (SISTER, 90.0)), search_request(FACE_A))
    stub.add_response(
        "associate_faces",
        {
            "AssociatedFaces": [],
            "UnsuccessfulFaceAssociations": [
                {"FaceId": FACE_A, "UserId": NATALIE, "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]}
            ],
            "UserStatus": "ACTIVE",
        },
        associate_request(SISTER, FACE_A),
    )
    [face] = rec.index_faces(VIEW, PHOTO)
    assert face.person_id == NATALIE


# ----------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException"])
def test_throttling_is_retryable(stub, rec, code):
    stub.add_client_error(
        "detect_labels",
        service_error_code=code,
        service_message="Rate exceeded",
        http_status_code=400,
        expected_params={"Image": S3_IMAGE, "MinConfidence": 70.0, "MaxLabels": 50},
    )
    with pytest.raises(RecognitionThrottled) as caught:
        rec.detect_labels(VIEW)
    assert caught.value.reason == f"DetectLabels {code}: Rate exceeded"
    assert type(caught.value).__name__ == "RecognitionThrottled"  # the name the ASL Retry matches
    assert rec.calls() == {}


def test_internal_server_error_is_retryable(stub, rec):
    stub.add_client_error(
        "index_faces", service_error_code="InternalServerError", http_status_code=500, expected_params=index_request()
    )
    with pytest.raises(RecognitionThrottled):
        rec.index_faces(VIEW, PHOTO)


@pytest.mark.parametrize(
    "code",
    ["InvalidImageFormatException", "ImageTooLargeException", "InvalidS3ObjectException", "InvalidParameterException"],
)
def test_bad_image_is_permanent(stub, rec, code):
    stub.add_client_error(
        "index_faces",
        service_error_code=code,
        service_message="Request has invalid image format",
        http_status_code=400,
        expected_params=index_request(),
    )
    with pytest.raises(RecognitionError) as caught:
        rec.index_faces(VIEW, PHOTO)
    assert not isinstance(caught.value, RecognitionThrottled)
    assert caught.value.reason == f"IndexFaces {code}: Request has invalid image format"


def test_missing_collection_is_permanent(stub, rec):
    stub.add_client_error(
        "index_faces",
        service_error_code="ResourceNotFoundException",
        service_message="The collection id: shoebox-test-faces does not exist",
        http_status_code=400,
        expected_params=index_request(),
    )
    with pytest.raises(RecognitionError, match="ResourceNotFoundException"):
        rec.index_faces(VIEW, PHOTO)


def test_throttled_grouping_rolls_back_the_indexed_faces(stub, rec):
    """Step Functions re-runs the whole step on RecognitionThrottled; this attempt's faces must not stay
    in the collection, or every retry would add another copy of them."""
    stub.add_response(
        "index_faces",
        index_response(face_record(FACE_A, bbox(0.1, 0.1, 0.2, 0.3)), face_record(FACE_B, bbox(0.6, 0.1, 0.2, 0.3))),
        index_request(),
    )
    stub.add_response("search_users", search_response(FACE_A, (NATALIE, 97.0)), search_request(FACE_A))
    stub.add_response("associate_faces", associated(FACE_A), associate_request(NATALIE, FACE_A))
    stub.add_client_error(
        "search_users",
        service_error_code="ProvisionedThroughputExceededException",
        http_status_code=400,
        expected_params=search_request(FACE_B),
    )
    # rollback: FACE_A is already associated, so the first DeleteFaces refuses it
    stub.add_response(
        "delete_faces",
        {
            "DeletedFaces": [FACE_B],
            "UnsuccessfulFaceDeletions": [
                {"FaceId": FACE_A, "UserId": NATALIE, "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]}
            ],
        },
        {"CollectionId": COLLECTION, "FaceIds": [FACE_A, FACE_B]},
    )
    stub.add_response(
        "disassociate_faces",
        {"DisassociatedFaces": [{"FaceId": FACE_A}], "UnsuccessfulFaceDisassociations": [], "UserStatus": "UPDATING"},
        {
            "CollectionId": COLLECTION,
            "UserId": NATALIE,
            "FaceIds": [FACE_A],
            "ClientRequestToken": _token("DisassociateFaces", NATALIE, FACE_A),
        },
    )
    stub.add_response(
        "delete_faces",
        {"DeletedFaces": [FACE_A], "UnsuccessfulFaceDeletions": []},
        {"CollectionId": COLLECTION, "FaceIds": [FACE_A]},
    )

    with pytest.raises(RecognitionThrottled):
        rec.index_faces(VIEW, PHOTO)


# ---------------------------------------------------------------------------------- remove_faces


def test_remove_faces_ignores_unknown_and_disassociates_first(stub, rec):
    gone = "33333333-3333-4333-8333-333333333333"
    stub.add_response(
        "delete_faces",
        {
            "DeletedFaces": [FACE_B],
            "UnsuccessfulFaceDeletions": [
                {"FaceId": FACE_A, "UserId": NATALIE, "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]},
                {"FaceId": gone, "Reasons": ["FACE_NOT_FOUND"]},
            ],
        },
        {"CollectionId": COLLECTION, "FaceIds": [FACE_A, FACE_B, gone]},
    )
    stub.add_response(
        "disassociate_faces",
        {"DisassociatedFaces": [{"FaceId": FACE_A}], "UnsuccessfulFaceDisassociations": [], "UserStatus": "UPDATING"},
        {
            "CollectionId": COLLECTION,
            "UserId": NATALIE,
            "FaceIds": [FACE_A],
            "ClientRequestToken": _token("DisassociateFaces", NATALIE, FACE_A),
        },
    )
    stub.add_response(
        "delete_faces",
        {"DeletedFaces": [FACE_A], "UnsuccessfulFaceDeletions": []},
        {"CollectionId": COLLECTION, "FaceIds": [FACE_A]},
    )

    rec.remove_faces([FACE_A, FACE_B, gone, FACE_A])
    assert rec.calls() == {"DeleteFaces": 2, "DisassociateFaces": 1}


def test_remove_faces_finds_the_user_when_the_response_omits_it(stub, rec):
    stub.add_response(
        "delete_faces",
        {
            "DeletedFaces": [FACE_B],
            "UnsuccessfulFaceDeletions": [{"FaceId": FACE_A, "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]}],
        },
        {"CollectionId": COLLECTION, "FaceIds": [FACE_A, FACE_B]},
    )
    stub.add_response(
        "list_faces",
        {
            "Faces": [
                {
                    "FaceId": FACE_A,
                    "BoundingBox": bbox(0.1, 0.1, 0.2, 0.3),
                    "ImageId": IMAGE_ID,
                    "ExternalImageId": external_image_id(PHOTO),
                    "Confidence": 99.9,
                    "IndexFacesModelVersion": "7.0",
                    "UserId": NATALIE,
                }
            ],
            "FaceModelVersion": "7.0",
        },
        {"CollectionId": COLLECTION, "FaceIds": [FACE_A], "MaxResults": 1},
    )
    stub.add_response(
        "disassociate_faces",
        {"DisassociatedFaces": [{"FaceId": FACE_A}], "UnsuccessfulFaceDisassociations": [], "UserStatus": "ACTIVE"},
        {
            "CollectionId": COLLECTION,
            "UserId": NATALIE,
            "FaceIds": [FACE_A],
            "ClientRequestToken": _token("DisassociateFaces", NATALIE, FACE_A),
        },
    )
    stub.add_response(
        "delete_faces",
        {"DeletedFaces": [FACE_A], "UnsuccessfulFaceDeletions": []},
        {"CollectionId": COLLECTION, "FaceIds": [FACE_A]},
    )
    rec.remove_faces([FACE_A, FACE_B])


def test_remove_no_faces_makes_no_call(stub, rec):
    rec.remove_faces([])
    assert rec.calls() == {}


# ------------------------------------------------------------------------------- ExternalImageId

ODD_KEYS = [
    PHOTO,
    "originals/2006/10/04/IMG 0001 (copy).NEF",
    "originals/2019/08/01/Ærøskøbing – fähre.heic",
    "originals/2020/01/01/写真.jpg",
    "originals/2021/05/05/a:b:2F.jpg",  # looks like an escape already
    "originals/2021/05/05/100%.jpg",
    "originals/2022/02/02/emoji-📷.png",
    "originals/x/" + "long-name-" * 30 + ".jpg",  # > 255 once encoded: hashed
]
EXTERNAL_PATTERN = SERVICE_MODEL["shapes"]["ExternalImageId"]["pattern"]


@pytest.mark.parametrize("key", ODD_KEYS)
def test_external_image_id_is_valid_and_reversible(key):
    encoded = external_image_id(key)
    assert re.fullmatch(EXTERNAL_PATTERN, encoded)
    assert 1 <= len(encoded) <= 255
    decoded = photo_id_from_external_image_id(encoded)
    if encoded.startswith(":sha256:"):
        assert len(key.encode()) > 255 // 3 and decoded is None
    else:
        assert decoded == key


def test_external_image_id_examples_and_uniqueness():
    assert external_image_id("originals/2006/10/04/IMG 1.NEF") == "originals:2F2006:2F10:2F04:2FIMG:201.NEF"
    assert external_image_id("a/b") != external_image_id("a:2Fb")  # ":" is itself escaped
    assert external_image_id("é") == ":C3:A9"
    encoded = [external_image_id(key) for key in ODD_KEYS]
    assert len(set(encoded)) == len(encoded)
    long_key = ODD_KEYS[-1]
    assert external_image_id(long_key) == external_image_id(long_key)  # deterministic hash
    with pytest.raises(ValueError):
        external_image_id("")
    with pytest.raises(ValueError):
        photo_id_from_external_image_id("bad:Z9")


def test_index_faces_sends_the_encoded_external_id(stub, rec):
    key = "originals/2019/08/01/Ærøskøbing – fähre.heic"
    stub.add_response("index_faces", index_response(), index_request(key))
    assert rec.index_faces(VIEW, key) == []


# ------------------------------------------------------------------------------- config, accounting


def test_from_env_defaults_and_overrides(monkeypatch):
    for name in ("SHOEBOX_MIN_CONFIDENCE", "SHOEBOX_FACE_MATCH_THRESHOLD", "SHOEBOX_MAX_LABELS", "SHOEBOX_MAX_FACES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHOEBOX_COLLECTION_ID", COLLECTION)
    rec = RekognitionRecognizer.from_env(client=object())
    assert (rec.collection_id, rec.min_confidence, rec.face_match_threshold, rec.max_labels, rec.max_faces) == (
        COLLECTION,
        70.0,
        80.0,
        50,
        15,
    )
    monkeypatch.setenv("SHOEBOX_MIN_CONFIDENCE", "82.5")
    monkeypatch.setenv("SHOEBOX_FACE_MATCH_THRESHOLD", "90")
    monkeypatch.setenv("SHOEBOX_MAX_LABELS", "20")
    monkeypatch.setenv("SHOEBOX_MAX_FACES", "5")
    rec = RekognitionRecognizer.from_env(client=object())
    assert (rec.min_confidence, rec.face_match_threshold, rec.max_labels, rec.max_faces) == (82.5, 90.0, 20, 5)

    monkeypatch.setenv("SHOEBOX_MIN_CONFIDENCE", "170")
    with pytest.raises(ValueError):
        RekognitionRecognizer.from_env(client=object())
    monkeypatch.setenv("SHOEBOX_COLLECTION_ID", "")
    with pytest.raises(RecognitionError):
        RekognitionRecognizer.from_env(client=object())


def test_default_client_is_built_once_with_low_sdk_retries(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    first = RekognitionRecognizer(COLLECTION)
    second = RekognitionRecognizer(COLLECTION)
    assert first.client is first.client is second.client
    assert first.client.meta.region_name == "eu-west-1"
    assert first.client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_track_counts_one_photo_at_a_time(stub, rec):
    detect_params = {"Image": S3_IMAGE, "MinConfidence": 70.0, "MaxLabels": 50}
    for _ in range(2):
        stub.add_response("detect_labels", {"Labels": [], "LabelModelVersion": "3.0"}, detect_params)
    stub.add_response("index_faces", index_response(), index_request())

    rec.detect_labels(VIEW)
    with rec.track() as used:
        rec.detect_labels(VIEW)
        rec.index_faces(VIEW, PHOTO)
    assert used == {"DetectLabels": 1, "IndexFaces": 1}
    assert rec.calls() == {"DetectLabels": 2, "IndexFaces": 1}
    rec.reset_calls()
    assert rec.calls() == {}


def test_track_fills_in_on_error(stub, rec):
    stub.add_response("index_faces", index_response(face_record(FACE_A, bbox(0.1, 0.1, 0.2, 0.3))), index_request())
    stub.add_client_error("search_users", service_error_code="ThrottlingException", expected_params=search_request(FACE_A))
    stub.add_response(
        "delete_faces", {"DeletedFaces": [FACE_A], "UnsuccessfulFaceDeletions": []}, {"CollectionId": COLLECTION, "FaceIds": [FACE_A]}
    )
    with pytest.raises(RecognitionThrottled), rec.track() as used:
        rec.index_faces(VIEW, PHOTO)
    assert used == {"IndexFaces": 1, "DeleteFaces": 1}


def test_client_request_tokens_fit_the_model():
    pattern = SERVICE_MODEL["shapes"]["ClientRequestToken"]["pattern"]
    token = _token("AssociateFaces", NATALIE, FACE_A)
    assert re.match(pattern, token) and len(token) <= 64
    assert token == _token("AssociateFaces", NATALIE, FACE_A) != _token("AssociateFaces", SISTER, FACE_A)


def test_existing_user_on_create_is_reused(stub, rec):
    """A replay after CreateUser succeeded but before the step finished: ConflictException means the
    user is there already."""
    stub.add_response("index_faces", index_response(face_record(FACE_A, bbox(0.1, 0.1, 0.2, 0.3))), index_request())
    stub.add_response("search_users", search_response(FACE_A), search_request(FACE_A))
    new_person = person_id_for_face(FACE_A)
    stub.add_client_error(
        "create_user",
        service_error_code="ConflictException",
        service_message="A User with the same Id already exists within the collection.",
        expected_params={
            "CollectionId": COLLECTION,
            "UserId": new_person,
            "ClientRequestToken": _token("CreateUser", new_person),
        },
    )
    stub.add_response("associate_faces", associated(FACE_A), associate_request(new_person, FACE_A))
    [face] = rec.index_faces(VIEW, PHOTO)
    assert face.person_id == new_person


# ------------------------------------------------------------------------------- cost report script


def test_cost_report_per_1000_photos(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "report_recognition_cost.py"
    spec = importlib.util.spec_from_file_location("report_recognition_cost", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    run = tmp_path / "run.jsonl"
    run.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "key": "originals/a.jpg",
                    "status": "processed",
                    "recognition_calls": {"DetectLabels": 1, "IndexFaces": 1, "SearchUsers": 1, "CreateUser": 1, "AssociateFaces": 1},
                    "faces": [{"face_id": FACE_A, "person_id": NATALIE}],
                },
                {"key": "originals/b.jpg", "status": "processed", "recognition_calls": {"DetectLabels": 1}},
                {"key": "originals/c.jpg", "status": "failed", "recognition_calls": {}},
                {"key": "originals/d.jpg", "status": "processed", "recognition_calls": {"DetectLabels": 1}},
            ]
        )
    )
    (tmp_path / "more").mkdir()
    # the same photo again, nested as ingest output: counted once
    (tmp_path / "more" / "ingest.json").write_text(
        json.dumps({"results": [{"key": "originals/d.jpg", "status": "processed", "recognition_calls": {"DetectLabels": 1}}]})
    )

    result = module.report(module.collect([run, tmp_path / "more"]), module.load_prices())

    assert result["photos"] == 4
    assert result["calls_per_1000_photos"] == {
        "AssociateFaces": 250.0,
        "CreateUser": 250.0,
        "DetectLabels": 750.0,
        "IndexFaces": 250.0,
        "SearchUsers": 250.0,
    }
    usd = result["usd_per_1000_photos"]
    assert usd["calls"] == pytest.approx(0.75 + 0.25 + 0.25 + 0.25)  # CreateUser is free
    assert usd["storage_per_month"] == pytest.approx(250 * 0.00001 * 2)  # 250 faces + 250 user vectors
    assert result["unpriced_apis"] == []

    # the default faces grouping: one SearchFaces a face, no user vector stored
    faces_run = tmp_path / "faces.jsonl"
    faces_run.write_text(json.dumps({"key": "originals/e.jpg", "status": "processed", "faces": [
        {"face_id": FACE_A, "person_id": NATALIE}],
        "recognition_calls": {"DetectLabels": 1, "IndexFaces": 1, "SearchFaces": 1}}))
    usd = module.report(module.collect([faces_run]), module.load_prices())["usd_per_1000_photos"]
    assert usd["calls"] == pytest.approx(3.0) and usd["storage_per_month"] == pytest.approx(1000 * 0.00001)


# ------------------------------------------------------------------------------ people suggestions

GRANDMA = "person-cccccccc-cccc-4ccc-8ccc-cccccccccccc"


def users_response(user_id, *matches):
    """SearchUsers by UserId as Rekognition answers it (SearchedUser instead of SearchedFace)."""
    return {
        "UserMatches": [{"Similarity": similarity, "User": {"UserId": uid, "UserStatus": "ACTIVE"}}
                        for uid, similarity in matches],
        "FaceModelVersion": "7.0",
        "SearchedUser": {"UserId": user_id},
    }


def users_request(user_id):
    from shoebox.recognition.rekognition import DEFAULT_SUGGEST_THRESHOLD

    return {"CollectionId": COLLECTION, "UserId": user_id, "UserMatchThreshold": DEFAULT_SUGGEST_THRESHOLD,
            "MaxUsers": 50}


def test_similar_people_searches_users_by_user_id_and_reports_each_pair_once(stub, rec):
    from shoebox.recognition.base import PeopleMatch

    stub.add_response("search_users", users_response(NATALIE, (SISTER, 71.25), (GRANDMA, 52.0)),
                      users_request(NATALIE))
    stub.add_response("search_users", users_response(SISTER, (NATALIE, 70.5)), users_request(SISTER))
    stub.add_client_error("search_users", service_error_code="InvalidParameterException",
                          service_message="The user has no faces", http_status_code=400,
                          expected_params=users_request(GRANDMA))
    assert rec.similar_people([NATALIE, SISTER, NATALIE, GRANDMA]) == [
        PeopleMatch(NATALIE, SISTER, 0.7125), PeopleMatch(NATALIE, GRANDMA, 0.52)]
    assert rec.calls() == {"SearchUsers": 2}


def test_similar_people_throttled_is_retryable(stub, rec):
    stub.add_client_error("search_users", service_error_code="ThrottlingException", service_message="Rate exceeded",
                          http_status_code=400, expected_params=users_request(NATALIE))
    with pytest.raises(RecognitionThrottled):
        rec.similar_people([NATALIE])


def test_similar_people_skips_a_user_gone_but_not_a_missing_collection(stub, rec):
    stub.add_client_error("search_users", service_error_code="ResourceNotFoundException",
                          service_message="The user does not exist", http_status_code=400,
                          expected_params=users_request(SISTER))
    stub.add_response("describe_collection", {"FaceCount": 12, "FaceModelVersion": "7.0", "UserCount": 3},
                      {"CollectionId": COLLECTION})
    stub.add_response("search_users", users_response(NATALIE, (GRANDMA, 55.5)), users_request(NATALIE))
    assert [(m.a, m.b) for m in rec.similar_people([SISTER, NATALIE])] == [(NATALIE, GRANDMA)]

    stub.add_client_error("search_users", service_error_code="ResourceNotFoundException",
                          service_message="Collection not found", http_status_code=400,
                          expected_params=users_request(NATALIE))
    stub.add_client_error("describe_collection", service_error_code="ResourceNotFoundException",
                          service_message="Collection not found", http_status_code=400,
                          expected_params={"CollectionId": COLLECTION})
    with pytest.raises(RecognitionError, match="DescribeCollection ResourceNotFoundException"):
        rec.similar_people([NATALIE, SISTER])


def list_faces_response(user_id, n):
    return {"Faces": [{"FaceId": f"{k:08d}-0000-4000-8000-000000000000", "UserId": user_id,
                       "BoundingBox": bbox(0.1, 0.1, 0.2, 0.3), "ImageId": IMAGE_ID, "Confidence": 99.9}
                      for k in range(n)], "FaceModelVersion": "7.0"}


@pytest.mark.parametrize("held, associates", [(10, False), (3, True)])
def test_a_user_vector_is_refined_only_until_it_holds_ten_faces(client, stub, held, associates):
    """A known person's face is associated (one billed call) only while the user holds fewer than
    user_vector_faces faces; after that SearchUsers' match (same threshold) files it. ListFaces is free."""
    rec = RekognitionRecognizer(COLLECTION, client=client, grouping="users")
    assert rec.user_vector_faces == 10
    stub.add_response("index_faces", index_response(face_record(FACE_A, bbox(0.1, 0.1, 0.2, 0.3))), index_request())
    stub.add_response("search_users", search_response(FACE_A, (NATALIE, 97.0)), search_request(FACE_A))
    stub.add_response("list_faces", list_faces_response(NATALIE, held),
                      {"CollectionId": COLLECTION, "UserId": NATALIE, "MaxResults": 10})
    if associates:
        stub.add_response("associate_faces", associated(FACE_A), associate_request(NATALIE, FACE_A))

    [face] = rec.index_faces(VIEW, PHOTO)

    assert face.person_id == NATALIE
    billed = {k: v for k, v in rec.calls().items() if k != "ListFaces"}
    assert billed == {"IndexFaces": 1, "SearchUsers": 1, **({"AssociateFaces": 1} if associates else {})}
