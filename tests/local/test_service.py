"""The local service: the CLI reaches it over HTTP like AWS, only with this home's credentials; it keeps
executions across restarts; the --stack path (AWS's) resolves region and credentials like the AWS CLI."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from photo_factory import jpeg_bytes
from typer.testing import CliRunner

from shoebox.cli.main import app


def _client(service, service_name: str, **creds):
    keys = {"aws_access_key_id": service.credentials["aws_access_key_id"],
            "aws_secret_access_key": service.credentials["aws_secret_access_key"], **creds}
    return boto3.session.Session(**keys).client(service_name, region_name="us-east-1", endpoint_url=service.url,
                                                config=Config(retries={"max_attempts": 1}))


def test_only_requests_signed_with_this_homes_credentials_are_answered(service):
    ok = _client(service, "dynamodb").describe_table(TableName=service.runtime.table)
    assert ok["Table"]["TableName"] == service.runtime.table
    for wrong in ({"aws_secret_access_key": "guessed"}, {"aws_access_key_id": "AKIAOTHERUSER"}):
        with pytest.raises(ClientError) as refused:
            _client(service, "dynamodb", **wrong).describe_table(TableName=service.runtime.table)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError):
        _client(service, "s3", aws_secret_access_key="guessed").list_objects_v2(Bucket=service.runtime.bucket)
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=5)
    conn.request("GET", "/_shoebox/status")  # the admin path wants the secret too
    assert conn.getresponse().status == 403
    assert (service.home / "credentials.json").stat().st_mode & 0o077 == 0  # the owner's only
    assert service._server.server_address[0] == "127.0.0.1"


def test_the_cli_finds_the_stack_by_its_outputs(service):
    from shoebox import aws
    from shoebox.cli.backends import open_backend

    with open_backend(None) as backend:
        assert (backend.bucket, backend.table) == (service.runtime.bucket, service.runtime.table)
        assert backend.state_machine_arn == service.runtime.state_machine_arn()
        assert aws.client("s3").meta.endpoint_url == service.url  # a plain client of the endpoint


def test_a_service_gone_mid_command_is_one_line_not_a_traceback(service, capsys):
    import typer

    from shoebox import aws
    from shoebox.cli.backends import open_backend

    with pytest.raises(typer.Exit) as stopped:
        with open_backend(None) as backend:
            aws.client("s3").head_bucket(Bucket=backend.bucket)
            service.stop()  # as a kill -9 of the service in the middle of an ingest
            aws.client("s3").list_objects_v2(Bucket=backend.bucket)
    assert stopped.value.exit_code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lost the local service (what it acknowledged is kept)")
    assert service.url in lines[0] and lines[0].endswith("run it again")


def test_executions_survive_a_restart_and_leave_moto_once_archived(home, service_factory):
    svc = service_factory()
    rt = svc.runtime
    key = "originals/2021/04/05/IMG_1.jpg"
    (arn,) = [rt.upload(jpeg_bytes(), key)]
    assert rt.wait([arn])[arn] == "SUCCEEDED"
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    machines = stepfunctions_parser_backends["123456789012"]["us-east-1"].state_machines
    assert all(e.execution_arn != arn for m in machines for e in m.executions)  # archived, not in memory
    runner = CliRunner()
    before = json.loads(runner.invoke(app, ["execution", "show", key, "--json"]).stdout)
    svc.stop()
    service_factory()
    listed = json.loads(runner.invoke(app, ["executions", "--json"]).stdout)
    assert [(e["key"], e["status"]) for e in listed] == [(key, "SUCCEEDED")]
    after = json.loads(runner.invoke(app, ["execution", "show", key, "--json"]).stdout)
    assert after == before
    by_name = runner.invoke(app, ["execution", "show", arn.rsplit(":", 1)[-1], "--json"])
    assert json.loads(by_name.stdout)["execution"] == arn
    missing = runner.invoke(app, ["execution", "show", "no-such-run"])
    assert missing.exit_code == 1 and "no execution" in missing.output


def test_status_up_and_down(home, service):
    runner = CliRunner()
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["running"] and status["home"] == str(home.resolve()) and status["url"] == service.url
    runner.invoke(app, ["down"])
    gone = runner.invoke(app, ["status", "--json"])
    assert gone.exit_code == 3 and json.loads(gone.stdout) == {"running": False, "home": str(home)}


def test_without_a_service_and_without_autostart_a_command_says_so_in_one_line(home):
    result = CliRunner().invoke(app, ["search", "cats"])
    assert result.exit_code == 1 and "no local service runs for" in result.output
    assert "Traceback" not in result.output


def test_default_home_is_the_platforms_user_data_folder(monkeypatch, tmp_path):
    from shoebox.config import shoebox_home

    monkeypatch.delenv("SHOEBOX_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert shoebox_home() == (tmp_path / "data" / "shoebox").resolve()  # not ./.shoebox: any folder finds it


# ------------------------------------------------------------------------------ the --stack (AWS) path
@pytest.fixture
def aws_user(tmp_path, monkeypatch):
    """A user whose ~/.aws says eu-west-1 and whose environment names no region (ask for it after an
    in-process service, which sets the emulator's region in the environment)."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    aws_dir = tmp_path / "aws"
    aws_dir.mkdir()
    (aws_dir / "config").write_text("[default]\nregion = eu-west-1\n[profile other]\nregion = ap-southeast-2\n")
    (aws_dir / "credentials").write_text("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n"
                                         "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = y\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_dir / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws_dir / "credentials"))
    from shoebox import aws

    aws.reset_clients()
    yield aws_dir
    aws.reset_clients()


def test_region_and_profile_resolve_like_the_aws_cli(aws_user, monkeypatch):
    from shoebox import aws

    assert aws.resolve_aws().region == "eu-west-1"
    assert aws.resolve_aws(profile="other").region == "ap-southeast-2"
    assert aws.resolve_aws(region="us-west-2").region == "us-west-2"
    monkeypatch.setenv("AWS_PROFILE", "other")
    assert aws.resolve_aws().region == "ap-southeast-2"
    endpoint = aws.resolve_aws()
    with aws.using(endpoint):
        assert aws.client("cloudformation").meta.region_name == "ap-southeast-2"


def test_stack_not_found_and_no_credentials_are_one_line_errors(service, aws_user, monkeypatch):
    # AWS itself, as botocore finds it, is the local service here: its stack lives in us-east-1, and the
    # profile's region is eu-west-1
    monkeypatch.setenv("AWS_ENDPOINT_URL", service.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", service.credentials["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", service.credentials["aws_secret_access_key"])
    result = CliRunner().invoke(app, ["search", "cats", "--stack", "shoebox-local"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "stack shoebox-local not found in eu-west-1" in " ".join(result.output.split())
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws_user / "none"))
    result = CliRunner().invoke(app, ["search", "cats", "--stack", "shoebox-local"])
    assert result.exit_code == 1 and "no AWS credentials found" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["--profile", "nobody", "search", "cats", "--stack", "shoebox-local"])
    assert result.exit_code == 1 and "profile not found" in result.output
    # and credentials the service does not know: refused, said in one line
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws_user / "credentials"))
    from shoebox import aws

    aws.reset_clients()  # a new CLI process would resolve credentials afresh
    result = CliRunner().invoke(app, ["search", "cats", "--stack", "shoebox-local"])
    assert result.exit_code == 1 and "not signed with this Shoebox home's credentials" in " ".join(result.output.split())


