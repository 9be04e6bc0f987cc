"""Backfill planner: how long and how much before the first photo is touched.

Pure functions over a price table (``functions/shoebox/prices.json``, the only place prices live) and a
handful of workload parameters. Nothing here calls AWS (``measure.measure_bucket`` lists a bucket for its inputs;
``prices.load_prices`` reads the table). The model and every default are explained in
docs/backfill.md; the short version:

* **Per photo work** follows the process-photo workflow (docs/architecture.md, "An upload's path", and
  statemachine/process_photo.asl.json): ExtractObject -> Classify -> IsVideo -> Thumbnail ->
  DetectLabels -> PersonSeen -> [IndexFaces] -> Persist -> Done. The backfill item processor adds an
  "already done?" check (DynamoDB GetItem + Choice) and the Distributed Map iteration itself.
* **Cost** = Lambda (GB-s by format + requests) + Step Functions (Standard transitions, or Express
  child requests + duration) + Rekognition calls + DynamoDB on-demand units + S3 requests (one-time)
  plus ``s3_storage_monthly``, the steady-state monthly storage bill once originals are in Glacier IR.
  ``total`` is the sum of those six figures: the backfill once, plus one month of storage.
* **Duration** = photos / min(Rekognition-bound rate, concurrency-bound rate), where the Rekognition
  bound is min over operations of TPS / calls-per-photo (each operation has its own quota) and the
  concurrency bound is max_concurrency / per-photo latency (Little's law).
* **max_concurrency** when not given = clamp(floor(headroom x rekognition_rate x latency), 1,
  lambda_concurrency_limit): just enough photos in flight to use ``headroom`` of the tightest
  Rekognition quota, leaving the rest for live uploads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from shoebox.backfill.prices import load_prices, region_prices
from shoebox.formats import PLANNER_CLASSES, THUMBNAIL_PROFILE
from shoebox.recognition.registry import MODES

# ---------------------------------------------------------------------------------------------------
# Formats: the planner's cost classes and extensions come from the format registry (shoebox.formats).
IMAGE_FORMATS = ("jpeg", "heic", "raw")

# A family archive from 2006 on: mostly camera/phone JPEGs, some DSLR RAW, a little recent HEIC.
DEFAULT_FORMAT_MIX: dict[str, float] = {"jpeg": 0.85, "raw": 0.10, "heic": 0.05}

# Lambda (arm64) memory and billed duration per invocation. Thumbnail depends on the format
# (formats.THUMBNAIL_PROFILE). The other steps are I/O bound: they wait on S3 / Rekognition / DynamoDB.
DEFAULT_STEP_PROFILE: dict[str, tuple[int, float]] = {  # step -> (memory MB, seconds)
    "classify": (256, 0.25),  # ranged GET of the first 64 KiB + magic-byte sniff
    "detect_labels": (256, 0.9),  # one DetectLabels round trip
    "index_faces": (256, 1.6),  # IndexFaces + grouping calls for each face
    "persist": (256, 0.25),  # BatchWriteItem of the photo and its index rows
    "record_failure": (256, 0.2),
}

# Step Functions Standard state transitions on each path through process_photo.asl.json.
#   image:  ExtractObject, Classify, IsVideo, Thumbnail, DetectLabels, PersonSeen, Persist, Done (+IndexFaces)
#   video:  ExtractObject, Classify, IsVideo, Persist, Done
#   other:  ExtractObject, Classify, RecordFailure, Failed
PROCESS_PHOTO_TRANSITIONS = {"image": 8, "video": 5, "other": 4}
# Added by the backfill item processor: the "already done?" GetItem + Choice.
BACKFILL_CHECK_TRANSITIONS = 2
# Added by the Distributed Map per item (one transition in the parent per child started).
MAP_ITEM_TRANSITIONS = 1

GIB = 1024**3

# Recognizer modes (the template's `Recognizer` parameter; docs/backfill.md "Recognizer modes").
# rekognition, FaceGrouping faces (the default): every face costs one SearchFaces; its person is an item of
# ours (one put, the matched faces' items read back consistently: up to 20, about 10 on average; a new
# person also takes and gives back its lease: about a quarter of faces, DEFAULT_ASSOCIATE_SHARE below).
REKFACE_WRU_PER_FACE = 1 + 0.25 * 2
REKFACE_RRU_PER_FACE = 10
REKFACE_KB_PER_FACE = 0.1
# rekognition, FaceGrouping users: every face costs a SearchUsers; an AssociateFaces only while its person's user vector holds
# fewer than 10 faces (rekognition.DEFAULT_USER_VECTOR_FACES). Share of faces associated, assumed: faces of
# people seen for the first time (strangers, guests: about one face in five in a family archive) plus the
# first ten of each person seen often (a few hundred people x 10 of ~54,000 faces).
DEFAULT_ASSOCIATE_SHARE = 0.25
# hybrid/local: the offline face models run in IndexFaces (and, for local, the label model and the faces
# behind the Person label in DetectLabels) at 2048 MB, on onnxruntime without OpenCV (docs/recognition.md).
# Measured (make rehearse, handler Lambda-like, faces filed in the DynamoDB face index on moto, 2-core
# machine under load 15-20): cold start 1.5 s CPU (was ≈ 3.2 s with OpenCV and the in-memory model
# conversion); 383 ms CPU a photo warm. Detection + embedding take 1.6x OpenCV's CPU in the same run (numpy
# resizing): 164 ms a photo measured at low load with OpenCV becomes ≈ 260 ms. Seconds below add the S3
# read and DynamoDB round trips.
OFFLINE_STEP_PROFILE: dict[str, dict[str, tuple[int, float]]] = {
    "hybrid": {"index_faces": (2048, 0.45)},
    "local": {"index_faces": (2048, 0.45), "detect_labels": (2048, 0.45)},
}
# DynamoDB face index per indexed face / per photo with faces (transactional writes cost 2 units per KB):
# the face item (~1 KB) and its person's running totals (~2 KB); the photo item; reads: the head, the
# photo's item and about one changed person item, consistent (1 unit per 4 KB).
FACE_INDEX_WRU_PER_FACE = 2 * (1 + 2)
FACE_INDEX_WRU_PER_PHOTO = 2
FACE_INDEX_RRU_PER_PHOTO = 3
# local: no Rekognition quota sets the pace; photos in flight are capped so that executions filing faces
# into the same people at once retry little (the face index was tested with 8 at once, not hundreds)
OFFLINE_MAX_CONCURRENCY = 64
FACE_INDEX_KB_PER_FACE = 1.0
FACE_INDEX_KB_PER_PERSON = 2.0


@dataclass(frozen=True)
class Plan:
    """The estimate. ``to_dict()`` is the stable JSON shape scripts rely on; ``assumptions`` is not."""

    photos: int
    gigabytes: float
    duration_s: float
    max_concurrency: int
    rekognition: float
    lambda_: float
    stepfunctions: float
    dynamodb: float
    s3_requests: float
    s3_storage_monthly: float
    assumptions: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def total(self) -> float:
        return (
            self.rekognition
            + self.lambda_
            + self.stepfunctions
            + self.dynamodb
            + self.s3_requests
            + self.s3_storage_monthly
        )

    def to_dict(self, *, include_assumptions: bool = False) -> dict[str, Any]:
        parts = {
            "rekognition": round(self.rekognition, 2),
            "lambda": round(self.lambda_, 2),
            "stepfunctions": round(self.stepfunctions, 2),
            "dynamodb": round(self.dynamodb, 2),
            "s3_requests": round(self.s3_requests, 2),
            "s3_storage_monthly": round(self.s3_storage_monthly, 2),
        }
        out: dict[str, Any] = {
            "photos": self.photos,
            "gigabytes": round(self.gigabytes, 3),
            "duration_s": int(math.ceil(self.duration_s)),
            "max_concurrency": self.max_concurrency,
            # total is the sum of the rounded parts, so the printed figures always add up.
            "cost_usd": {"total": round(sum(parts.values()), 2), **parts},
        }
        if include_assumptions:
            out["assumptions"] = self.assumptions
        return out


# ---------------------------------------------------------------------------------------------------
# The model


def _normalise_mix(format_mix: Mapping[str, float] | None) -> dict[str, float]:
    mix = dict(format_mix) if format_mix else dict(DEFAULT_FORMAT_MIX)
    unknown = sorted(set(mix) - set(PLANNER_CLASSES))
    if unknown:
        raise ValueError(f"unknown formats in format_mix: {unknown} (known: {list(PLANNER_CLASSES)})")
    if any(v < 0 or not math.isfinite(v) for v in mix.values()):
        raise ValueError("format_mix shares must be finite and >= 0")
    total = sum(mix.values())
    if total <= 0:
        raise ValueError("format_mix shares must add up to more than 0")
    return {f: mix.get(f, 0.0) / total for f in PLANNER_CLASSES}


def plan(
    photos: int,
    gigabytes: float,
    *,
    format_mix: Mapping[str, float] | None = None,
    max_concurrency: int | None = None,
    rekognition_tps: float = 5.0,
    person_share: float = 0.45,
    faces_per_person_photo: float = 2.0,
    region: str = "us-east-1",
    glacier_ir_after_days: int | None = 30,
    prices: Mapping[str, Any] | None = None,
    child_execution: str = "EXPRESS",  # what statemachine/backfill.asl.json uses
    labels_per_photo: float = 10.0,
    photo_index_writes: float = 3.0,
    grouping_calls_per_face: Mapping[str, float] | None = None,
    thumbnails_mb_per_photo: float = 0.35,
    originals_tier_at_backfill: str = "STANDARD",
    quota_headroom: float = 0.8,
    lambda_concurrency_limit: int = 1000,
    orchestration_s_per_state: float = 0.05,
    step_profile: Mapping[str, tuple[int, float]] | None = None,
    thumbnail_profile: Mapping[str, tuple[int, float]] | None = None,
    recognizer: str = "rekognition",
    face_grouping: str = "faces",
    associate_share: float = DEFAULT_ASSOCIATE_SHARE,
    people_per_1000_faces: float = 200.0,
) -> Plan:
    """Estimate duration and cost of backfilling ``photos`` originals totalling ``gigabytes`` GB.

    ``rekognition_tps`` is applied to each Rekognition operation's own quota (they are separate
    quotas). ``person_share`` is the share of images with a Person label (they get IndexFaces and one
    set of grouping calls per face). ``grouping_calls_per_face`` defaults to one SearchFaces
    (``rekognition`` with ``face_grouping="faces"``), or one SearchUsers and one AssociateFaces for
    ``associate_share`` of them (``face_grouping="users"``); ``hybrid`` calls DetectLabels only and
    ``local`` nothing: their faces are grouped in the IndexFaces Lambda and the DynamoDB face index.
    ``child_execution`` is the Distributed Map's ExecutionType.
    ``glacier_ir_after_days=None`` keeps originals in S3 Standard (no lifecycle transition).
    """
    if isinstance(photos, bool) or not isinstance(photos, int) or photos < 0:
        raise ValueError("photos must be an int >= 0")
    if not (gigabytes >= 0 and math.isfinite(gigabytes)):
        raise ValueError("gigabytes must be >= 0")
    if not rekognition_tps > 0:
        raise ValueError("rekognition_tps must be > 0")
    if not 0 <= person_share <= 1:
        raise ValueError("person_share must be within 0..1")
    if faces_per_person_photo < 0 or labels_per_photo < 0 or photo_index_writes < 0:
        raise ValueError("per-photo counts must be >= 0")
    if max_concurrency is not None and (isinstance(max_concurrency, bool) or int(max_concurrency) < 1):
        raise ValueError("max_concurrency must be >= 1")
    if child_execution not in ("STANDARD", "EXPRESS"):
        raise ValueError("child_execution must be STANDARD or EXPRESS")
    if originals_tier_at_backfill not in ("STANDARD", "GLACIER_IR"):
        raise ValueError("originals_tier_at_backfill must be STANDARD or GLACIER_IR")
    if glacier_ir_after_days is not None and glacier_ir_after_days < 0:
        raise ValueError("glacier_ir_after_days must be >= 0 or None")
    if not 0 < quota_headroom <= 1:
        raise ValueError("quota_headroom must be within (0, 1]")
    if recognizer not in MODES:
        raise ValueError(f"recognizer must be one of {MODES}")
    if not 0 <= associate_share <= 1:
        raise ValueError("associate_share must be within 0..1")
    if face_grouping not in ("faces", "users"):
        raise ValueError("face_grouping must be faces or users")

    p = region_prices(prices, region)
    mix = _normalise_mix(format_mix)
    steps = {**DEFAULT_STEP_PROFILE, **OFFLINE_STEP_PROFILE.get(recognizer, {}), **(step_profile or {})}
    thumbs = {**THUMBNAIL_PROFILE, **(thumbnail_profile or {})}
    if grouping_calls_per_face is not None:
        grouping = dict(grouping_calls_per_face)
    elif recognizer == "rekognition":
        grouping = {"SearchFaces": 1.0} if face_grouping == "faces" else \
            {"SearchUsers": 1.0, "AssociateFaces": associate_share}
    else:
        grouping = {}

    image_share = sum(mix[f] for f in IMAGE_FORMATS)
    faces_per_photo = image_share * person_share * faces_per_person_photo  # averaged over all items

    # --- Lambda: invocations and GB-s per item, averaged over the format mix ------------------------
    def gbs(step: tuple[int, float]) -> float:
        return step[0] / 1024 * step[1]

    image_common = ("classify", "detect_labels", "persist")
    lambda_requests = (
        image_share * (len(image_common) + 1 + person_share)  # +1 thumbnail
        + mix["video"] * 2  # classify, persist (recorded as skipped)
        + mix["other"] * 2  # classify, record_failure
    )
    lambda_gbs = (
        sum(mix[f] * (sum(gbs(steps[s]) for s in image_common) + gbs(thumbs[f])) for f in IMAGE_FORMATS)
        + image_share * person_share * gbs(steps["index_faces"])
        + mix["video"] * (gbs(steps["classify"]) + gbs(steps["persist"]))
        + mix["other"] * (gbs(steps["classify"]) + gbs(steps["record_failure"]))
    )

    # --- Step Functions: transitions per item on each path ------------------------------------------
    child_transitions = (
        image_share * (PROCESS_PHOTO_TRANSITIONS["image"] + person_share)
        + mix["video"] * PROCESS_PHOTO_TRANSITIONS["video"]
        + mix["other"] * PROCESS_PHOTO_TRANSITIONS["other"]
        + BACKFILL_CHECK_TRANSITIONS
    )

    # --- Per-item latency (seconds): Lambda time + Step Functions per-state overhead ----------------
    latency = (
        sum(mix[f] * (sum(steps[s][1] for s in image_common) + thumbs[f][1]) for f in IMAGE_FORMATS)
        + image_share * person_share * steps["index_faces"][1]
        + mix["video"] * (steps["classify"][1] + steps["persist"][1])
        + mix["other"] * (steps["classify"][1] + steps["record_failure"][1])
        + orchestration_s_per_state * child_transitions
        + 0.005  # DynamoDB GetItem of the already-done check
    )

    # --- Rekognition calls per item ------------------------------------------------------------------
    calls: dict[str, float] = {
        "rekognition": {"DetectLabels": image_share, "IndexFaces": image_share * person_share},
        "hybrid": {"DetectLabels": image_share},
        "local": {},
    }[recognizer]
    for op, n in grouping.items():
        calls[op] = calls.get(op, 0.0) + n * faces_per_photo
    rek = p["rekognition"]
    unknown_ops = sorted(op for op in calls if op not in rek)
    if unknown_ops:
        raise ValueError(f"no Rekognition price for {unknown_ops}")
    rek_per_item = sum(n * rek[op] for op, n in calls.items())

    # --- Throughput and concurrency ------------------------------------------------------------------
    busiest = max(calls.values(), default=0.0)
    rek_rate = rekognition_tps / busiest if busiest > 0 else math.inf  # items/s the quotas allow
    if max_concurrency is None:
        if math.isinf(rek_rate):
            max_concurrency = min(lambda_concurrency_limit,
                                  OFFLINE_MAX_CONCURRENCY if recognizer != "rekognition" else lambda_concurrency_limit)
        else:
            max_concurrency = int(quota_headroom * rek_rate * latency)
        max_concurrency = max(1, min(max_concurrency, lambda_concurrency_limit))
        concurrency_source = "derived"
    else:
        max_concurrency = int(max_concurrency)
        concurrency_source = "given"
    conc_rate = max_concurrency / latency
    rate = min(rek_rate, conc_rate)
    duration_s = photos / rate if photos else 0.0
    bottleneck = "rekognition_tps" if rek_rate <= conc_rate else "max_concurrency"

    # --- Costs ---------------------------------------------------------------------------------------
    lam = p["lambda"]
    lambda_cost = photos * (lambda_gbs * lam["arm64_gb_second"] + lambda_requests * lam["request"])

    sfn = p["stepfunctions"]
    if child_execution == "STANDARD":
        transitions = child_transitions + MAP_ITEM_TRANSITIONS
        sfn_cost = photos * transitions * sfn["standard_state_transition"]
    else:
        transitions = MAP_ITEM_TRANSITIONS
        express_gbs = sfn["express_billed_memory_mb"] / 1024 * math.ceil(latency * 10) / 10
        sfn_cost = photos * (
            transitions * sfn["standard_state_transition"]
            + sfn["express_request"]
            + express_gbs * sfn["express_gb_second"]
        )

    rekognition_cost = float(photos * rek_per_item)

    ddb = p["dynamodb"]
    image_rows = 1 + photo_index_writes + labels_per_photo  # photo row, its index entries, label rows
    wru_per_item = (
        image_share * image_rows
        + faces_per_photo  # one "photo of person" / face row per face
        + (mix["video"] + mix["other"]) * 2  # the recorded row + its skipped/failed index entry
    )
    rru_per_item = 0.5  # eventually consistent GetItem (< 4 KB) for the already-done check
    if recognizer != "rekognition":  # the face index lives in the table
        wru_per_item += faces_per_photo * FACE_INDEX_WRU_PER_FACE + image_share * person_share * FACE_INDEX_WRU_PER_PHOTO
        rru_per_item += image_share * person_share * FACE_INDEX_RRU_PER_PHOTO
    elif face_grouping == "faces":  # each face's person is an item of ours
        wru_per_item += faces_per_photo * REKFACE_WRU_PER_FACE
        rru_per_item += faces_per_photo * REKFACE_RRU_PER_FACE
    dynamodb_cost = photos * (
        wru_per_item * ddb["on_demand_write_request_unit"] + rru_per_item * ddb["on_demand_read_request_unit"]
    )

    s3 = p["s3"]
    std, gir = s3["standard"], s3["glacier_ir"]
    originals = gir if originals_tier_at_backfill == "GLACIER_IR" else std
    gets_original = 2  # classify (ranged) + thumbnail
    gets_view = image_share * (1 + person_share)  # Rekognition reads the view image from S3
    puts_thumbs = image_share * 2
    lists = math.ceil(photos / 1000) if photos else 0  # ItemReader pages of up to 1000 keys
    s3_requests_cost = (
        photos * gets_original * originals["get_select_request"]
        + photos * gets_view * std["get_select_request"]
        + photos * puts_thumbs * std["put_copy_post_list_request"]
        + lists * std["put_copy_post_list_request"]
    )
    retrieval_cost = gigabytes * gir["retrieval_gb"] if originals_tier_at_backfill == "GLACIER_IR" else 0.0
    s3_requests_cost += retrieval_cost
    transition_cost = photos * gir["lifecycle_transition_request"] if glacier_ir_after_days is not None else 0.0
    s3_requests_cost += transition_cost

    thumbs_gb = photos * image_share * thumbnails_mb_per_photo / 1024
    originals_tier = "GLACIER_IR" if glacier_ir_after_days is not None else "STANDARD"
    originals_rate = gir["storage_gb_month"] if originals_tier == "GLACIER_IR" else std["storage_gb_month"]
    storage_originals = gigabytes * originals_rate
    storage_thumbs = thumbs_gb * std["storage_gb_month"]
    s3_storage_monthly = storage_originals + storage_thumbs
    if glacier_ir_after_days is None:
        first_month = s3_storage_monthly
    else:
        std_days = min(glacier_ir_after_days, 30)
        first_month = storage_thumbs + gigabytes * (
            std["storage_gb_month"] * std_days / 30 + gir["storage_gb_month"] * (30 - std_days) / 30
        )

    faces_stored = photos * faces_per_photo
    catalog_rows = photos * (image_share * image_rows + faces_per_photo + (mix["video"] + mix["other"]) * 2)
    db_gb = catalog_rows * 0.5 / 1024 / 1024  # ~0.5 KB per row
    people = faces_stored * people_per_1000_faces / 1000
    if recognizer == "rekognition" and face_grouping == "faces":  # no user vectors; the face items are ours
        face_storage_monthly = faces_stored * rek["face_metadata_month"] \
            + faces_stored * REKFACE_KB_PER_FACE / 1024 / 1024 * ddb["storage_gb_month"]
    elif recognizer == "rekognition":
        face_storage_monthly = faces_stored * rek["face_metadata_month"] + people * rek["face_metadata_month"]
    else:
        face_storage_monthly = (faces_stored * FACE_INDEX_KB_PER_FACE + people * FACE_INDEX_KB_PER_PERSON) \
            / 1024 / 1024 * ddb["storage_gb_month"]

    assumptions: dict[str, Any] = {
        "region": region,
        "price_table_as_of": (prices or load_prices()).get("_source", {}).get("as_of"),
        "format_mix": {f: round(v, 4) for f, v in mix.items() if v},
        "rekognition_tps_per_operation": rekognition_tps,
        "quota_headroom": quota_headroom,
        "max_concurrency_source": concurrency_source,
        "max_concurrency_formula": "clamp(floor(quota_headroom * rekognition_tps / max_op_calls_per_photo"
        " * latency_s_per_photo), 1, lambda_concurrency_limit)",
        "bottleneck": bottleneck,
        "photos_per_s": round(rate, 3),
        "latency_s_per_photo": round(latency, 3),
        "person_share": person_share,
        "faces_per_person_photo": faces_per_person_photo,
        "rekognition_calls_per_photo": {op: round(n, 4) for op, n in calls.items()},
        "lambda_arch": "arm64",
        "lambda_gb_s_per_photo": round(lambda_gbs, 4),
        "lambda_requests_per_photo": round(lambda_requests, 4),
        "lambda_profile_mb_s": {**{k: list(v) for k, v in steps.items()},
                                **{f"thumbnail_{k}": list(v) for k, v in thumbs.items()}},
        "child_execution": child_execution,
        "state_transitions_per_photo": round(transitions, 4),
        "dynamodb_wru_per_photo": round(wru_per_item, 4),
        "dynamodb_rru_per_photo": rru_per_item,
        "s3_requests_per_photo": {
            "get_original": gets_original,
            "get_view_by_rekognition": round(gets_view, 4),
            "put_thumbnails": round(puts_thumbs, 4),
            "list_per_1000": 1,
        },
        "originals_tier_at_backfill": originals_tier_at_backfill,
        "glacier_ir_retrieval_usd": round(retrieval_cost, 2),
        "lifecycle_transition_usd": round(transition_cost, 2),
        "storage_monthly_by_tier": {
            "originals": {"tier": originals_tier, "gb": round(gigabytes, 3), "usd": round(storage_originals, 2)},
            "thumbnails": {"tier": "STANDARD", "gb": round(thumbs_gb, 3), "usd": round(storage_thumbs, 2)},
        },
        "glacier_ir_after_days": glacier_ir_after_days,
        "s3_storage_first_month_usd": round(first_month, 2),
        "recognizer": recognizer,
        "face_grouping": face_grouping if recognizer == "rekognition" else None,
        "not_in_total_monthly_usd": {
            # rekognition: face metadata + user vectors in the collection; hybrid/local: the face index rows
            "face_storage": round(face_storage_monthly, 2),
            "dynamodb_storage": round(db_gb * ddb["storage_gb_month"], 2),
        },
        "not_modelled": [
            "free tiers (Lambda 400,000 GB-s and 1M requests/month, Step Functions 4,000 transitions/month)",
            "retries (each adds a transition and an invocation)",
            "cold starts",
            "CloudWatch Logs ingestion",
            "KMS requests if SSE-KMS is used",
            "Rekognition volume tiers above 1M images/month",
        ],
    }

    return Plan(
        photos=photos,
        gigabytes=float(gigabytes),
        duration_s=duration_s,
        max_concurrency=max_concurrency,
        rekognition=rekognition_cost,
        lambda_=lambda_cost,
        stepfunctions=sfn_cost,
        dynamodb=dynamodb_cost,
        s3_requests=s3_requests_cost,
        s3_storage_monthly=s3_storage_monthly,
        assumptions=assumptions,
    )


def plan_modes(photos: int, gigabytes: float, *, recognizer: str = "rekognition",
               include_assumptions: bool = False, **kwargs: Any) -> dict[str, Any]:
    """``plan(...).to_dict()`` for ``recognizer``, plus ``recognizer`` and ``modes``: the same workload
    under each recognizer mode, its ``total`` (as ``cost_usd.total``: the backfill once plus one month of
    storage), ``one_off`` and ``monthly`` (S3 storage plus the faces' storage: the collection's for
    rekognition, the face index rows for hybrid/local)."""
    if recognizer not in MODES:
        raise ValueError(f"recognizer must be one of {MODES}")
    plans = {mode: plan(photos, gigabytes, recognizer=mode, **kwargs) for mode in MODES}
    out = plans[recognizer].to_dict(include_assumptions=include_assumptions)
    out["recognizer"] = recognizer
    modes = {}
    for mode, p in plans.items():
        d = p.to_dict(include_assumptions=True)
        cost, face_storage = d["cost_usd"], d["assumptions"]["not_in_total_monthly_usd"]["face_storage"]
        modes[mode] = {"total": cost["total"], "one_off": round(cost["total"] - cost["s3_storage_monthly"], 2),
                       "monthly": round(cost["s3_storage_monthly"] + face_storage, 2),
                       "rekognition": cost["rekognition"], "per_1000_photos": round(cost["total"] * 1000 / photos, 2)
                       if photos else 0.0}
    # the rekognition mode's other face grouping (the template's FaceGrouping), for the comparison
    grouping = kwargs.get("face_grouping", "faces")
    other = "users" if grouping == "faces" else "faces"
    modes["rekognition"]["face_grouping"] = grouping
    modes["rekognition"][f"total_with_{other}_grouping"] = plan(
        photos, gigabytes, recognizer="rekognition", **{**kwargs, "face_grouping": other}).to_dict()["cost_usd"]["total"]
    out["modes"] = modes
    return out
