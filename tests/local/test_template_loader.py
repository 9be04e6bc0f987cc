"""The local runtime builds its resources from template.yaml, not from a second list."""

from __future__ import annotations

from shoebox.local.template import load_template


def test_everything_comes_from_the_template():
    stack = load_template()
    assert set(stack.functions) >= {"ClassifyFunction", "ThumbnailFunction", "DetectLabelsFunction",
                                    "IndexFacesFunction", "PersistFunction", "RecordFailureFunction"}
    assert stack.functions["ThumbnailFunction"].handler == "shoebox.steps.thumbnail.handler"
    assert stack.functions["ThumbnailFunction"].memory_mb >= 1024
    env = stack.functions["PersistFunction"].environment
    assert env["SHOEBOX_BUCKET"] == stack.bucket and env["SHOEBOX_TABLE"] == stack.table["TableName"]
    definition = stack.state_machines["ProcessPhotoStateMachine"].definition
    fn = definition["States"]["Classify"]["Parameters"]["FunctionName"]
    assert fn == stack.functions["ClassifyFunction"].arn  # substitutions applied
    # uploads: rule -> queue -> the starter's event source (with its ScalingConfig) -> the state machine
    (rule,) = [r for r in stack.rules if r.target_queue]
    assert rule.pattern["detail"]["bucket"]["name"] == [stack.bucket]
    assert rule.pattern["detail"]["object"]["key"] == [{"prefix": "originals/"}]
    (source,) = stack.event_sources
    assert (source.queue, source.function) == (rule.target_queue, "StartUploadFunction")
    assert source.max_concurrency == int(stack.parameters["UploadStarterConcurrency"]) >= 2
    assert "deadLetterTargetArn" in stack.queues[rule.target_queue].attributes["RedrivePolicy"]
    starter = stack.functions["StartUploadFunction"].environment
    assert starter["SHOEBOX_STATE_MACHINE_ARN"].endswith(":stateMachine:shoebox-local-ProcessPhotoStateMachine")
    assert starter["SHOEBOX_STARTS_PER_SECOND"] == stack.parameters["UploadStartsPerSecond"]


def test_each_function_sees_only_its_own_variables(runtime):
    import os

    from shoebox.config import Settings

    seen = {}

    def capture(spec, payload):
        seen[spec.logical_id] = Settings.from_env().faces_only_with_person

    runtime.bridge.interceptors.append(capture)
    # FacesOnlyWithPerson is DetectLabels' setting (it decides whether IndexFaces runs); not process-wide
    assert "SHOEBOX_FACES_ONLY_WITH_PERSON" not in os.environ
    spec = runtime.stack.functions["DetectLabelsFunction"]
    spec.environment["SHOEBOX_FACES_ONLY_WITH_PERSON"] = "false"
    from photo_factory import jpeg_bytes

    runtime.wait([runtime.upload(jpeg_bytes(), "originals/2020/01/01/env.jpg")])
    assert seen["DetectLabelsFunction"] is False
    assert seen["ThumbnailFunction"] is True  # the default: the variable is not its own
