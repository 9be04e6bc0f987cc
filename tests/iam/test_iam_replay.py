"""Least privilege, proven (issue 17): every AWS call each function made in a local run is allowed by that
function's role in the SAM-transformed template, and every action a role grants is used by some call or
justified below. Calls are recorded per function at the botocore level (BaseClient._make_api_call) while
the local runtime's LambdaBridge runs that function's handler."""

from __future__ import annotations

import contextvars
import fnmatch
import importlib
import json
import re
from pathlib import Path

import pytest
from botocore.client import BaseClient
from samtranslator.yaml_helper import yaml_parse

from shoebox.backfill.run import local_target, run_backfill
from shoebox.catalog import Catalog
from shoebox.local import router
from shoebox.validate import as_deployed, sam_transform

from aws_events import aws_event

ENCODED_KEY = "originals/2020/02/02/my photo (1).jpg"

ROOT = Path(__file__).resolve().parents[2]
REGION, ACCOUNT = "us-east-1", "123456789012"

# Granted actions no local run calls, each with why it is granted. Rekognition: the local runtime runs the
# offline recognizer, so the Rekognition calls are checked against the code instead (see the last test).
JUSTIFIED: dict[str, dict[str, str]] = {
    "DetectLabelsFunction": {
        "rekognition:DetectLabels": "RekognitionRecognizer.detect_labels",
        "dynamodb:UpdateItem": "recognition/rate_limit.py: a slot before each Rekognition call (RATE# items)",
        # Rekognition reads the S3Object image with the caller's permissions
        "s3:GetObject": "Rekognition fetches the view image as the caller",
    },
    "IndexFacesFunction": {
        "rekognition:IndexFaces": "RekognitionRecognizer.index_faces",
        "dynamodb:UpdateItem": "recognition/rate_limit.py: a slot before each Rekognition call (RATE# items)",
        "rekognition:SearchFaces": "RekognitionRecognizer: a new face's look-alikes (face_search.py)",
        "dynamodb:BatchGetItem": "face_search.FaceMap: the matched faces' people (REKFACE items, PHOTOFACES rows)",
        "dynamodb:PutItem": "face_search.FaceMap.claim, and the new-person lease (catalog/lease.py)",
        "dynamodb:DeleteItem": "the new-person lease is given back",
        "dynamodb:BatchWriteItem": "face_search.FaceMap.drop: a rolled-back step's faces",
        "rekognition:DisassociateFaces": "RekognitionRecognizer.remove_faces: a re-processed photo's old faces",
        "rekognition:DeleteFaces": "RekognitionRecognizer.remove_faces",
        "rekognition:ListFaces": "RekognitionRecognizer.remove_faces: which user each old face is in",
        "s3:GetObject": "Rekognition fetches the view image as the caller",
    },
    "PersistFunction": {
        "dynamodb:DeleteItem": "People: a face row misfiled under another person is deleted (recognizer merges)",
        "s3:DeleteObject": "People: a re-processed photo that no longer shows a person's last face drops its cover",
        # a permission, not a call: the current-version check (steps/versions.py) must tell a deleted
        # original (404) from a forbidden one (403, which would otherwise be the answer for both)
        "s3:ListBucket": "steps/versions.current_etag: a deleted original answers 404",
        # a superseded run (its original deleted or replaced meanwhile) takes back the faces it indexed
        "rekognition:DeleteFaces": "steps/supersede.py via RekognitionRecognizer.remove_faces",
        "rekognition:DisassociateFaces": "steps/supersede.py via RekognitionRecognizer.remove_faces",
        "rekognition:ListFaces": "steps/supersede.py via RekognitionRecognizer.remove_faces",
    },
    "ThumbnailFunction": {
        "s3:ListBucket": "steps/versions.current_etag under the photo lease: a deleted original answers 404",
    },
    "RecordFailureFunction": {
        "s3:ListBucket": "steps/versions.current_etag: a failure of a deleted original is not recorded",
        "dynamodb:DeleteItem": "People: a face row misfiled under another person is deleted (recognizer merges)",
        "dynamodb:ConditionCheckItem": "Catalog._put_if_version and people merges: TransactWriteItems ConditionCheck",
        "s3:DeleteObject": "People: a failed photo that held a person's last face drops the person's cover",
        "rekognition:DeleteFaces": "RekognitionRecognizer.remove_faces",
        "rekognition:DisassociateFaces": "RekognitionRecognizer.remove_faces",
        "rekognition:ListFaces": "RekognitionRecognizer.remove_faces",
    },
    "StartUploadFunction": {
        # called by Lambda's SQS event source as this role, not by the handler (local/event_source.py plays it)
        "sqs:ReceiveMessage": "the upload queue's event source polls the queue",
        "sqs:DeleteMessage": "the event source deletes the messages the starter handled",
        "sqs:GetQueueAttributes": "the event source reads the queue's attributes",
        # the local runtime runs with UploadMaxRunning 0 (no cap): tests/workflow/test_throttle.py makes the call
        "states:ListExecutions": "steps/start_upload.running_executions: the UploadMaxRunning cap",
    },
    "RemovePhotoFunction": {
        "s3:PutObject": "People: removing the photo a person's cover shows crops a new cover from another photo",
        "dynamodb:DeleteItem": "People: a face row misfiled under another person is deleted (recognizer merges)",
        "dynamodb:ConditionCheckItem": "Catalog._put_if_version and people merges: TransactWriteItems ConditionCheck",
        # a permission, not a call: without it S3 answers a deleted original with 403 instead of 404
        "s3:ListBucket": "HeadObject of a deleted original must answer 404 (remove_photo.py)",
        "rekognition:DeleteFaces": "RekognitionRecognizer.remove_faces",
        "rekognition:DisassociateFaces": "RekognitionRecognizer.remove_faces",
        "rekognition:ListFaces": "RekognitionRecognizer.remove_faces",
    },
}
# IAM names these differently from the API operation
S3_ACTIONS = {"HeadObject": "GetObject", "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket",
              "HeadBucket": "ListBucket"}
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def required(service: str, operation: str, params: dict, arns: dict[str, str]) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs that one API call needs."""
    if service == "s3":
        action = "s3:" + S3_ACTIONS.get(operation, operation)
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        return [(action, f"{bucket}/{params['Key']}" if "Key" in params else bucket)]
    if service == "dynamodb":
        def table(name: str, index: str | None = None) -> str:
            arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            return f"{arn}/index/{index}" if index else arn

        if operation == "TransactWriteItems":
            return [(f"dynamodb:{TRANSACT[kind]}", table(body["TableName"]))
                    for item in params["TransactItems"] for kind, body in item.items()]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", table(item["Get"]["TableName"])) for item in params["TransactItems"]]
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return [(f"dynamodb:{operation}", table(name)) for name in params["RequestItems"]]
        return [(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]
    if service == "rekognition":
        return [(f"rekognition:{operation}", arns["FaceCollection"])]
    if service == "stepfunctions":
        return [(f"states:{operation}", params.get("stateMachineArn") or params.get("executionArn") or "*")]
    return [(f"{service}:{operation}", "*")]


def role_policies(arns: dict[str, str]) -> dict[str, list[dict]]:
    """Each function's role statements from the SAM transform, intrinsics resolved to the local stack."""
    text = (ROOT / "template.yaml").read_text()
    sam, cfn = yaml_parse(text), sam_transform(text)

    def resolve(value):
        if isinstance(value, dict) and "Ref" in value:
            return arns[value["Ref"]]
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return arns[target[0] if isinstance(target, list) else target.split(".")[0]]
        if isinstance(value, dict) and "Fn::Sub" in value:
            pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
            return re.sub(r"\$\{([^}]+)\}", lambda m: pseudo.get(m.group(1)) or arns[m.group(1).split(".")[0]],
                          value["Fn::Sub"])
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    def chosen(policy):  # conditional policies (the Recognizer mode): as deployed with the defaults
        return as_deployed(sam, policy)

    out = {}
    for name, resource in cfn["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = []
        for policy in filter(None, map(chosen, cfn["Resources"][role]["Properties"].get("Policies", []))):
            for s in policy["PolicyDocument"]["Statement"]:
                actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
                resources = resolve(s["Resource"])
                statements.append({"Effect": s["Effect"], "Action": actions,
                                   "Resource": resources if isinstance(resources, list) else [resources]})
        out[name] = statements
    return out


def allowed(statements: list[dict], action: str, arn: str) -> list[tuple[int, str]]:
    """The (statement, action) grants that allow it (no Deny statements exist in these roles)."""
    return [(i, granted) for i, s in enumerate(statements) if s["Effect"] == "Allow"
            for granted in s["Action"] if fnmatch.fnmatchcase(action, granted)
            if any(fnmatch.fnmatchcase(arn, pattern) for pattern in s["Resource"])]


_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, real_faces):
    """A local run that takes every function down its paths: new photos with faces (people rows and
    covers), a bad file, a photo re-uploaded broken (its faces and cover move), a deletion, a backfill."""
    from shoebox.local import LocalRuntime

    calls: list[tuple[str, str, str, dict]] = []
    original_call = BaseClient._make_api_call

    def recording(self, operation, params):
        function = _current.get()
        if function is not None:
            calls.append((function, self.meta.service_model.service_name, operation, params))
        return original_call(self, operation, params)

    home = tmp_path_factory.mktemp("iam-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("SHOEBOX_HOME", str(home))
    mp.setenv("SHOEBOX_RETRY_SLEEP_SCALE", "0")
    mp.setattr(BaseClient, "_make_api_call", recording)
    try:
        with LocalRuntime(home, recognizer="local", retry_sleep_scale=0) as rt:
            for spec in rt.stack.functions.values():
                module, _, attr = spec.handler.rpartition(".")
                handler = getattr(importlib.import_module(module), attr)

                def as_function(payload, context, _handler=handler, _name=spec.logical_id):
                    token = _current.set(_name)
                    try:
                        return _handler(payload, context)
                    finally:
                        _current.reset(token)

                rt.bridge.replace_handler(spec.logical_id, as_function)
            faces = sorted(p for p in real_faces.glob("album_jesper*.jpg"))  # one person, twice
            keys = [f"originals/2020/01/0{i + 1}/{p.name}" for i, p in enumerate(faces)]
            for key, path in zip(keys, faces):
                rt.wait([rt.upload(path.read_bytes(), key)])
            rt.wait([rt.upload(b"not a photo\n" * 30, "originals/2020/02/01/notes.jpg")])
            # a failing photo whose event names its key URL-encoded, as AWS does
            router.paused.set()
            try:
                rt.s3.put_object(Bucket=rt.bucket, Key=ENCODED_KEY, Body=b"not a photo either\n" * 30)
            finally:
                router.paused.clear()
            event = aws_event(rt.bucket, ENCODED_KEY, 570, "0" * 32)
            rt.wait([rt.sfn.start_execution(stateMachineArn=rt.state_machine_arn(), input=json.dumps(event))["executionArn"]])
            whole = faces[0].read_bytes()
            rt.wait([rt.upload(whole[: len(whole) // 3], keys[0])])  # the cover's photo fails: the cover moves
            rt.s3.delete_object(Bucket=rt.bucket, Key=keys[1])  # the person's last photo goes
            rt.wait([arn for arns in rt.started.values() for arn in arns])
            run_backfill(local_target(rt), None, max_concurrency=4, poll_s=1)
            catalog = Catalog(rt.table)
            assert catalog.get_photo(keys[0]).status == "failed"
            assert catalog.get_photo(keys[1]) is None
            assert catalog.get_photo(ENCODED_KEY).status == "failed"
            bucket, table, collection = rt.bucket, rt.table, rt.stack.collection_id
            process_photo, upload_queue = rt.state_machine_arn(), rt.stack.queues["UploadQueue"].name
    finally:
        mp.undo()
    arns = {"PhotoBucket": f"arn:aws:s3:::{bucket}",
            "CatalogTable": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}",
            "FaceCollection": f"arn:aws:rekognition:{REGION}:{ACCOUNT}:collection/{collection}",
            "ProcessPhotoStateMachine": process_photo,
            "UploadQueue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{upload_queue}"}
    return calls, arns


def test_every_call_each_function_made_is_allowed_by_its_role(recorded):
    calls, arns = recorded
    policies = role_policies(arns)
    assert {function for function, *_ in calls} == set(policies), "every function ran and called AWS"
    denied = sorted({(function, action, arn) for function, service, operation, params in calls
                     for action, arn in required(service, operation, params, arns)
                     if not allowed(policies[function], action, arn)})
    assert denied == []


def test_every_granted_action_is_used_or_justified(recorded):
    calls, arns = recorded
    policies = role_policies(arns)
    used: dict[str, set[tuple[int, str]]] = {name: set() for name in policies}
    for function, service, operation, params in calls:
        for action, arn in required(service, operation, params, arns):
            used[function] |= set(allowed(policies[function], action, arn))
    unused = []
    for function, statements in policies.items():
        for i, statement in enumerate(statements):
            for action in statement["Action"]:
                if (i, action) not in used[function] and action not in JUSTIFIED.get(function, {}):
                    unused.append((function, action, statement["Resource"]))
    assert unused == [], "\n".join(map(str, unused))
    # and nothing is justified that the role does not grant (stale justifications)
    for function, reasons in JUSTIFIED.items():
        granted = {a for s in policies[function] for a in s["Action"]}
        assert set(reasons) <= granted, (function, set(reasons) - granted)


def test_justified_rekognition_actions_are_what_the_rekognition_backend_calls():
    """The offline run cannot call Rekognition: the backend's source must call each justified action."""
    source = "".join((ROOT / "functions" / "shoebox" / "recognition" / name).read_text()
                     for name in ("rekognition.py", "user_vectors.py"))
    snake = lambda name: re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()  # noqa: E731
    for reasons in JUSTIFIED.values():
        for action in reasons:
            if action.startswith("rekognition:"):
                assert re.search(rf"client\.{snake(action.split(':')[1])}\b", source), action
