"""template.yaml deploys the whole stack: it must lint, transform offline, and stay least-privilege."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sam() -> dict:
    return yaml_parse((ROOT / "template.yaml").read_text())


@pytest.fixture(scope="module")
def cfn(sam, monkeypatch_module) -> dict:
    # `sam package` replaces local code paths with S3 URIs before the transform; do the same offline.
    packaged = copy.deepcopy(sam)
    packaged["Globals"]["Function"]["CodeUri"] = "s3://artifacts/functions.zip"
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::StateMachine":
            resource["Properties"]["DefinitionUri"] = "s3://artifacts/definition.json"

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    return transform(packaged, {}, NoManagedPolicies())


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield mp
    mp.undo()


def test_cfn_lint_reports_no_errors():
    from cfnlint.api import ManualArgs, lint

    # Rekognition collections exist only in some regions; we deploy where Rekognition is (us-east-1 default).
    text = (ROOT / "template.yaml").read_text()
    matches = [m for m in lint(text, config=ManualArgs(regions=["us-east-1", "eu-west-1"])) if m.rule.id.startswith("E")]
    assert matches == [], [str(m) for m in matches]


def test_sam_transform_produces_the_whole_stack(cfn):
    types = {r["Type"] for r in cfn["Resources"].values()}
    for expected in ("AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::DynamoDB::Table", "AWS::Rekognition::Collection",
                     "AWS::Lambda::Function", "AWS::StepFunctions::StateMachine", "AWS::Events::Rule", "AWS::SQS::Queue"):
        assert expected in types


def test_every_function_has_its_own_role_and_runs_arm64_python312(cfn):
    functions = {k: r for k, r in cfn["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    roles = {json.dumps(f["Properties"]["Role"]) for f in functions.values()}
    assert len(functions) >= 6 and len(roles) == len(functions)
    for fn in functions.values():
        assert fn["Properties"]["Runtime"] == "python3.12"
        assert fn["Properties"]["Architectures"] == ["arm64"]


def _condition(cfn: dict, expr, recognizer: str, grouping: str = "faces") -> bool:
    """Evaluate one of the template's Conditions for values of the Recognizer and FaceGrouping parameters."""
    if isinstance(expr, dict) and "Condition" in expr:
        return _condition(cfn, cfn["Conditions"][expr["Condition"]], recognizer, grouping)
    (op, args), = expr.items()
    if op == "Fn::Equals":
        values = {"Recognizer": recognizer, "FaceGrouping": grouping}
        a, b = ((values[v["Ref"]] if isinstance(v, dict) else v) for v in args)
        return a == b
    if op == "Fn::Not":
        return not _condition(cfn, args[0], recognizer, grouping)
    if op == "Fn::And":
        return all(_condition(cfn, a, recognizer, grouping) for a in args)
    raise AssertionError(f"unexpected condition {expr}")


def _statements(cfn: dict, role: str, recognizer: str = "rekognition", grouping: str = "faces") -> list[dict]:
    """The role's statements as deployed with that Recognizer mode (policies under !If resolved)."""
    out = []
    for policy in cfn["Resources"][role]["Properties"].get("Policies", []):
        if "Fn::If" in policy:
            name, then, otherwise = policy["Fn::If"]
            policy = then if _condition(cfn, cfn["Conditions"][name], recognizer, grouping) else otherwise
            if policy == {"Ref": "AWS::NoValue"}:
                continue
        out.extend(policy["PolicyDocument"]["Statement"])
    return out


