"""The ``users`` face grouping of the rekognition recognizer: Rekognition *user vectors*
(``SHOEBOX_FACE_GROUPING=users``; the default is ``faces``, face_search.py).

Every new face: SearchUsers(FaceId) → AssociateFaces to the best user while its vector holds fewer than
``user_vector_faces`` faces, or CreateUser + AssociateFaces for a new person. The person id is the UserId,
so the grouping state lives in the collection. A mixin of ``RekognitionRecognizer``: it uses its ``_call``,
``client``, ``collection_id`` and thresholds.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from botocore.exceptions import ClientError

from shoebox.errors import RecognitionThrottled

log = logging.getLogger(__name__)

MAX_USER_CANDIDATES = 5  # SearchUsers MaxUsers: room to skip people already assigned in this photo
PERSON_ID_PREFIX = "person-"


def person_id_for_face(face_id: str) -> str:
    """UserId (and person id, in either grouping) for a person first seen as ``face_id`` (stable, within
    UserId's 128-char pattern)."""
    return PERSON_ID_PREFIX + face_id


def token(*parts: str) -> str:
    """Deterministic ClientRequestToken (≤ 64 chars of [a-zA-Z0-9-_]) so a replayed request is a no-op."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "shoebox:" + "/".join(parts)).hex


class UserVectorGrouping:
    collection_id: str
    face_match_threshold: float
    user_vector_faces: int
    client: Any
    _call: Any

    def _assign_user(self, face_id: str, taken: set[str]) -> str | None:
        search = self._call(
            "SearchUsers",
            self.client.search_users,
            CollectionId=self.collection_id,
            FaceId=face_id,
            UserMatchThreshold=self.face_match_threshold,
            MaxUsers=MAX_USER_CANDIDATES,
        )
        for match in search.get("UserMatches", []):
            user_id = match["User"]["UserId"]
            if user_id in taken:
                continue
            if self._vector_complete(user_id):
                return user_id  # SearchUsers matched at the threshold AssociateFaces would check
            assigned = self._associate(user_id, face_id)
            if assigned:
                return assigned
        return self._new_person(face_id)

    def _vector_complete(self, user_id: str) -> bool:
        """Whether the user already holds ``user_vector_faces`` faces (ListFaces is free)."""
        if self.user_vector_faces <= 0:
            return False
        response = self._call("ListFaces", self.client.list_faces, CollectionId=self.collection_id,
                              UserId=user_id, MaxResults=self.user_vector_faces)
        return len(response.get("Faces", [])) >= self.user_vector_faces

    def _new_person(self, face_id: str) -> str | None:
        user_id = person_id_for_face(face_id)
        try:
            self._call(
                "CreateUser",
                self.client.create_user,
                passthrough=frozenset({"ConflictException"}),
                CollectionId=self.collection_id,
                UserId=user_id,
                ClientRequestToken=token("CreateUser", user_id),
            )
        except ClientError:  # ConflictException: the user already exists (a replay); use it
            log.info("user %s already exists", user_id)
        return self._associate(user_id, face_id)

    def _associate(self, user_id: str, face_id: str) -> str | None:
        """Associate ``face_id`` with ``user_id``. Returns the person the face now belongs to, or None when
        Rekognition judged it too far from the user's vector."""
        try:
            response = self._call(
                "AssociateFaces",
                self.client.associate_faces,
                passthrough=frozenset({"ServiceQuotaExceededException"}),
                CollectionId=self.collection_id,
                UserId=user_id,
                FaceIds=[face_id],
                UserMatchThreshold=self.face_match_threshold,
                ClientRequestToken=token("AssociateFaces", user_id, face_id),
            )
        except ClientError:
            # A user holds at most 100 faces. SearchUsers already matched this one, so it is that person;
            # the user's vector is simply not refined further.
            log.info("user %s is full; face %s assigned without association", user_id, face_id)
            return user_id
        if any(item.get("FaceId") == face_id for item in response.get("AssociatedFaces", [])):
            return user_id
        for failure in response.get("UnsuccessfulFaceAssociations", []):
            if failure.get("FaceId") != face_id:
                continue
            reasons = failure.get("Reasons", [])
            if "ASSOCIATED_TO_A_DIFFERENT_USER" in reasons and failure.get("UserId"):
                return failure["UserId"]  # a replay after an earlier attempt got this far
            if "LOW_MATCH_CONFIDENCE" in reasons:
                return None
            if "FACE_NOT_FOUND" in reasons:
                # Just indexed, so this is the collection catching up: let the state machine retry.
                raise RecognitionThrottled(f"AssociateFaces: face {face_id} not found yet in {self.collection_id}")
        # Already associated with this user (Rekognition omits it from both lists).
        return user_id
