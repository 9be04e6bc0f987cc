"""The backfill planner: shape, scaling, quota-derived concurrency, storage tiers, bucket measurement."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from shoebox.backfill.measure import measure_bucket
from shoebox.backfill.plan import DEFAULT_ASSOCIATE_SHARE, plan, plan_modes
from shoebox.backfill.prices import load_prices

ROOT = Path(__file__).resolve().parents[2]
COST_KEYS = {"total", "rekognition", "lambda", "stepfunctions", "dynamodb", "s3_requests", "s3_storage_monthly"}
PARTS = ("rekognition", "lambda_", "stepfunctions", "dynamodb", "s3_requests", "s3_storage_monthly")


def test_json_shape_is_exact_and_serialisable():
    d = plan(60_000, 200.0).to_dict()
    assert set(d) == {"photos", "gigabytes", "duration_s", "max_concurrency", "cost_usd"}
    assert set(d["cost_usd"]) == COST_KEYS
    assert d["photos"] == 60_000 and d["gigabytes"] == 200.0
    assert isinstance(d["duration_s"], int) and isinstance(d["max_concurrency"], int)
    assert all(isinstance(v, float) for v in d["cost_usd"].values())
    parts = sum(v for k, v in d["cost_usd"].items() if k != "total")
    assert d["cost_usd"]["total"] == pytest.approx(parts, abs=1e-9)
    assert json.loads(json.dumps(d)) == d


def test_assumptions_only_on_request():
    p = plan(1_000, 3.0)
    assert "assumptions" not in p.to_dict()
    a = p.to_dict(include_assumptions=True)["assumptions"]
    assert a["region"] == "us-east-1" and a["max_concurrency_source"] == "derived"
    assert set(a["storage_monthly_by_tier"]) == {"originals", "thumbnails"}


def test_cost_and_duration_scale_linearly_in_photos():
    small, big = plan(10_000, 30.0), plan(40_000, 120.0)
    for name in PARTS:
        assert getattr(big, name) == pytest.approx(4 * getattr(small, name), rel=1e-3), name
    assert big.total == pytest.approx(4 * small.total, rel=1e-3)
    assert big.duration_s == pytest.approx(4 * small.duration_s, rel=1e-9)
    assert big.max_concurrency == small.max_concurrency  # a property of quotas and latency, not of N


def test_zero_photos_cost_nothing():
    p = plan(0, 0.0)
    assert p.total == 0 and p.duration_s == 0


def test_rekognition_cost_counts_calls_per_photo():
    prices = load_prices()["regions"]["us-east-1"]["rekognition"]
    kw = dict(person_share=0.5, faces_per_person_photo=2.0, format_mix={"jpeg": 1.0})
    # DetectLabels 1 + IndexFaces 0.5 + per face (1 per photo): SearchFaces 1 (the default faces grouping)
    faces = plan(1_000, 3.0, **kw)
    assert faces.rekognition == pytest.approx(1_000 * (prices["DetectLabels"] + 0.5 * prices["IndexFaces"]
                                                       + 1.0 * prices["SearchFaces"]))
    # users grouping: SearchUsers 1 and AssociateFaces for the share of faces whose person's user vector
    # still takes faces
    p = plan(1_000, 3.0, face_grouping="users", **kw)
    expected = 1_000 * (prices["DetectLabels"] + 0.5 * prices["IndexFaces"]
                        + 1.0 * prices["SearchUsers"] + DEFAULT_ASSOCIATE_SHARE * prices["AssociateFaces"])
    assert p.rekognition == pytest.approx(expected)
    # the faces grouping keeps its people in the table: DynamoDB a little more, the collection's user vectors none
    assert faces.dynamodb > p.dynamodb
    every = plan(1_000, 3.0, face_grouping="users", associate_share=1.0, **kw)
    assert every.rekognition - p.rekognition == pytest.approx(1_000 * (1 - DEFAULT_ASSOCIATE_SHARE) * prices["AssociateFaces"])
    # no people -> only DetectLabels
    assert plan(1_000, 3.0, person_share=0.0, format_mix={"jpeg": 1.0}).rekognition == pytest.approx(
        1_000 * prices["DetectLabels"])


def test_max_concurrency_derived_from_tps_quota():
    kw = dict(format_mix={"jpeg": 1.0}, person_share=0.0)
    p = plan(1_000, 3.0, rekognition_tps=5.0, **kw)
    a = p.assumptions
    # only DetectLabels (1 call per photo): floor(0.8 * 5 / 1 * latency)
    assert p.max_concurrency == math.floor(0.8 * 5.0 * a["latency_s_per_photo"])
    # ten times the quota -> ten times the concurrency (within flooring)
    p10 = plan(1_000, 3.0, rekognition_tps=50.0, **kw)
    assert abs(p10.max_concurrency - 10 * p.max_concurrency) <= 10
    # the derived value keeps Rekognition under its quota: items/s <= tps / busiest call count
    for q in (p, p10):
        assert q.assumptions["photos_per_s"] <= q.assumptions["rekognition_tps_per_operation"] + 1e-9
    # tiny quota still gives at least one item in flight; a huge one is capped by Lambda concurrency
    assert plan(10, 0.1, rekognition_tps=0.01, **kw).max_concurrency == 1
    assert plan(10, 0.1, rekognition_tps=1e6, **kw).max_concurrency == 1000


def test_busiest_rekognition_operation_sets_the_pace():
    # 3 faces on every photo: SearchUsers is called 3x per photo, so it, not DetectLabels, binds.
    p = plan(1_000, 3.0, format_mix={"jpeg": 1.0}, person_share=1.0, faces_per_person_photo=3.0,
             rekognition_tps=6.0, max_concurrency=10_000)
    assert p.assumptions["bottleneck"] == "rekognition_tps"
    assert p.duration_s == pytest.approx(1_000 / (6.0 / 3.0))


def test_given_concurrency_bounds_duration_when_quota_allows():
    p = plan(1_000, 3.0, rekognition_tps=1_000.0, max_concurrency=4)
    a = p.assumptions
    assert a["max_concurrency_source"] == "given" and a["bottleneck"] == "max_concurrency"
    assert p.duration_s == pytest.approx(1_000 * a["latency_s_per_photo"] / 4, rel=1e-3)
    # more concurrency under the same quota never makes it slower
    assert plan(1_000, 3.0, rekognition_tps=1_000.0, max_concurrency=40).duration_s < p.duration_s


def test_glacier_ir_cheaper_than_standard():
    gir = plan(60_000, 200.0, glacier_ir_after_days=30)
    std = plan(60_000, 200.0, glacier_ir_after_days=None)
    assert gir.s3_storage_monthly < std.s3_storage_monthly
    s3 = load_prices()["regions"]["us-east-1"]["s3"]
    saved = 200.0 * (s3["standard"]["storage_gb_month"] - s3["glacier_ir"]["storage_gb_month"])
    assert std.s3_storage_monthly - gir.s3_storage_monthly == pytest.approx(saved)
    assert gir.assumptions["storage_monthly_by_tier"]["originals"]["tier"] == "GLACIER_IR"
    # the first month still pays Standard for the 30 days before the transition
    assert gir.assumptions["s3_storage_first_month_usd"] == pytest.approx(round(std.s3_storage_monthly, 2))


def test_backfilling_from_glacier_ir_pays_retrieval():
    warm = plan(1_000, 10.0, originals_tier_at_backfill="STANDARD")
    cold = plan(1_000, 10.0, originals_tier_at_backfill="GLACIER_IR")
    retrieval = load_prices()["regions"]["us-east-1"]["s3"]["glacier_ir"]["retrieval_gb"]
    assert cold.s3_requests - warm.s3_requests >= 10.0 * retrieval


def test_express_children_cost_less_in_step_functions():
    std = plan(10_000, 30.0, child_execution="STANDARD")
    exp = plan(10_000, 30.0, child_execution="EXPRESS")
    assert exp.stepfunctions < std.stepfunctions
    assert exp.rekognition == std.rekognition and exp.lambda_ == std.lambda_


def test_raw_costs_more_lambda_than_jpeg():
    assert plan(1_000, 25.0, format_mix={"raw": 1}).lambda_ > plan(1_000, 3.0, format_mix={"jpeg": 1}).lambda_


def test_videos_get_no_rekognition_calls():
    assert plan(1_000, 50.0, format_mix={"video": 1.0}).rekognition == 0


def test_prices_come_from_the_given_table():
    table = copy.deepcopy(load_prices())
    table["regions"]["us-east-1"]["rekognition"]["DetectLabels"] *= 2
    base, doubled = plan(1_000, 3.0, person_share=0.0), plan(1_000, 3.0, person_share=0.0, prices=table)
    assert doubled.rekognition == pytest.approx(2 * base.rekognition)
    with pytest.raises(ValueError, match="no prices for region"):
        plan(1_000, 3.0, region="mars-north-1")


def test_price_table_has_a_source_and_every_service():
    table = load_prices()
    assert table["_source"]["as_of"]
    region = table["regions"]["us-east-1"]
    assert {"lambda", "stepfunctions", "rekognition", "dynamodb", "s3"} <= set(region)
    for op in ("DetectLabels", "IndexFaces", "SearchFaces", "SearchUsers", "face_metadata_month"):
        assert region["rekognition"][op] > 0
    assert region["s3"]["glacier_ir"]["storage_gb_month"] < region["s3"]["standard"]["storage_gb_month"]


@pytest.mark.parametrize(
    "kwargs",
    [dict(photos=-1, gigabytes=1.0), dict(photos=1, gigabytes=-1.0), dict(photos=1, gigabytes=1.0, format_mix={"gif": 1}),
     dict(photos=1, gigabytes=1.0, person_share=1.5), dict(photos=1, gigabytes=1.0, max_concurrency=0),
     dict(photos=1, gigabytes=1.0, rekognition_tps=0), dict(photos=1, gigabytes=1.0, format_mix={"jpeg": 0})],
)
def test_bad_inputs_are_rejected(kwargs):
    with pytest.raises(ValueError):
        plan(**kwargs)


@mock_aws
def test_measure_bucket_counts_sizes_and_formats():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="archive")
    objects = {
        "originals/2006/10/04/IMG_0001.JPG": 3 * 1024**2,
        "originals/2006/10/04/DSC_0002.NEF": 12 * 1024**2,
        "originals/2019/05/01/IMG_0003.heic": 2 * 1024**2,
        "originals/2019/05/01/clip.MOV": 40 * 1024**2,
        "originals/2019/05/01/notes": 10,
        "originals/2019/05/01/odd name (1) é.jpeg": 1024**2,
        "originals/2019/": 0,  # folder marker: not a photo
        "thumbnails/2006/10/04/IMG_0001.JPG.jpg": 200_000,  # outside the prefix
    }
    for key, size in objects.items():
        s3.put_object(Bucket="archive", Key=key, Body=b"\0" * size)

    photos, gigabytes, mix = measure_bucket(s3, "archive", "originals/")
    assert photos == 6
    assert gigabytes == pytest.approx((3 + 12 + 2 + 40 + 1) * 1024**2 / 1024**3 + 10 / 1024**3)
    assert mix == pytest.approx({"jpeg": 2 / 6, "raw": 1 / 6, "heic": 1 / 6, "video": 1 / 6, "other": 1 / 6})
    assert measure_bucket(s3, "archive", "originals/2006/")[0] == 2
    # the measurement feeds straight into plan
    assert plan(photos, gigabytes, format_mix=mix).photos == 6


@mock_aws
def test_measure_bucket_paginates_and_handles_empty_prefix():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="archive")
    for i in range(1_005):  # more than one ListObjectsV2 page
        s3.put_object(Bucket="archive", Key=f"originals/2010/01/01/{i:05d}.jpg", Body=b"x")
    photos, gigabytes, mix = measure_bucket(s3, "archive", "originals/")
    assert photos == 1_005 and mix == {"jpeg": 1.0}
    assert measure_bucket(s3, "archive", "originals/1999/") == (0, 0.0, {})
    assert plan(0, 0.0, format_mix={}).total == 0


def test_cli_prints_the_stable_json():
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "plan_backfill.py"), "--photos", "60000", "--gigabytes", "200",
         "--json"],
        check=True, capture_output=True, text=True,
    ).stdout
    d = json.loads(out)
    assert d == plan_modes(60_000, 200.0)
    assert {k: v for k, v in d.items() if k not in ("recognizer", "modes")} == plan(60_000, 200.0).to_dict()
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "plan_backfill.py"), "--photos", "100", "--gigabytes", "1",
         "--max-concurrency", "7", "--tps", "50", "--json", "--assumptions"],
        check=True, capture_output=True, text=True,
    ).stdout
    d = json.loads(out)
    assert d["max_concurrency"] == 7 and d["assumptions"]["rekognition_tps_per_operation"] == 50.0


def test_recognizer_modes_side_by_side_for_the_issue_workload():
    """Issue 18's acceptance figures: 60,000 photos / 200 GB, every mode's total next to the chosen one."""
    d = plan_modes(60_000, 200.0, recognizer="hybrid")
    assert d["recognizer"] == "hybrid" and set(d["modes"]) == {"rekognition", "hybrid", "local"}
    assert d["cost_usd"]["total"] == d["modes"]["hybrid"]["total"] <= 72.0
    # hybrid calls DetectLabels only; local calls nothing; faces cost DynamoDB rows instead of collection storage
    assert d["modes"]["hybrid"]["rekognition"] == pytest.approx(60.0)
    assert d["modes"]["local"]["rekognition"] == 0
    assert d["modes"]["local"]["total"] < d["modes"]["hybrid"]["total"] < d["modes"]["rekognition"]["total"]
    for m in d["modes"].values():
        assert m["one_off"] + 1.27 == pytest.approx(m["total"], abs=0.011)  # total = one-off + a month of S3
    # issue 18's target for the default mode, met by the faces grouping; the user-vector grouping beside it
    rek = plan_modes(60_000, 200.0)["modes"]["rekognition"]
    assert rek["face_grouping"] == "faces" and rek["total"] <= 150.0
    assert rek["total_with_users_grouping"] == plan(60_000, 200.0, face_grouping="users").to_dict()["cost_usd"]["total"]
    assert rek["total_with_users_grouping"] > rek["total"] + 10
    users = plan_modes(60_000, 200.0, face_grouping="users")["modes"]["rekognition"]
    assert users["total"] == rek["total_with_users_grouping"] and users["total_with_faces_grouping"] == rek["total"]
    # the cap on associations takes the users grouping from $202.44 (every face associated) down
    assert users["total"] < plan(60_000, 200.0, face_grouping="users", associate_share=1.0).to_dict()["cost_usd"]["total"] - 40
    with pytest.raises(ValueError):
        plan(10, 1.0, face_grouping="vectors")
    with pytest.raises(ValueError):
        plan_modes(10, 1.0, recognizer="vision")


def test_offline_modes_are_not_bound_by_rekognition_quotas():
    local = plan(60_000, 200.0, recognizer="local").to_dict(include_assumptions=True)
    assert local["assumptions"]["rekognition_calls_per_photo"] == {}
    assert local["assumptions"]["bottleneck"] == "max_concurrency"