def test_step_roles_are_least_privilege(cfn):
    classify = _statements(cfn, "ClassifyFunctionRole")
    assert [s["Action"] for s in classify] == ["s3:GetObject"]
    assert "originals/*" in json.dumps(classify[0]["Resource"])
    thumb = json.dumps(_statements(cfn, "ThumbnailFunctionRole"))
    assert "s3:PutObject" in thumb and "thumbnails/*" in thumb and "s3:DeleteObject" not in thumb
    # Nothing may delete or overwrite originals: S3 writes only ever reach thumbnails/ (and backfill/ results).
    for name, resource in cfn["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role" or name.endswith("StateMachineRole"):
            continue
        for statement in _statements(cfn, name):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "s3:*" not in actions and "*" not in actions, name
            if any(a in ("s3:PutObject", "s3:DeleteObject") for a in actions):
                target = json.dumps(statement["Resource"])
                assert "/thumbnails/" in target or "/backfill/" in target, (name, target)
    for role in ("ClassifyFunctionRole", "DetectLabelsFunctionRole", "IndexFacesFunctionRole"):
        assert "s3:PutObject" not in json.dumps(_statements(cfn, role)), role
    # the steps that check the original is still there (steps/versions.py): a deleted one answers 404, not 403
    for role in ("RemovePhotoFunctionRole", "PersistFunctionRole", "RecordFailureFunctionRole", "ThumbnailFunctionRole"):
        assert any(s["Action"] == "s3:ListBucket" for s in _statements(cfn, role)), role
    # the thumbnail step writes the catalog table only for the photo's lease (catalog/lease.py)
    (lock,) = [s for s in _statements(cfn, "ThumbnailFunctionRole") if "dynamodb" in json.dumps(s["Action"])]
    assert lock["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LOCK#*"]}}
    # faces grouping (the default): SearchFaces, no user-vector call; users grouping: those three as well
    faces = json.dumps(_statements(cfn, "IndexFacesFunctionRole"))
    users = json.dumps(_statements(cfn, "IndexFacesFunctionRole", grouping="users"))
    for action in ("SearchUsers", "CreateUser", "AssociateFaces"):
        assert action not in faces and f"rekognition:{action}" in users, action
    assert "rekognition:SearchFaces" in faces
    assert "rekognition:" not in json.dumps(_statements(cfn, "IndexFacesFunctionRole", "hybrid", grouping="users"))
    labels = json.dumps(_statements(cfn, "DetectLabelsFunctionRole"))
    assert "rekognition:DetectLabels" in labels and "IndexFaces" not in labels
    # the Rekognition steps write the catalog table only for the rate limiter's slots (recognition/rate_limit.py)
    for role in ("DetectLabelsFunctionRole", "IndexFacesFunctionRole"):
        slots, *face_map = [s for s in _statements(cfn, role) if "dynamodb" in json.dumps(s["Action"])]
        assert slots["Action"] == "dynamodb:UpdateItem", role
        assert slots["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["RATE#*"]}}, role
        assert len(face_map) == 2 * (role == "IndexFacesFunctionRole")
    # and IndexFaces its face -> person items and the new-person lease (recognition/face_search.py), and
    # reads (only) the photo rows that say whose the faces grouped before that map are
    assert face_map[0]["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [
        "REKFACE", "LOCK#REKFACE#new-person"]}}
    assert face_map[1]["Action"] == "dynamodb:BatchGetItem"
    assert face_map[1]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["PHOTOFACES#*"]}}


def test_roles_that_write_the_catalog_may_make_its_condition_checks(cfn):
    """Catalog writes are TransactWriteItems with a ConditionCheck (the photo's version; a merge's people):
    IAM asks dynamodb:ConditionCheckItem for that item, which moto does not enforce."""
    writers = []
    for name, resource in cfn["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role" or name.endswith("StateMachineRole"):
            continue
        actions = {a for statement in _statements(cfn, name)
                   if "RATE#*" not in json.dumps(statement.get("Condition", {}))  # the rate limiter's slots
                   for a in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])}
        if "dynamodb:UpdateItem" in actions:
            writers.append(name)
            assert "dynamodb:ConditionCheckItem" in actions, name
    assert {"PersistFunctionRole", "RecordFailureFunctionRole", "RemovePhotoFunctionRole"} <= set(writers)


