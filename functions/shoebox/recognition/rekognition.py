"""The ``rekognition`` recognizer: Amazon Rekognition through boto3 (the production backend).

Design notes (details and reasons in docs/rekognition.md):

* Labels: DetectLabels on the view thumbnail (S3Object), MinConfidence / MaxLabels from the environment;
  each label keeps the names of its Parents. Categories and aliases are not kept (``Label`` has no field
  for them).
* Faces: IndexFaces (QualityFilter AUTO, DetectionAttributes DEFAULT), then every new face is grouped into
  a person. ``faces`` (the default): SearchFaces(FaceId) and a vote of the matched faces' people, the face →
  person map in the catalog table (face_search.py). ``users``: Rekognition *user vectors*, SearchUsers(FaceId)
  → AssociateFaces to the best user, or CreateUser + AssociateFaces for a new person; the person id is the
  UserId and the grouping state lives in the collection. Both name a new person ``person-<its first face>``.
* Errors: throttling and transient service errors → ``RecognitionThrottled`` (the state machine retries
  that name with jittered backoff); everything else → ``RecognitionError`` (permanent, recorded on the
  photo). The SDK itself retries only a little (standard mode, 3 attempts in all).
* Cost accounting: ``calls()`` counts successful API calls by name; ``track()`` gives one photo's calls.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from shoebox import aws
from shoebox.config import Settings, setting
from shoebox.errors import PhotoBusy, RecognitionError, RecognitionThrottled
from shoebox.recognition.base import CallCounter, Face, FaceMove, ImageRef, Label, PeopleMatch
from shoebox.recognition import face_search
from shoebox.recognition.external_id import external_image_id, photo_id_from_external_image_id  # noqa: F401
from shoebox.recognition.face_search import FaceMap
from shoebox.recognition.rate_limit import RateLimiter
from shoebox.recognition.user_vectors import (  # noqa: F401  (person_id_for_face: also imported from here)
    PERSON_ID_PREFIX, UserVectorGrouping, person_id_for_face, token)

log = logging.getLogger(__name__)

DEFAULT_MIN_CONFIDENCE = 70.0
# SearchUsers' own default. A false merge of two look-alikes (siblings) is worse than a split: a split is
# fixed with `shoebox people merge`, a merge needs the faces picked apart one by one.
DEFAULT_FACE_MATCH_THRESHOLD = 80.0
DEFAULT_MAX_LABELS = 50
DEFAULT_MAX_FACES = 15  # IndexFaces keeps the largest faces; each indexed face costs ~3 grouping calls
# A user vector is refined by AssociateFaces ($0.001 each) until it holds this many faces; later faces of
# the person are matched by SearchUsers alone (already at the same threshold AssociateFaces checks) and
# not associated. Checked with ListFaces(UserId), which is not billed. 0 associates every face.
DEFAULT_USER_VECTOR_FACES = 10
GROUPINGS = ("faces", "users")  # SHOEBOX_FACE_GROUPING; the template's FaceGrouping parameter
NEW_PERSON_LOCK = "REKFACE#new-person"  # faces grouping: new people are decided one at a time (face_search.py)
NEW_PERSON_WAIT_S = 5.0
# `shoebox people suggest`: users at least this alike (SearchUsers by UserId) are offered to the user as
# maybe one person. Below the grouping threshold on purpose; not measured on real photos (no account)
DEFAULT_SUGGEST_THRESHOLD = 50.0
# MaxUsers there: room beyond the person's own other users (groups the user merged in the catalog), which
# fold onto the same person and are dropped; the price is per call, not per match
SUGGEST_MAX_USERS = 50
_NO_SUCH_USER = frozenset({"ResourceNotFoundException", "InvalidParameterException"})

# The SDK smooths over a blip; the state machine's Retry (on RecognitionThrottled) does the patient,
# jittered backoff across Lambda invocations instead of burning Lambda time sleeping.
# Note: ``total_max_attempts`` counts the first request; the legacy ``max_attempts`` key counts retries
# only (max_attempts=3 would mean 4 requests).
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="shoebox-recognizer",
)

# Error codes that mean "try again later". ProvisionedThroughputExceeded and Throttling are what the
# image operations model; LimitExceeded is modelled only on video Start* operations (concurrent jobs), but
# it is a rate limit too, so it is kept here should it ever appear. InternalServerError is transient
# ("try your call again"). ConflictException on AssociateFaces/DisassociateFaces is a concurrent update of
# the same user, which also clears by itself.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "LimitExceededException",
        "InternalServerError",
        "ServiceUnavailableException",
        "ConflictException",
    }
)
# Codes that mean the image itself is unusable (kept for documentation and tests; every code not in
# RETRYABLE_CODES is permanent anyway).
IMAGE_ERROR_CODES = frozenset(
    {"InvalidImageFormatException", "ImageTooLargeException", "InvalidS3ObjectException", "InvalidParameterException"}
)


def has_person(labels: Iterable[Label]) -> bool:
    """True when DetectLabels saw a person (``Person`` itself or a label whose parent is Person)."""
    return any(label.name == "Person" or "Person" in label.parents for label in labels)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ----------------------------------------------------------------------------------------- client

_client_lock = threading.Lock()
_clients: dict[str, Any] = {}


def _default_client(region: str) -> Any:
    """One Rekognition client per region per process (construction costs tens of milliseconds)."""
    with _client_lock:
        found = _clients.get(region)
        if found is None:
            found = boto3.session.Session().client("rekognition", region_name=region, config=CLIENT_CONFIG)
            _clients[region] = found
        return found


def _env_float(name: str, default: float, low: float = 0.0, high: float = 100.0) -> float:
    raw = (setting(name) or "").strip()
    if not raw:
        return default
    value = float(raw)
    if not low <= value <= high:
        raise ValueError(f"{name}={raw} is outside {low}..{high}")
    return value


def _env_int(name: str, default: int, low: int = 1) -> int:
    raw = (setting(name) or "").strip()
    if not raw:
        return default
    value = int(raw)
    if value < low:
        raise ValueError(f"{name}={raw} must be at least {low}")
    return value


def _limiter(settings: Settings) -> RateLimiter | None:
    if settings.rekognition_calls_per_second <= 0 or not settings.table:
        return None
    return RateLimiter(aws.client("dynamodb"), settings.table, settings.rekognition_calls_per_second)


# ------------------------------------------------------------------------------------- recognizer


class RekognitionRecognizer(UserVectorGrouping, CallCounter):
    name = "rekognition"

    def __init__(
        self,
        collection_id: str,
        *,
        client: Any | None = None,
        region: str | None = None,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        face_match_threshold: float = DEFAULT_FACE_MATCH_THRESHOLD,
        max_labels: int = DEFAULT_MAX_LABELS,
        max_faces: int = DEFAULT_MAX_FACES,
        user_vector_faces: int = DEFAULT_USER_VECTOR_FACES,
        limiter: RateLimiter | None = None,
        grouping: str = "faces",
        face_map: FaceMap | None = None,
    ) -> None:
        if not collection_id:
            raise RecognitionError("no Rekognition collection configured (SHOEBOX_COLLECTION_ID is empty)")
        if grouping not in GROUPINGS:
            raise RecognitionError(f"face grouping {grouping!r} is not one of {', '.join(GROUPINGS)}")
        self.grouping = grouping
        self.face_map = face_map  # faces grouping; also dropped from when faces are removed
        self.collection_id = collection_id
        self.min_confidence = float(min_confidence)
        self.face_match_threshold = float(face_match_threshold)
        self.max_labels = int(max_labels)
        self.max_faces = int(max_faces)
        self.user_vector_faces = int(user_vector_faces)
        self._region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._client = client
        self.limiter = limiter  # every call takes a slot first: the cap all executions share
        super().__init__()

    @classmethod
    def from_env(cls, client: Any | None = None, *, labels_only: bool = False) -> "RekognitionRecognizer":
        """``labels_only``: for DetectLabels alone (the hybrid recognizer), which needs no collection."""
        collection_id = setting("SHOEBOX_COLLECTION_ID", "").strip() or ("(none)" if labels_only else "")
        if not collection_id:
            raise RecognitionError("no Rekognition collection configured (SHOEBOX_COLLECTION_ID is empty)")
        settings = Settings.from_env()
        return cls(
            collection_id,
            client=client,
            min_confidence=_env_float("SHOEBOX_MIN_CONFIDENCE", DEFAULT_MIN_CONFIDENCE),
            face_match_threshold=_env_float("SHOEBOX_FACE_MATCH_THRESHOLD", DEFAULT_FACE_MATCH_THRESHOLD),
            max_labels=_env_int("SHOEBOX_MAX_LABELS", DEFAULT_MAX_LABELS),
            max_faces=_env_int("SHOEBOX_MAX_FACES", DEFAULT_MAX_FACES),
            user_vector_faces=_env_int("SHOEBOX_USER_VECTOR_FACES", DEFAULT_USER_VECTOR_FACES, low=0),
            limiter=_limiter(settings),
            grouping=(setting("SHOEBOX_FACE_GROUPING", "") or "faces").strip().lower(),
            face_map=FaceMap(aws.client("dynamodb"), settings.table) if settings.table else None,
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _default_client(self._region)
        return self._client

    # ------------------------------------------------------------------------------ accounting

    # calls(), track() and _count() come from CallCounter (base.py); only successful calls are counted.
    def reset_calls(self) -> None:
        with self._calls_lock:
            self._calls.clear()

    def _call(self, api: str, method: Callable[..., dict], *, passthrough: frozenset[str] = frozenset(), **params: Any) -> dict:
        """Call one API, count it when it succeeds, and translate failures into the step error types.
        Error codes in ``passthrough`` are re-raised as the original ClientError for the caller."""
        if self.limiter is not None:
            self.limiter.wait(api)  # may raise RecognitionThrottled: the slot is too far off to sleep for
        try:
            response = method(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "Unknown")
            if code in passthrough:
                raise
            message = error.get("Message") or str(exc)
            reason = f"{api} {code}: {message}"
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            if code in RETRYABLE_CODES or status == 429 or status >= 500:
                raise RecognitionThrottled(reason) from exc
            raise RecognitionError(reason) from exc
        except (BotoConnectionError, HTTPClientError) as exc:  # endpoint unreachable, timeouts
            raise RecognitionThrottled(f"{api} {type(exc).__name__}: {exc}") from exc
        except BotoCoreError as exc:  # parameter validation, credentials: retrying will not help
            raise RecognitionError(f"{api} {type(exc).__name__}: {exc}") from exc
        self._count(api)
        return response

    # ---------------------------------------------------------------------------------- labels

    @staticmethod
    def _s3_image(image: ImageRef) -> dict:
        return {"S3Object": {"Bucket": image.bucket, "Name": image.key}}

    def detect_labels(self, image: ImageRef) -> list[Label]:
        response = self._call(
            "DetectLabels",
            self.client.detect_labels,
            Image=self._s3_image(image),
            MinConfidence=self.min_confidence,
            MaxLabels=self.max_labels,
        )
        labels = [
            Label(
                name=item["Name"],
                confidence=float(item.get("Confidence", 0.0)),
                parents=[parent["Name"] for parent in item.get("Parents", [])],
            )
            for item in response.get("Labels", [])
        ]
        labels.sort(key=lambda label: label.confidence, reverse=True)
        return labels

    # ----------------------------------------------------------------------------------- faces

    def index_faces(self, image: ImageRef, photo_id: str) -> list[Face]:
        response = self._call(
            "IndexFaces",
            self.client.index_faces,
            CollectionId=self.collection_id,
            Image=self._s3_image(image),
            ExternalImageId=external_image_id(photo_id),
            MaxFaces=self.max_faces,
            QualityFilter="AUTO",
            DetectionAttributes=["DEFAULT"],
        )
        records = response.get("FaceRecords", [])
        if not records:
            return []  # one call, no grouping calls
        face_ids = [record["Face"]["FaceId"] for record in records]
        faces: list[Face] = []
        taken: set[str] = set()  # two faces in one photo are two different people
        try:
            for record in records:
                face = record["Face"]
                person_id = self._assign_person(face["FaceId"], taken, photo_id, face_ids)
                if person_id:
                    taken.add(person_id)
                box = face.get("BoundingBox", {})
                faces.append(
                    Face(
                        face_id=face["FaceId"],
                        bbox={
                            "left": float(box.get("Left", 0.0)),
                            "top": float(box.get("Top", 0.0)),
                            "width": float(box.get("Width", 0.0)),
                            "height": float(box.get("Height", 0.0)),
                        },
                        confidence=float(face.get("Confidence", 0.0)),
                        person_id=person_id,
                    )
                )
        except Exception:
            # The whole step is retried (or recorded as failed): don't leave this attempt's faces behind,
            # or every retry would add another copy of them to the collection.
            self._rollback(face_ids)
            raise
        return faces

    def _assign_person(self, face_id: str, taken: set[str], photo_id: str, photo_faces: list[str]) -> str | None:
        if self.grouping == "users":
            return self._assign_user(face_id, taken)
        if self.face_map is None:
            raise RecognitionError("faces grouping needs the catalog table (SHOEBOX_TABLE is empty)")
        return face_search.assign(self._search_faces, self.face_map, face_id, photo_id, photo_faces, taken,
                                  person_id_for_face, self._new_person_lock)

    @contextlib.contextmanager
    def _new_person_lock(self) -> Iterator[None]:
        from shoebox.catalog.lease import photo_lease  # here: DetectLabels' cold start needs no catalog

        assert self.face_map is not None
        try:
            with photo_lease(self.face_map.client, self.face_map.table, NEW_PERSON_LOCK, wait_s=NEW_PERSON_WAIT_S):
                yield
        except PhotoBusy as exc:  # only the lease raises it; the step's Retry on RecognitionThrottled waits
            raise RecognitionThrottled(f"SearchFaces: {exc}") from exc

    def _search_faces(self, face_id: str, threshold: float | None = None,
                      max_faces: int = face_search.SEARCH_MAX_FACES, **kwargs: Any) -> dict:
        return self._call("SearchFaces", self.client.search_faces, CollectionId=self.collection_id, FaceId=face_id,
                          FaceMatchThreshold=self.face_match_threshold if threshold is None else threshold,
                          MaxFaces=max_faces, **kwargs)

    def _rollback(self, face_ids: list[str]) -> None:
        try:
            self.remove_faces(face_ids)
        except Exception as exc:  # best effort: the original error is what matters
            log.warning("could not roll back faces %s: %s", face_ids, exc)

    def keep_apart(self, person_ids: list[str]) -> list[FaceMove]:
        """Nothing to undo: this backend never merges users by itself (a user merge lives in the
        catalog only, docs/people.md)."""
        return []

    def filed_as(self, face_ids: list[str]) -> dict[str, str]:
        """Nothing moves faces after IndexFaces here (keep_apart moves none)."""
        return {}

    def similar_people(self, person_ids: list[str]) -> list[PeopleMatch]:
        """One call per person (the user asked, it is not per photo), people at least
        ``DEFAULT_SUGGEST_THRESHOLD`` alike: SearchFaces of one of the person's faces when the face map files
        it, else SearchUsers by UserId (people grouped with user vectors). Rekognition does not know which
        people share a photo; such a pair is offered too, and ``shoebox people apart`` dismisses it."""
        best: dict[tuple[str, str], float] = {}
        users = list(dict.fromkeys(person_ids))
        if self.face_map is not None:
            by_person = self.face_map.faces_by_person()
            best.update(face_search.similar_pairs(
                lambda fid: self._search_faces(fid, DEFAULT_SUGGEST_THRESHOLD, SUGGEST_MAX_USERS),
                self.face_map, [p for p in users if p in by_person], by_person=by_person))
            users = [p for p in users if p not in by_person]
        collection_checked = False
        for user_id in users:
            try:
                response = self._call("SearchUsers", self.client.search_users, CollectionId=self.collection_id,
                                      UserId=user_id, UserMatchThreshold=DEFAULT_SUGGEST_THRESHOLD,
                                      MaxUsers=SUGGEST_MAX_USERS, passthrough=_NO_SUCH_USER)
            except ClientError as exc:  # a user gone, or left with no face: nothing to compare
                code = exc.response.get("Error", {}).get("Code")
                if code == "ResourceNotFoundException" and not collection_checked:
                    # the same code when the collection itself is missing (wrong region, stack gone):
                    # that must not read as "no suggestions"; raises RecognitionError then
                    self._call("DescribeCollection", self.client.describe_collection,
                               CollectionId=self.collection_id)
                    collection_checked = True
                log.warning("SearchUsers %s skipped: %s", user_id, code)
                continue
            for match in response.get("UserMatches", []):
                other = match["User"]["UserId"]
                if other == user_id:
                    continue
                pair = tuple(sorted((user_id, other)))
                best[pair] = max(best.get(pair, 0.0), round(float(match["Similarity"]) / 100, 4))  # type: ignore[index]
        return [PeopleMatch(a, b, sim) for (a, b), sim in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))]

    def remove_faces(self, face_ids: list[str]) -> None:
        """DeleteFaces; faces still associated with a user are disassociated first (Rekognition refuses to
        delete them). Unknown faces are ignored, so removal is idempotent. Users are kept even when they
        become empty, so a person's id (and the name the catalog gave it) survives re-indexing."""
        ids = list(dict.fromkeys(face_ids))
        for chunk in _chunks(ids, 4096):
            response = self._call(
                "DeleteFaces", self.client.delete_faces, CollectionId=self.collection_id, FaceIds=chunk
            )
            blocked: dict[str, list[str]] = defaultdict(list)
            unknown_user: list[str] = []
            for failure in response.get("UnsuccessfulFaceDeletions", []):
                if "ASSOCIATED_TO_AN_EXISTING_USER" not in failure.get("Reasons", []):
                    continue  # FACE_NOT_FOUND: already gone
                if failure.get("UserId"):
                    blocked[failure["UserId"]].append(failure["FaceId"])
                else:
                    unknown_user.append(failure["FaceId"])
            if unknown_user:
                listed = self._call(
                    "ListFaces",
                    self.client.list_faces,
                    CollectionId=self.collection_id,
                    FaceIds=unknown_user,
                    MaxResults=len(unknown_user),
                )
                for face in listed.get("Faces", []):
                    if face.get("UserId"):
                        blocked[face["UserId"]].append(face["FaceId"])
            if not blocked:
                continue
            for user_id, user_faces in blocked.items():
                for part in _chunks(user_faces, 100):
                    self._call(
                        "DisassociateFaces",
                        self.client.disassociate_faces,
                        CollectionId=self.collection_id,
                        UserId=user_id,
                        FaceIds=part,
                        ClientRequestToken=token("DisassociateFaces", user_id, *part),
                    )
            retry_ids = [face for faces in blocked.values() for face in faces]
            self._call("DeleteFaces", self.client.delete_faces, CollectionId=self.collection_id, FaceIds=retry_ids)
        if self.face_map is not None and ids:
            self.face_map.drop(ids)  # after the collection: a face still searchable must still be filed
