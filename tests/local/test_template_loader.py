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
    (rule,) = [r for r in stack.rules if r.target_state_machine == "ProcessPhotoStateMachine"]
    assert rule.pattern["detail"]["bucket"]["name"] == [stack.bucket]
    assert rule.pattern["detail"]["object"]["key"] == [{"prefix": "originals/"}]