def test_bucket_is_private_encrypted_tls_only_and_versioned(sam):
    bucket = sam["Resources"]["PhotoBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True
    assert bucket["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    archive = rules["originals-to-glacier-ir"]
    assert archive["Prefix"] == "originals/" and archive["Transitions"][0]["StorageClass"] == "GLACIER_IR"
    assert archive["Transitions"][0]["TransitionInDays"] == {"Ref": "ArchiveAfterDays"}
    policy = sam["Resources"]["PhotoBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in policy)


def test_rule_matches_only_originals_and_has_a_dead_letter_queue(cfn):
    rule = next(r for r in cfn["Resources"].values() if r["Type"] == "AWS::Events::Rule")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "originals/"}]
    assert "DeadLetterConfig" in rule["Properties"]["Targets"][0]
    from shoebox.ingest.plan import key_for

    # undated photos (no capture date from any source) are uploaded under the same prefix
    assert key_for("scan.jpg", None).startswith(pattern["detail"]["object"]["key"][0]["prefix"])


def test_every_rules_dead_letter_queue_lets_that_rule_send(cfn):
    """SAM writes one AWS::SQS::QueuePolicy per rule, each allowing only its own rule; a queue's policy is
    replaced, not merged, so two rules on one queue would leave one of them unable to dead-letter."""
    rules = {name: r for name, r in cfn["Resources"].items() if r["Type"] == "AWS::Events::Rule"}
    assert len(rules) >= 2
    queues = [json.dumps(r["Properties"]["Targets"][0]["DeadLetterConfig"]["Arn"]) for r in rules.values()]
    assert len(set(queues)) == len(queues), queues
    policies = [r["Properties"] for r in cfn["Resources"].values() if r["Type"] == "AWS::SQS::QueuePolicy"]
    targets = [json.dumps(q) for p in policies for q in p["Queues"]]
    assert len(set(targets)) == len(targets), targets  # one policy per queue
    # each queue a rule sends to (dead letters, the upload queue) lets exactly that rule send
    for name, rule in rules.items():
        target = rule["Properties"]["Targets"][0]
        sent_to = [target["DeadLetterConfig"]["Arn"]] + ([target["Arn"]] if "SqsParameters" in target
                                                        or "Queue" in json.dumps(target["Arn"]) else [])
        for arn in sent_to:
            queue = arn["Fn::GetAtt"][0]
            (policy,) = [p for p in policies if p["Queues"] == [{"Ref": queue}]]
            (statement,) = policy["PolicyDocument"]["Statement"]
            assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [name, "Arn"]}, queue


