#!/usr/bin/env python3
"""Cold start and per-photo time of the IndexFaces Lambda in the hybrid/local modes, run Lambda-like:
a fresh ``python -S`` process (no site customisation) with only ``functions/`` and the venv's packages on
``sys.path``, pinned to one core (``taskset``, about what 2048 MB buys), calling the real handler
(``shoebox.steps.index_faces.handler``) with the state machine's event; S3 and DynamoDB are moto in the
same process. The reference, measured in the same run, is the offline recognizer with its file index
(what the local runtime does), so ``ratio_warm`` says what the DynamoDB face index and the handler add.

    .venv/bin/python scripts/bench_index_faces.py [--photos 40]

Prints one JSON line. The cold start is split into what Lambda's init would do: ``import_boto3_s`` (a
separate fresh process), ``import_handler_s`` (the step, Powertools, the recognizer; boto3 already in)
and ``first_photo_s`` (models loaded, EfficientNet converted, the first photo indexed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, os, sys, time, tempfile
sys.path[:0] = [FUNCTIONS, SITE]
os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench",
                  AWS_SECRET_ACCESS_KEY="bench", POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_METRICS_DISABLED="true",
                  POWERTOOLS_LOG_LEVEL="ERROR", SHOEBOX_RECOGNIZER="hybrid", SHOEBOX_TABLE="bench",
                  SHOEBOX_BUCKET="bench", AWS_LAMBDA_FUNCTION_NAME="bench-IndexFacesFunction")
from moto import mock_aws
import boto3
mock = mock_aws(); mock.start()
boto3.client("s3").create_bucket(Bucket="bench")
boto3.client("dynamodb").create_table(TableName="bench", BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
views = json.loads(sys.stdin.read())
s3 = boto3.client("s3")
for i, path in enumerate(views):
    s3.put_object(Bucket="bench", Key=f"thumbnails/{i}.jpg.jpg", Body=open(path, "rb").read())

class Context:  # what Powertools reads from Lambda's context object
    function_name = "bench-IndexFacesFunction"
    memory_limit_in_mb = 2048
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-IndexFacesFunction"
    aws_request_id = "bench"

def event(i):
    return {"bucket": "bench", "key": f"originals/{i}.jpg", "thumbnails": {"view": {"key": f"thumbnails/{i}.jpg.jpg"}}}

t0 = time.perf_counter()
from shoebox.steps.index_faces import handler
t1 = time.perf_counter()
handler(event(0), Context())
t2 = time.perf_counter()
for i in range(1, len(views)):
    handler(event(i), Context())
t3 = time.perf_counter()
# reference: the same photos through the offline recognizer with its file index (bytes in memory)
from shoebox.recognition.local import LocalRecognizer
from shoebox.recognition import ImageRef
data = [open(p, "rb").read() for p in views]
rec = LocalRecognizer(tempfile.mkdtemp())
rec.index_faces(ImageRef("b", "k", data[0]), "p0")
t4 = time.perf_counter()
for i, d in enumerate(data[1:], 1):
    rec.index_faces(ImageRef("b", "k", d), f"p{i}")
t5 = time.perf_counter()
print(json.dumps({"import_handler_s": t1 - t0, "first_photo_s": t2 - t1,
                  "warm_ms": (t3 - t2) * 1000 / (len(views) - 1), "reference_warm_ms": (t5 - t4) * 1000 / (len(views) - 1)}))
'''


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=40)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "scripts"))
    sys.path.insert(0, str(ROOT / "functions"))
    import tempfile

    from fetch_test_photos import ensure

    from shoebox.recognition.local.evaluate import view_jpeg

    faces_dir = ensure()
    names = sorted(p for p in faces_dir.glob("*.jpg") if not p.name.startswith(("label_", "animal_")))[:args.photos]
    tmp = Path(tempfile.mkdtemp())
    views = []
    for p in names:  # the pipeline's view images: long edge 1920
        out = tmp / p.name
        out.write_bytes(view_jpeg(p))
        views.append(str(out))
    site = sysconfig.get_paths()["purelib"]
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    code = CHILD.replace("FUNCTIONS", repr(str(ROOT / "functions"))).replace("SITE", repr(site))
    boto = subprocess.run(pin + [sys.executable, "-S", "-c",
                                 f"import sys,time; sys.path.insert(0,{site!r}); t=time.perf_counter(); import boto3;"
                                 "print(time.perf_counter()-t)"], capture_output=True, text=True, check=True)
    run = subprocess.run(pin + [sys.executable, "-S", "-c", code], input=json.dumps(views),
                         capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(run.stderr[-3000:])
    shutil.rmtree(tmp, ignore_errors=True)
    r = json.loads(run.stdout.strip().splitlines()[-1])
    cold = float(boto.stdout) + r["import_handler_s"] + r["first_photo_s"]
    print(json.dumps({
        "bench": "index_faces_lambda", "photos": len(views), "pinned_to_one_core": bool(pin),
        "import_boto3_s": round(float(boto.stdout), 3), "import_handler_s": round(r["import_handler_s"], 3),
        "first_photo_s": round(r["first_photo_s"], 3), "cold_start_s": round(cold, 3),
        "warm_ms_per_photo": round(r["warm_ms"], 1), "reference_file_index_ms_per_photo": round(r["reference_warm_ms"], 1),
        "ratio_warm": round(r["warm_ms"] / r["reference_warm_ms"], 2),
        "note": "S3 and DynamoDB are moto in-process: their Python work stands in for network round trips",
    }))


if __name__ == "__main__":
    main()
