#!/usr/bin/env python3
"""Fault drill: photos through the local runtime (real ASL in moto) under the faults AWS really produces,
then an audit that nothing was lost and nothing was left behind. See docs/fault_drill.md.

    python scripts/fault_drill.py                 # 300 photos, seed 7
    python scripts/fault_drill.py --photos 30     # what tests/workflow/test_fault_drill.py runs

Injected (fixed seed, so a run is repeatable up to thread timing):
* Rekognition throttles on 10 % of photos: ThrottlingException / ProvisionedThroughputExceededException
  answered by the emulated service (shoebox.local.rekognition_emulator) to one API of the photo, in bursts of
  1-5 consecutive calls (3-5 outlast more than one Retry interval). The real ``rekognition`` recognizer
  turns them into RecognitionThrottled, which the state machine's Retry lists.
* 2 % permanently corrupt files (truncated JPEGs, random bytes).
* Lambda service errors on 3 % of photos: the Invoke call of a random step fails with ServiceException
  (500) or TooManyRequestsException (429) once or twice (LambdaBridge InvokeError), as Lambda.<code>.
* duplicate deliveries: a second execution with the same event, half while the first still runs.
* deletes of originals, some just before a random step of the photo's execution runs.
* re-uploads of a changed file under the same key just before a random step of the first version's run.

Last line, JSON: {"photos", "processed", "failed", "duplicates_collapsed", "deleted", "replaced", "lost",
"orphans"}; the line before it has the details (every problem found, timings, call counts). Exit 1 when a
check failed.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoebox.executions import execution_name
from shoebox.local.lambda_bridge import InvokeError
from shoebox.local.rekognition_emulator import Analysis, RekognitionEmulator, SeenFace

# ------------------------------------------------------------------------------------------ content
# Faces are solid squares in a person's colour on a scene's background; the emulated Rekognition reads
# them back from the view thumbnail's pixels (so a re-upload with other people really shows others).
PEOPLE = {"ann": (220, 30, 30), "bob": (30, 190, 30), "cid": (40, 40, 230), "dee": (235, 220, 30),
          "eve": (215, 30, 215), "fay": (30, 215, 215), "gus": (245, 140, 20), "hal": (250, 250, 250)}
SCENES = {"Beach": ((70, 70, 70), ["Nature", "Outdoors"]), "Forest": ((110, 80, 50), ["Plant", "Nature"]),
          "Night": ((15, 15, 60), ["Outdoors"]), "Room": ((95, 105, 45), ["Indoors"])}
SIZE = (480, 360)
STEPS = ["Classify", "Thumbnail", "DetectLabels", "IndexFaces", "Persist"]
FACE_APIS = ["IndexFaces", "SearchFaces"]  # made on every run with faces (the default faces grouping)
MAX_ATTEMPTS = 7  # the ASL's Retry: MaxAttempts 6 after the first


@dataclass
class Content:
    scene: str
    people: list[str]
    boxes: list[tuple[int, int, int]]  # (x, y, side) in pixels, one per person


def make_content(rng: random.Random) -> Content:
    people = rng.sample(sorted(PEOPLE), rng.choice([0, 0, 1, 1, 2, 3]))
    boxes: list[tuple[int, int, int]] = []
    for i, _ in enumerate(people):
        side = rng.randint(60, 90)
        x = 15 + i * 150 + rng.randint(0, 40)
        boxes.append((x, rng.randint(20, SIZE[1] - side - 20), side))
    return Content(rng.choice(sorted(SCENES)), people, boxes)


def render(content: Content, when: tuple[int, int, int]) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", SIZE, SCENES[content.scene][0])
    draw = ImageDraw.Draw(image)
    for person, (x, y, side) in zip(content.people, content.boxes):
        draw.rectangle([x, y, x + side, y + side], fill=PEOPLE[person])
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "%04d:%02d:%02d 12:00:00" % when
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def analyse(data: bytes) -> Analysis:
    """What the emulated Rekognition sees: each person's square (by colour) and the scene."""
    import numpy as np
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.thumbnail((240, 240))
    pixels = np.asarray(image).astype(np.int32)
    h, w, _ = pixels.shape
    faces, taken = [], np.zeros((h, w), bool)
    for person, colour in PEOPLE.items():
        mask = (np.abs(pixels - np.array(colour)).sum(axis=2) < 60)
        if mask.sum() < 40:
            continue
        ys, xs = np.nonzero(mask)
        taken |= mask
        faces.append(SeenFace({"Left": xs.min() / w, "Top": ys.min() / h, "Width": (xs.max() - xs.min() + 1) / w,
                               "Height": (ys.max() - ys.min() + 1) / h}, person))
    rest = pixels[~taken].mean(axis=0) if (~taken).any() else pixels.reshape(-1, 3).mean(axis=0)
    scene = min(SCENES, key=lambda s: float(np.abs(rest - np.array(SCENES[s][0])).sum()))
    labels = [{"Name": scene, "Confidence": 95.0, "Parents": [{"Name": p} for p in SCENES[scene][1]]}]
    if faces:
        labels.insert(0, {"Name": "Person", "Confidence": 99.0, "Parents": []})
    return Analysis(labels, sorted(faces, key=lambda f: f.bbox["Left"]))