def test_uploads_wait_in_a_queue_whose_starter_is_rate_limited(cfn, sam):
    """Issue 17 item 3: rule -> queue (dead letters after 5 receives) -> starter at UploadStartsPerSecond."""
    assert "Events" not in sam["Resources"]["ProcessPhotoStateMachine"]["Properties"]  # no direct rule
    rule = cfn["Resources"]["OriginalUploadedRule"]["Properties"]
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["UploadQueue", "Arn"]}
    queue = cfn["Resources"]["UploadQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["UploadEventsDeadLetterQueue", "Arn"]}
    starter = cfn["Resources"]["StartUploadFunction"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * starter["Timeout"]  # Lambda's rule for SQS event sources
    source = cfn["Resources"]["StartUploadEventSource"]["Properties"]
    assert source["FunctionName"] == {"Ref": "StartUploadFunction"}
    assert source["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "UploadStarterConcurrency"}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    env = starter["Environment"]["Variables"]
    assert env["SHOEBOX_STARTS_PER_SECOND"] == {"Ref": "UploadStartsPerSecond"}
    assert env["SHOEBOX_STARTER_CONCURRENCY"] == {"Ref": "UploadStarterConcurrency"}
    # least privilege: start this one state machine, read and delete this one queue
    role = cfn["Resources"]["StartUploadFunctionRole"]["Properties"]
    assert not any("SQS" in arn for arn in role["ManagedPolicyArns"])
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert {(json.dumps(s["Action"]), json.dumps(s["Resource"])) for s in statements} == {
        (json.dumps(["states:StartExecution", "states:ListExecutions"]), json.dumps({"Ref": "ProcessPhotoStateMachine"})),
        (json.dumps(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]),
         json.dumps({"Fn::GetAtt": ["UploadQueue", "Arn"]}))}


def test_table_is_on_demand_with_point_in_time_recovery(sam):
    table = sam["Resources"]["CatalogTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_state_machine_is_standard_and_every_task_retries_and_catches():
    definition = json.loads((ROOT / "statemachine" / "process_photo.asl.json").read_text())
    sam_doc = yaml_parse((ROOT / "template.yaml").read_text())
    assert sam_doc["Resources"]["ProcessPhotoStateMachine"]["Properties"]["Type"] == "STANDARD"
    tasks = {name: s for name, s in definition["States"].items() if s["Type"] == "Task"}
    assert set(tasks) >= {"Classify", "Thumbnail", "DetectLabels", "IndexFaces", "Persist", "RecordFailure"}
    required = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException", "RecognitionThrottled"}
    for name, state in tasks.items():
        assert required <= {e for retry in state["Retry"] for e in retry["ErrorEquals"]}, name
        assert all(r["JitterStrategy"] == "FULL" and r["BackoffRate"] > 1 for r in state["Retry"]), name
        # throttles first, and patient: an upload waits out Rekognition's quota rather than failing
        throttled = state["Retry"][0]
        assert throttled["ErrorEquals"] == ["RecognitionThrottled"], name
        assert throttled["MaxAttempts"] >= 10 and throttled["MaxDelaySeconds"] >= 300, name
        assert state["Catch"], name
        if name != "RecordFailure":
            assert state["Catch"][0]["Next"] == "RecordFailure"


# ------------------------------------------------------------------------------ operations (issue 17)

STEP_FUNCTIONS = ("Classify", "Thumbnail", "DetectLabels", "IndexFaces", "Persist", "RecordFailure", "RemovePhoto",
                  "CheckDone", "StartUpload")


def _of_type(cfn: dict, rtype: str) -> dict:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == rtype}


def test_every_log_group_expires_after_the_retention_parameter(cfn):
    groups = _of_type(cfn, "AWS::Logs::LogGroup")
    for fn in STEP_FUNCTIONS:
        group = groups[f"{fn}LogGroup"]["Properties"]
        assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{fn}Function}}"}
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    machines = _of_type(cfn, "AWS::StepFunctions::StateMachine")
    assert len(machines) == 3
    for name, machine in machines.items():
        logging = machine["Properties"]["LoggingConfiguration"]
        arn = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
        group = groups[arn["Fn::GetAtt"][0]]["Properties"]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        level = logging["Level"]
        if isinstance(level, dict):  # the backfill's, a parameter: its Express children log only there
            assert name == "BackfillStateMachine" and level == {"Ref": "BackfillLogLevel"}
            assert set(cfn["Parameters"]["BackfillLogLevel"]["AllowedValues"]) == {"ERROR", "ALL"}
            level = cfn["Parameters"]["BackfillLogLevel"]["Default"]
        assert level in ("ERROR", "ALL") and logging["IncludeExecutionData"] is True
        # the role may deliver the logs (CreateLogDelivery & co. only take Resource "*")
        assert "logs:CreateLogDelivery" in json.dumps(_statements(cfn, f"{name}Role")), name