def test_the_stack_path_runs_against_the_local_service(service, aws_user, monkeypatch):
    """`--stack` is the code users run against AWS: here AWS is the local service (AWS_ENDPOINT_URL and
    its credentials), so the path is exercised end to end."""
    rt = service.runtime
    arn = rt.upload(jpeg_bytes(), "originals/2007/07/14/IMG_2.jpg")
    assert rt.wait([arn])[arn] == "SUCCEEDED"
    monkeypatch.setenv("AWS_ENDPOINT_URL", service.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", service.credentials["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", service.credentials["aws_secret_access_key"])
    runner = CliRunner()
    found = runner.invoke(app, ["--region", "us-east-1", "search", "photos from 2007", "--stack", "shoebox-local",
                                "--json"])
    assert found.exit_code == 0, found.output
    assert [r["key"] for r in json.loads(found.stdout)] == ["originals/2007/07/14/IMG_2.jpg"]
    shown = runner.invoke(app, ["--region", "us-east-1", "execution", "show", "originals/2007/07/14/IMG_2.jpg",
                                "--stack", "shoebox-local", "--json"])
    assert json.loads(shown.stdout)["execution"] == arn
    # a deployed stack's runs come with their console page (issue 17 item 6); the local service's do not
    console = f"https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/{arn}"
    assert json.loads(shown.stdout)["console"] == console
    shown = runner.invoke(app, ["--region", "us-east-1", "execution", "show", "originals/2007/07/14/IMG_2.jpg",
                                "--stack", "shoebox-local"])
    assert f"console: {console}" in shown.stdout
    bad = rt.upload(b"not a photo\n" * 40, "originals/2007/07/15/broken.jpg")
    rt.wait([bad])
    failed = runner.invoke(app, ["--region", "us-east-1", "executions", "--failed", "--stack", "shoebox-local"])
    assert failed.exit_code == 0, failed.output
    assert f"originals/2007/07/15/broken.jpg  {console.replace(arn, bad)}" in failed.stdout
    assert os.environ["AWS_ENDPOINT_URL"] == service.url
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    local = runner.invoke(app, ["executions", "--failed", "--json"])
    assert [r["execution"] for r in json.loads(local.stdout)] == [bad]
    assert "console" not in json.loads(local.stdout)[0]


def test_the_service_refuses_a_body_whose_checksum_does_not_match_as_s3_does(service):
    import base64
    import hashlib

    from shoebox import aws
    from shoebox.cli.backends import open_backend

    body = b"not quite the photo that was hashed"
    right = base64.b64encode(hashlib.sha256(body).digest()).decode()
    wrong = base64.b64encode(hashlib.sha256(body + b"!").digest()).decode()
    with open_backend(None) as backend:
        s3 = aws.client("s3")
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=backend.bucket, Key="uploads/x.bin", Body=body, ChecksumSHA256=wrong)
        assert refused.value.response["Error"]["Code"] == "BadDigest"
        with pytest.raises(ClientError):
            s3.head_object(Bucket=backend.bucket, Key="uploads/x.bin")  # nothing stored
        with pytest.raises(ClientError) as refused:  # as the uploader sends it
            s3.put_object(Bucket=backend.bucket, Key="uploads/x.bin", Body=body, ChecksumAlgorithm="SHA256",
                          ChecksumSHA256=wrong)
        assert refused.value.response["Error"]["Code"] == "BadDigest"
        stored = s3.put_object(Bucket=backend.bucket, Key="uploads/x.bin", Body=body, ChecksumAlgorithm="SHA256",
                               ChecksumSHA256=right)
        assert stored["ChecksumSHA256"] == right