def corrupt_bytes(rng: random.Random, good: bytes) -> tuple[bytes, str]:
    if rng.random() < 0.5:
        return good[: len(good) // 2], "ImageError"  # truncated mid-scan
    return bytes(rng.randrange(256) for _ in range(3000)), "UnsupportedFormat"


# ------------------------------------------------------------------------------------------ the plan
@dataclass
class Photo:
    key: str
    content: Content
    body: bytes
    corrupt: str | None = None  # the error type expected on the photo
    throttle: tuple[str, int, str] | None = None  # (API, consecutive throttled calls, code)
    lambda_fault: tuple[str, int, str, int] | None = None  # (step, times, code, status)
    duplicate: str | None = None  # "running" | "after"
    delete: str | None = None  # a step name (delete just before it runs) | "after"
    replace: tuple[str, Content, bytes] | None = None  # (step, new content, new body)
    arns: list[str] = field(default_factory=list)


def plan(n: int, seed: int, duplicates: int, deletes: int, replaces: int) -> list[Photo]:
    rng = random.Random(seed)
    photos = []
    for i in range(n):
        when = (2000 + i % 20, 1 + i % 12, 1 + i % 28)
        content = make_content(rng)
        photos.append(Photo(f"originals/{when[0]:04d}/{when[1]:02d}/{when[2]:02d}/drill_{i:04d}.jpg", content,
                            render(content, when)))
    order = list(range(n))
    rng.shuffle(order)
    pick = iter(order)
    for _ in range(max(1, round(n * 0.02))):
        photo = photos[next(pick)]
        photo.body, photo.corrupt = corrupt_bytes(rng, photo.body)
    for i, _ in zip(pick, range(deletes)):
        photos[i].delete = rng.choice(["after", "Classify", "Thumbnail", "DetectLabels", "Persist"])
    for i, _ in zip(pick, range(replaces)):
        content = make_content(rng)
        when = tuple(int(part) for part in photos[i].key.split("/")[1:4])
        photos[i].replace = (rng.choice(["Classify", "Thumbnail", "DetectLabels", "Persist"]), content,
                             render(content, when))  # type: ignore[arg-type]
    healthy = [p for p in photos if not p.corrupt]
    for photo in rng.sample(healthy, max(1, round(n * 0.10))):
        apis = ["DetectLabels"] + (FACE_APIS if photo.content.people else [])
        burst = rng.choice([1, 1, 2, 2, 3, 4, 5])  # 3-5: throttled through more than one Retry interval
        photo.throttle = (rng.choice(apis), burst, rng.choice(["ThrottlingException",
                                                               "ProvisionedThroughputExceededException"]))
    for photo in rng.sample(healthy, max(1, round(n * 0.03))):
        steps = [s for s in STEPS if s != "IndexFaces" or photo.content.people]
        code, status = rng.choice([("ServiceException", 500), ("TooManyRequestsException", 429)])
        photo.lambda_fault = (rng.choice(steps), rng.choice([1, 2]), code, status)
    for photo in rng.sample(photos, min(duplicates, n)):
        photo.duplicate = rng.choice(["running", "after"])
    return photos


# ------------------------------------------------------------------------------------------ the run
class Drill:
    def __init__(self, photos: list[Photo], rt: Any, emulator: RekognitionEmulator) -> None:
        self.photos = {p.key: p for p in photos}
        self.rt = rt
        self.emulator = emulator
        self.lock = threading.Lock()
        self.throttles_left = {p.key: p.throttle[1] for p in photos if p.throttle}
        self.lambda_left = {p.key: p.lambda_fault[1] for p in photos if p.lambda_fault}
        self.refused: Counter[tuple[str, str]] = Counter()  # (execution, step) -> Invoke calls refused
        self.done_actions: set[tuple[str, str]] = set()
        self.extra_arns: list[str] = []
        self.errors: list[str] = []

    # --- faults, as the services answer
    def rekognition_fault(self, operation: str, photo: str | None) -> str | None:
        spec = self.photos.get(photo or "")
        if not spec or not spec.throttle or spec.throttle[0] != operation:
            return None
        with self.lock:
            if self.throttles_left[spec.key] <= 0:
                return None
            self.throttles_left[spec.key] -= 1
            return spec.throttle[2]

    def interceptor(self, function: Any, payload: dict) -> None:
        step = function.logical_id.removesuffix("Function")
        spec = self.photos.get(payload.get("key", ""))
        if spec is None:
            return
        # a delete or re-upload lands just before this step runs, in whichever of the photo's executions
        # gets there first
        if spec.delete == step and self._once(spec.key, "delete"):
            self.rt.s3.delete_object(Bucket=self.rt.bucket, Key=spec.key)
        if spec.replace and spec.replace[0] == step and self._once(spec.key, "replace"):
            self.rt.s3.put_object(Bucket=self.rt.bucket, Key=spec.key, Body=spec.replace[2])
        if spec.lambda_fault and spec.lambda_fault[0] == step:
            with self.lock:
                if self.lambda_left[spec.key] > 0:
                    self.lambda_left[spec.key] -= 1
                    self.refused[(payload.get("execution", ""), step)] += 1
                    raise InvokeError(spec.lambda_fault[2], spec.lambda_fault[3], "Rate exceeded."
                                      if spec.lambda_fault[3] == 429 else "Service unavailable (injected)")

    def _once(self, key: str, action: str) -> bool:
        with self.lock:
            if (key, action) in self.done_actions:
                return False
            self.done_actions.add((key, action))
            return True

    # --- deliveries
    def deliver_again(self, spec: Photo) -> None:
        """EventBridge delivers at least once: the same event starts a second execution."""
        described = self.rt.sfn.describe_execution(executionArn=spec.arns[0])
        arn = self.rt.sfn.start_execution(stateMachineArn=described["stateMachineArn"],
                                          name=execution_name(spec.key), input=described["input"])["executionArn"]
        with self.lock:
            self.extra_arns.append(arn)

    def all_arns(self) -> list[str]:
        arns = [a for key in list(self.rt.started) for a in list(self.rt.started[key])]
        return arns + list(self.extra_arns)

    def settle(self, timeout: float = 900) -> None:
        """Wait until no execution runs (ones started meanwhile, by deletes and re-uploads, too)."""
        seen: set[str] = set()
        while True:
            self.rt.wait_queued(timeout)  # uploads (re-uploads too) start through the upload queue
            arns = set(self.all_arns())
            if arns <= seen:
                return
            self.rt.wait(arns, timeout=timeout)
            seen = arns

    def run(self) -> None:
        for spec in self.photos.values():
            arn = self.rt.upload(spec.body, spec.key)
            spec.arns.append(arn)
            if spec.duplicate == "running":
                self.deliver_again(spec)
        self.settle()
        for spec in self.photos.values():
            if spec.duplicate == "after":
                self.deliver_again(spec)
            if spec.delete == "after":
                self.rt.s3.delete_object(Bucket=self.rt.bucket, Key=spec.key)
        self.settle()


# ------------------------------------------------------------------------------------------ the audit
def scan(rt: Any) -> list[dict]:
    """Every item of the table (an audit reads everything; the product never scans)."""
    from shoebox import aws

    client, items, kwargs = aws.client("dynamodb"), [], {"TableName": rt.table}
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def audit(drill: Drill) -> dict:
    from shoebox import executions as views
    from shoebox.catalog import Catalog
    from shoebox.steps.common import thumbnail_keys

    rt, emulator = drill.rt, drill.emulator
    catalog = Catalog(rt.table)
    problems: list[str] = []
    lost: set[str] = set()
    orphans: list[str] = []
    s3_keys = set()
    for page in rt.s3.get_paginator("list_objects_v2").paginate(Bucket=rt.bucket):
        s3_keys.update(o["Key"] for o in page.get("Contents", []))
    items = scan(rt)
    photo_items = {i["key"]["S"]: i for i in items if i["sk"]["S"] == "PHOTO" and i["pk"]["S"].startswith("PHOTO#")}
    records = {k: catalog.get_photo(k) for k in photo_items}

    # every photo (its final version) ends processed, or failed with its reason; a deleted one leaves nothing
    counts = Counter()
    for spec in drill.photos.values():
        record = records.get(spec.key)
        if spec.delete:
            leftovers = [k for k in thumbnail_keys(spec.key) if k in s3_keys]
            leftovers += [f"row {i['pk']['S']}|{i['sk']['S']}" for i in items
                          if i.get("key", {}).get("S") == spec.key]
            leftovers += [f"face {f.face_id}" for f in emulator.faces.values() if f.photo == spec.key]
            if spec.key in s3_keys:
                problems.append(f"{spec.key}: the original is back after its delete")
            elif leftovers:
                problems.append(f"{spec.key}: deleted ({spec.delete}) but left {leftovers}")
            else:
                counts["deleted"] += 1
            continue
        content = spec.replace[1] if spec.replace else spec.content
        etag = rt.s3.head_object(Bucket=rt.bucket, Key=spec.key)["ETag"].strip('"')
        if record is None:
            problems.append(f"{spec.key}: no catalog row")
            lost.add(spec.key)
            continue
        if spec.corrupt:
            if record.status != "failed" or not (record.error or "").startswith(spec.corrupt):
                problems.append(f"{spec.key}: corrupt, expected failed with {spec.corrupt}, got {record.status} "
                                f"{record.error}")
                lost.add(spec.key)
            else:
                counts["failed"] += 1
            continue
        if record.status != "processed":
            problems.append(f"{spec.key}: {record.status}: {record.error}")
            lost.add(spec.key)
            continue
        if record.etag and record.etag != etag:
            problems.append(f"{spec.key}: row is of etag {record.etag}, the original's is {etag}")
            lost.add(spec.key)
        view = record.thumbnails.get("view", {}).get("key")
        if not view or view not in s3_keys or thumbnail_keys(spec.key)[1] not in s3_keys:
            problems.append(f"{spec.key}: thumbnails missing")
            lost.add(spec.key)
            continue
        seen = analyse(rt.s3.get_object(Bucket=rt.bucket, Key=view)["Body"].read())
        if sorted(f.signature for f in seen.faces) != sorted(content.people) or seen.labels[-1]["Name"] != content.scene:
            problems.append(f"{spec.key}: thumbnail shows {seen.labels[-1]['Name']} {sorted(f.signature for f in seen.faces)}, "
                            f"the original {content.scene} {sorted(content.people)}")
            lost.add(spec.key)
        in_row = {f["face_id"] for f in record.faces}
        in_collection = {f.face_id for f in emulator.faces.values() if f.photo == spec.key}
        signatures = sorted(emulator.faces[f].signature for f in in_row if f in emulator.faces)
        if in_row != in_collection or signatures != sorted(content.people):
            problems.append(f"{spec.key}: row faces {sorted(in_row)} ({signatures}), collection "
                            f"{sorted(in_collection)}, picture shows {sorted(content.people)}")
            lost.add(spec.key)
        if spec.key not in lost:
            counts["processed"] += 1
            counts["replaced"] += bool(spec.replace)

    # orphans: thumbnails, rows and faces of no photo
    known = {k for k in drill.photos if k in s3_keys}
    for key in s3_keys:
        if key.startswith("thumbnails/people/"):
            continue  # person covers: checked with the people rows
        if key.startswith("thumbnails/"):
            rest = key[len("thumbnails/"):]
            original = rest.removesuffix(".sm.jpg") if rest.endswith(".sm.jpg") else rest.removesuffix(".jpg")
            if "originals/" + original not in known or records.get("originals/" + original) is None:
                orphans.append(key)
    listed = {r for i in photo_items.values() for r in i.get("index_rows", {}).get("SS", [])}
    referenced = {f["face_id"] for r in records.values() if r for f in r.faces}
    person_of_face = {f["face_id"]: f.get("person_id") for r in records.values() if r for f in r.faces}
    for item in items:
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        if pk in ("VOCAB", "PEOPLE"):
            continue
        if pk.startswith("PHOTO#"):
            if item["key"]["S"] not in known:
                orphans.append(f"row {pk}")
        elif pk.startswith("PHOTOFACES#"):
            key = pk[len("PHOTOFACES#"):]
            record = records.get(key)
            faces = json.loads(item["faces"]["S"])
            row_faces = {(f.get("person_id"), f["face_id"]) for f in (record.faces if record and
                                                                      record.status == "processed" else [])}
            if key not in known or {(p, s.rsplit("#", 1)[1]) for p, s in faces} != row_faces:
                orphans.append(f"row {pk} {faces}")
        elif pk.startswith("FACES#"):
            record = records.get(item["key"]["S"])
            if record is None or item["face_id"]["S"] not in {f["face_id"] for f in record.faces}:
                orphans.append(f"row {pk}|{sk}")
        elif pk == "REKFACE" and "gone" in item:  # a removed face's tombstone (recognition/face_search.py)
            if sk in emulator.faces:
                problems.append(f"face {sk}: still indexed, but its item is a tombstone")
        elif pk == "REKFACE":  # face -> person: only for faces still indexed
            if sk not in emulator.faces or sk not in referenced:
                orphans.append(f"row {pk}|{sk} ({'indexed' if sk in emulator.faces else 'not indexed'}, "
                               f"{'in a row' if sk in referenced else 'in no row'}, photo {item.get('photo_id', {}).get('S')})")
            elif person_of_face[sk] != item["person_id"]["S"]:
                problems.append(f"face {sk}: filed as {item['person_id']['S']}, its row says {person_of_face[sk]}")
        elif f"{pk}|{sk}" not in listed or item.get("key", {}).get("S") not in known:
            orphans.append(f"row {pk}|{sk}")
    orphans += [f"face {f.face_id} of {f.photo}" for f in emulator.faces.values() if f.face_id not in referenced]

    # people: each person's counts are exactly the faces on photos; one person's faces all show one person
    from shoebox.catalog.people import People

    people = People(catalog)
    faces_by_person: Counter[str] = Counter()
    photos_by_person: dict[str, set[str]] = defaultdict(set)
    for record in records.values():
        if record and record.status == "processed":
            for face in record.faces:
                faces_by_person[face["person_id"]] += 1
                photos_by_person[face["person_id"]].add(record.key)
    for person in people.list_people(include_empty=True):  # nothing merges people in the drill
        pid = person.id
        if (person.faces, person.photos) != (faces_by_person.get(pid, 0), len(photos_by_person.get(pid, ()))):
            problems.append(f"person {pid}: {person.faces} faces on {person.photos} photos, the photos show "
                            f"{faces_by_person.get(pid, 0)} on {len(photos_by_person.get(pid, ()))}")
        if person.faces <= 0 and person.cover:
            orphans.append(f"cover of {pid} (no face left)")
    for pid in faces_by_person:
        shown = {emulator.faces[f["face_id"]].signature for r in records.values() if r for f in r.faces
                 if f["person_id"] == pid and f["face_id"] in emulator.faces}
        if len(shown) > 1:
            problems.append(f"person {pid} holds faces of {sorted(shown)}")

    # Rekognition calls per photo within what the retries allow
    attempts: dict[str, Counter[str]] = defaultdict(Counter)
    executions, most_attempts = [], 0
    for arn in set(drill.all_arns()):
        record = rt.execution_record(arn)
        executions.append(record)
        key = views.input_key(record["describe"])
        for state in views.states(record["events"]):
            tries = state["retries"] + 1
            most_attempts = max(most_attempts, tries)
            if state["name"] in STEPS and tries > MAX_ATTEMPTS:
                problems.append(f"{key}: {state['name']} attempted {tries} times")
            attempts[key or ""][state["name"]] += tries
            attempts[key or ""][state["name"] + ".refused"] += drill.refused[(arn, state["name"])]
    calls_by_photo: dict[str, Counter[str]] = defaultdict(Counter)
    for (operation, photo), n in emulator.calls.items():
        calls_by_photo[photo or ""][operation] += n
    for (operation, photo, code), n in emulator.errors.items():
        calls_by_photo[photo or ""][operation] += n
    for key, calls in calls_by_photo.items():
        if key not in drill.photos:
            continue
        got = attempts[key]
        labels_budget = got["DetectLabels"] - got["DetectLabels.refused"]
        faces_budget = got["IndexFaces"] - got["IndexFaces.refused"]
        people_n = max(len(drill.photos[key].content.people),
                       len(drill.photos[key].replace[1].people) if drill.photos[key].replace else 0)
        if calls["DetectLabels"] > labels_budget or calls["IndexFaces"] > faces_budget or \
                calls["SearchFaces"] > faces_budget * people_n:
            problems.append(f"{key}: Rekognition calls {dict(calls)} beyond the attempts {dict(got)}")
    for key, left in drill.throttles_left.items():
        if left and key in known:
            problems.append(f"{key}: {left} planned throttles never reached (the call was not made)")

    failed_rows = {k: r.error for k, r in records.items() if r and r.status == "failed"}

    # duplicates collapsed: one row, one set of faces (checked above per photo)
    dup_ok = sum(1 for spec in drill.photos.values() if spec.duplicate and spec.key not in lost
                 and not any(p.startswith(spec.key + ":") for p in problems))
    return {"problems": problems, "lost": sorted(lost), "orphans": orphans, "counts": counts,
            "duplicates_collapsed": dup_ok, "failed_rows": failed_rows,
            "executions": len(executions), "most_attempts_of_a_step": most_attempts,
            "rekognition_calls": sum(emulator.calls.values()),
            "rekognition_errors": dict(Counter(code for (_, _, code), n in emulator.errors.items()
                                                for _ in range(n)))}


def failed_listing(home: Path) -> dict[str, list[str]]:
    """What `shoebox executions --failed --json` shows for this home: key -> errors (a new process, the
    command as a user runs it)."""
    import os
    import subprocess

    from shoebox.local import client

    try:
        out = subprocess.run([sys.executable, "-m", "shoebox", "executions", "--failed", "--json", "--limit",
                              "1000000"], env={**os.environ, "SHOEBOX_HOME": str(home)}, capture_output=True,
                             text=True, check=True)
    finally:
        # the command starts the home's background service, which stays up as it does for a user: the
        # drill's home is thrown away, so is its service (70 drills run as a script left 65 services up)
        client.stop(home)
    listed: dict[str, list[str]] = defaultdict(list)
    for row in json.loads(out.stdout):
        listed[row["key"]].append(row["error"] or "")
    return listed


def check_failed_listing(failed_rows: dict[str, str | None], listed: dict[str, list[str]]) -> list[str]:
    """Every failed photo is listed with its cause; every listed failure is a failed photo."""
    problems = []
    for key, error in failed_rows.items():
        if not any(error and error.split(":", 1)[0] in shown for shown in listed.get(key, [])):
            problems.append(f"{key}: failed ({error}) but `executions --failed` shows {listed.get(key)}")
    for key, shown in listed.items():
        if key not in failed_rows:
            problems.append(f"{key}: `executions --failed` lists {shown}, but the photo did not fail")
    return problems


def run(photos: int = 300, seed: int = 7, duplicates: int = 20, deletes: int = 5, replaces: int = 5,
        sleep_scale: float = 0.01, home: Path | None = None) -> tuple[dict, dict]:
    """Returns (result line, details)."""
    from shoebox import aws
    from shoebox.local import LocalRuntime
    from shoebox.recognition.registry import get_recognizer

    started = time.perf_counter()
    specs = plan(photos, seed, duplicates, deletes, replaces)
    with tempfile.TemporaryDirectory() as tmp:
        home = home or Path(tmp)
        with LocalRuntime(home, recognizer="rekognition", retry_sleep_scale=sleep_scale) as rt:
            s3 = aws.client("s3")
            emulator = RekognitionEmulator(
                read_object=lambda bucket, key: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
                analyse=analyse,
                photo_of_image=lambda key: "originals/" + key[len("thumbnails/"):].removesuffix(".jpg"))
            drill = Drill(specs, rt, emulator)
            emulator.fault = drill.rekognition_fault
            emulator.attach(get_recognizer("rekognition").client)
            rt.bridge.interceptors.append(drill.interceptor)
            try:
                drill.run()
                found = audit(drill)
            finally:
                emulator.detach()
        listed = failed_listing(home)
    found["problems"] += check_failed_listing(found["failed_rows"], listed)
    counts = found["counts"]
    result = {"photos": photos, "processed": counts["processed"], "failed": counts["failed"],
              "duplicates_collapsed": found["duplicates_collapsed"], "deleted": counts["deleted"],
              "replaced": counts["replaced"], "lost": len(found["lost"]), "orphans": len(found["orphans"])}
    details = {"seconds": round(time.perf_counter() - started, 1), "seed": seed,
               "injected": {"corrupt": sum(1 for s in specs if s.corrupt),
                            "throttled_photos": sum(1 for s in specs if s.throttle),
                            "throttles": sum(s.throttle[1] for s in specs if s.throttle),
                            "lambda_fault_photos": sum(1 for s in specs if s.lambda_fault),
                            "lambda_faults": sum(s.lambda_fault[1] for s in specs if s.lambda_fault),
                            "duplicates": sum(1 for s in specs if s.duplicate),
                            "deletes": {s.key: s.delete for s in specs if s.delete},
                            "replaces": {s.key: s.replace[0] for s in specs if s.replace}},
               "executions": found["executions"], "most_attempts_of_a_step": found["most_attempts_of_a_step"],
               "failed_listed": len(listed), "rekognition_calls": found["rekognition_calls"],
               "rekognition_errors": found["rekognition_errors"],
               "problems": found["problems"], "orphans": found["orphans"]}
    return result, details


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--duplicates", type=int, default=20)
    ap.add_argument("--deletes", type=int, default=5)
    ap.add_argument("--replaces", type=int, default=5)
    ap.add_argument("--sleep-scale", type=float, default=0.01, help="Retry waits x this (1 = as in AWS)")
    args = ap.parse_args(argv)
    result, details = run(args.photos, args.seed, args.duplicates, args.deletes, args.replaces, args.sleep_scale)
    print(json.dumps(details))
    print(json.dumps(result))
    return 0 if not details["problems"] and not result["lost"] and not result["orphans"] else 1


if __name__ == "__main__":
    sys.exit(main())