def test_dead_letter_queues_keep_messages_14_days_and_alarm_when_not_empty(cfn):
    queues = {name: q for name, q in _of_type(cfn, "AWS::SQS::Queue").items() if "DeadLetter" in name}
    assert len(queues) == 2
    alarms = _of_type(cfn, "AWS::CloudWatch::Alarm")
    for name, queue in queues.items():
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
        watching = [a for a in alarms.values() if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
                    and a["Properties"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": [name, "QueueName"]}]
        assert len(watching) == 1, name


def test_alarms_cover_failed_executions_throttles_and_errors_and_mail_only_when_asked(cfn, sam):
    alarms = _of_type(cfn, "AWS::CloudWatch::Alarm")
    failed = {json.dumps(a["Properties"]["Dimensions"][0]["Value"]) for a in alarms.values()
              if a["Properties"].get("MetricName") == "ExecutionsFailed"}
    assert {json.dumps({"Ref": f"{sm}StateMachine"}) for sm in ("ProcessPhoto", "Backfill", "RemovePhoto")} <= failed
    watched = {(q["MetricStat"]["Metric"]["MetricName"], json.dumps(q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]))
               for a in alarms.values() for q in a["Properties"].get("Metrics", []) if "MetricStat" in q}
    for fn in STEP_FUNCTIONS:
        for metric in ("Errors", "Throttles"):
            assert (metric, json.dumps({"Ref": f"{fn}Function"})) in watched, (fn, metric)
    for operation in ("DetectLabels", "IndexFaces"):
        assert ("ThrottledCount", json.dumps(operation)) in watched
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}
    topic = cfn["Resources"]["AlarmTopic"]
    assert topic["Condition"] == "HasAlarmEmail"
    assert cfn["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert sam["Parameters"]["AlarmEmail"]["Default"] == ""


def test_dashboard_shows_the_pipeline(sam):
    import re

    body = sam["Resources"]["PipelineDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    titles = {w["properties"]["title"] for w in widgets}
    assert {"Executions", "Rekognition calls and throttles", "Step errors", "Dead letters"} <= titles
    for fn in STEP_FUNCTIONS:
        assert f"${{{fn}Function}}" in body, fn


def test_face_collection_survives_stack_deletion_and_replacement(sam):
    for name in ("FaceCollection", "PhotoBucket", "CatalogTable"):
        resource = sam["Resources"][name]
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", name


def test_noncurrent_versions_and_backfill_results_expire(sam):
    rules = sam["Resources"]["PhotoBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    everywhere = [r for r in rules if "Prefix" not in r and "NoncurrentVersionExpiration" in r]
    assert everywhere and everywhere[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == {"Ref": "NoncurrentVersionExpireDays"}
    backfill = [r for r in rules if r.get("Prefix") == "backfill/"]
    assert any(r.get("ExpirationInDays") for r in backfill)
    assert any(r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") == 1 for r in backfill)
    assert any(r.get("ExpiredObjectDeleteMarker") for r in backfill)


def test_backfill_role_grants_no_map_run_reads(cfn):
    """The Distributed Map starts, describes and stops its children; nothing in it reads map runs."""
    granted = json.dumps(_statements(cfn, "BackfillStateMachineRole"))
    assert "DescribeMapRun" not in granted and "ListMapRuns" not in granted

@pytest.mark.parametrize("mode", ["hybrid", "local"])
def test_offline_face_modes_give_indexfaces_the_face_index_and_no_collection(cfn, sam, mode):
    """hybrid/local: no Rekognition face call is allowed anywhere a face is indexed; IndexFaces writes the
    face index rows (conditional puts and deletes in transactions) in the catalog table; local calls no
    Rekognition API at all in DetectLabels."""
    param = sam["Parameters"]["Recognizer"]
    assert param["AllowedValues"] == ["rekognition", "hybrid", "local"] and param["Default"] == "rekognition"
    assert "hybrid" in param["Description"] and "local" in param["Description"]
    faces = json.dumps(_statements(cfn, "IndexFacesFunctionRole", mode))
    assert "rekognition:" not in faces
    for action in ("dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:GetItem"):
        assert action in faces, action
    assert "dynamodb:UpdateItem" not in faces and "s3:PutObject" not in faces
    labels = json.dumps(_statements(cfn, "DetectLabelsFunctionRole", mode))
    assert ("rekognition:DetectLabels" in labels) == (mode == "hybrid")
    assert "rekognition:IndexFaces" in json.dumps(_statements(cfn, "IndexFacesFunctionRole", "rekognition"))
    assert all(s.get("Condition") for s in _statements(cfn, "IndexFacesFunctionRole", "rekognition")
               if "dynamodb:" in json.dumps(s["Action"]))  # only the items of face_search and the rate limiter
    memory = {name: cfn["Resources"][name]["Properties"]["MemorySize"]
              for name in ("IndexFacesFunction", "DetectLabelsFunction")}
    assert memory["IndexFacesFunction"] == {"Fn::If": ["OfflineFaces", 2048, 256]}
    assert memory["DetectLabelsFunction"] == {"Fn::If": ["OfflineLabels", 2048, 256]}
    env = cfn["Resources"]["PersistFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SHOEBOX_RECOGNIZER"] == {"Ref": "Recognizer"}
