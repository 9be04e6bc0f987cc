"""An in-process stand-in for the Rekognition face collection, for drills of the ``rekognition`` recognizer.

moto implements DetectLabels only; the recognizer also needs IndexFaces, SearchFaces, users (CreateUser,
SearchUsers, AssociateFaces, DisassociateFaces) and DeleteFaces/ListFaces with Rekognition's rules: a face associated
with a user cannot be deleted (``ASSOCIATED_TO_AN_EXISTING_USER``), a face belongs to one user, a user
with no face matches nothing. :meth:`RekognitionEmulator.attach` answers a real boto3 client's calls from
a ``before-call`` hook (like botocore's Stubber), so the recognizer's own code runs unchanged: request
serialisation, error translation, retries by the state machine.

What the image shows is up to the caller: ``analyse(image bytes) -> Analysis`` (labels, and faces each with
a box and a ``signature``: faces with equal signatures are one person). ``fault(operation, photo key)``
may answer a call with an error code instead (``ThrottlingException``…), exactly as the service would: no
side effect, HTTP 400, the code in the body.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shoebox.recognition.external_id import external_image_id, photo_id_from_external_image_id


@dataclass(frozen=True)
class SeenFace:
    bbox: dict[str, float]  # Rekognition's BoundingBox: Left/Top/Width/Height ratios
    signature: str  # equal signatures: the same person


@dataclass
class Analysis:
    labels: list[dict] = field(default_factory=list)  # [{"Name", "Confidence", "Parents": [{"Name"}]}]
    faces: list[SeenFace] = field(default_factory=list)


@dataclass
class _Face:
    face_id: str
    photo: str  # the ExternalImageId decoded: the photo key
    signature: str
    bbox: dict[str, float]
    user: str | None = None


class _Http:
    headers: dict[str, str] = {}
    raw = None
    content = b""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


class _Error(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class RekognitionEmulator:
    def __init__(self, read_object: Callable[[str, str], bytes], analyse: Callable[[bytes], Analysis],
                 fault: Callable[[str, str | None], str | None] | None = None,
                 photo_of_image: Callable[[str], str] = lambda key: key) -> None:
        self.read_object = read_object  # (bucket, key) -> bytes; raises when the object is missing
        self.analyse = analyse
        self.fault = fault
        self.photo_of_image = photo_of_image  # S3 key of the analysed image -> the photo it belongs to
        self.faces: dict[str, _Face] = {}
        self.users: dict[str, str | None] = {}  # user id -> the ClientRequestToken that created it
        self.calls: Counter[tuple[str, str | None]] = Counter()  # (operation, photo) -> calls answered OK
        self.errors: Counter[tuple[str, str | None, str]] = Counter()  # (operation, photo, code)
        self._lock = threading.RLock()

    def attach(self, client: Any) -> None:
        """Answer ``client``'s calls until :meth:`detach` (the recognizer's client is cached per process:
        an emulator left attached would answer for the next one)."""
        client.meta.events.register_first("before-call.rekognition", self._before_call)
        self._attached = client

    def detach(self) -> None:
        if getattr(self, "_attached", None) is not None:
            self._attached.meta.events.unregister("before-call.rekognition", self._before_call)
            self._attached = None

    # ------------------------------------------------------------------ dispatch
    def _before_call(self, model: Any, params: dict, **_: Any) -> tuple[_Http, dict]:
        body = params.get("body") or b"{}"
        request = json.loads(body.decode() if isinstance(body, bytes) else body or "{}")
        operation = model.name
        with self._lock:
            photo = self._photo(operation, request)
            try:
                code = self.fault(operation, photo) if self.fault else None
                if code:
                    raise _Error(code, "Rate exceeded" if "Throttl" in code or "Throughput" in code else code)
                handler = getattr(self, "_" + "".join("_" + c.lower() if c.isupper() else c for c in operation)[1:])
                response = handler(request)
            except _Error as err:
                self.errors[(operation, photo, err.code)] += 1
                return _Http(err.status), {"Error": {"Code": err.code, "Message": err.message},
                                           "ResponseMetadata": {"HTTPStatusCode": err.status,
                                                                "RequestId": str(uuid.uuid4())}}
            self.calls[(operation, photo)] += 1
        response["ResponseMetadata"] = {"HTTPStatusCode": 200, "RequestId": str(uuid.uuid4())}
        return _Http(200), response

    def _photo(self, operation: str, request: dict) -> str | None:
        """The photo a call is about (for accounting and fault plans)."""
        if "Image" in request:
            return self.photo_of_image(request["Image"]["S3Object"]["Name"])
        face_ids = list(request.get("FaceIds") or []) + ([request["FaceId"]] if request.get("FaceId") else [])
        for face_id in face_ids:
            if face_id in self.faces:
                return self.faces[face_id].photo
        return None

    def _image(self, request: dict) -> bytes:
        s3 = request["Image"]["S3Object"]
        try:
            return self.read_object(s3["Bucket"], s3["Name"])
        except Exception as exc:  # what Rekognition says when it cannot read the S3 object
            raise _Error("InvalidS3ObjectException",
                         "Unable to get object metadata from S3. Check object key, region and/or access "
                         "permissions.") from exc

    def _user(self, request: dict) -> str:
        user = request["UserId"]
        if user not in self.users:
            raise _Error("ResourceNotFoundException", f"User {user} not found")
        return user

    def _user_signatures(self, user: str) -> set[str]:
        return {face.signature for face in self.faces.values() if face.user == user}

    # ------------------------------------------------------------------ operations
    def _detect_labels(self, request: dict) -> dict:
        analysis = self.analyse(self._image(request))
        wanted = float(request.get("MinConfidence", 55))
        labels = [label for label in analysis.labels if label["Confidence"] >= wanted]
        return {"Labels": labels[: int(request.get("MaxLabels", 1000))], "LabelModelVersion": "3.0"}

    def _index_faces(self, request: dict) -> dict:
        analysis = self.analyse(self._image(request))
        photo = photo_id_from_external_image_id(request["ExternalImageId"]) or request["ExternalImageId"]
        records = []
        for seen in analysis.faces[: int(request.get("MaxFaces", 100))]:
            face = _Face(str(uuid.uuid4()), photo, seen.signature, seen.bbox)
            self.faces[face.face_id] = face
            records.append({"Face": {"FaceId": face.face_id, "BoundingBox": seen.bbox, "ImageId": str(uuid.uuid4()),
                                     "ExternalImageId": request["ExternalImageId"], "Confidence": 99.9},
                            "FaceDetail": {"BoundingBox": seen.bbox, "Confidence": 99.9}})
        return {"FaceRecords": records, "FaceModelVersion": "7.0", "UnindexedFaces": []}

    def _search_users(self, request: dict) -> dict:
        if request.get("FaceId"):
            face = self.faces.get(request["FaceId"])
            if face is None:
                raise _Error("ResourceNotFoundException", f"Face {request['FaceId']} not found")
            wanted, skip = {face.signature}, face.user
        else:
            user = self._user(request)
            wanted, skip = self._user_signatures(user), user
        matches = [{"Similarity": 99.0, "User": {"UserId": user, "UserStatus": "ACTIVE"}}
                   for user in sorted(self.users) if user != skip and self._user_signatures(user) & wanted]
        return {"UserMatches": matches[: int(request.get("MaxUsers", 5))], "FaceModelVersion": "7.0"}

    def _search_faces(self, request: dict) -> dict:
        """Faces of the same signature (similarity 99), the face itself left out, as SearchFaces answers."""
        face = self.faces.get(request["FaceId"])
        if face is None:
            raise _Error("InvalidParameterException", f"Face {request['FaceId']} not found in the collection")
        if float(request.get("FaceMatchThreshold", 80)) > 99.0:
            return {"SearchedFaceId": face.face_id, "FaceMatches": [], "FaceModelVersion": "7.0"}
        matches = [{"Similarity": 99.0, "Face": {"FaceId": other.face_id, "BoundingBox": other.bbox,
                                                  "ExternalImageId": external_image_id(other.photo),
                                                  "Confidence": 99.9, **({"UserId": other.user} if other.user else {})}}
                   for other in self.faces.values() if other.face_id != face.face_id and other.signature == face.signature]
        return {"SearchedFaceId": face.face_id, "FaceMatches": matches[: int(request.get("MaxFaces", 2))],
                "FaceModelVersion": "7.0"}

    def _create_user(self, request: dict) -> dict:
        user, token = request["UserId"], request.get("ClientRequestToken")
        if user in self.users:
            if token and self.users[user] == token:
                return {}  # a replay of the same request
            raise _Error("ConflictException", f"User {user} already exists")
        self.users[user] = token
        return {}

    def _associate_faces(self, request: dict) -> dict:
        user = self._user(request)
        signatures = self._user_signatures(user)
        done, failed = [], []
        for face_id in request["FaceIds"]:
            face = self.faces.get(face_id)
            if face is None:
                failed.append({"FaceId": face_id, "Reasons": ["FACE_NOT_FOUND"]})
            elif face.user == user:
                continue  # already this user's: Rekognition lists it in neither
            elif face.user is not None:
                failed.append({"FaceId": face_id, "UserId": face.user, "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]})
            elif signatures and face.signature not in signatures:
                failed.append({"FaceId": face_id, "Reasons": ["LOW_MATCH_CONFIDENCE"]})
            else:
                face.user = user
                done.append({"FaceId": face_id, "UserId": user})
        return {"AssociatedFaces": done, "UnsuccessfulFaceAssociations": failed, "UserStatus": "ACTIVE"}

    def _disassociate_faces(self, request: dict) -> dict:
        user = self._user(request)
        done = []
        for face_id in request["FaceIds"]:
            face = self.faces.get(face_id)
            if face is not None and face.user == user:
                face.user = None
                done.append({"FaceId": face_id, "UserId": user})
        return {"DisassociatedFaces": done, "UnsuccessfulFaceDisassociations": [], "UserStatus": "ACTIVE"}

    def _delete_faces(self, request: dict) -> dict:
        deleted, failed = [], []
        for face_id in request["FaceIds"]:
            face = self.faces.get(face_id)
            if face is None:
                continue
            if face.user is not None:
                failed.append({"FaceId": face_id, "UserId": face.user, "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]})
                continue
            del self.faces[face_id]
            deleted.append(face_id)
        return {"DeletedFaces": deleted, "UnsuccessfulFaceDeletions": failed}

    def _list_faces(self, request: dict) -> dict:
        ids = request.get("FaceIds") or list(self.faces)
        faces = [{"FaceId": i, "ExternalImageId": self.faces[i].photo, **({"UserId": self.faces[i].user}
                                                                          if self.faces[i].user else {})}
                 for i in ids if i in self.faces]
        return {"Faces": faces, "FaceModelVersion": "7.0"}

    def _describe_collection(self, request: dict) -> dict:
        return {"FaceCount": len(self.faces), "UserCount": len(self.users), "FaceModelVersion": "7.0"}
