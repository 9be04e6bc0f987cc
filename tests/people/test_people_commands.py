"""`shoebox people …` on people written straight into the local runtime (no workflow, no recognizer):
the CLI's own behaviour, fast. The real-photo, real-workflow path is test_people_cli.py."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from people_helpers import BOX, BOX2


def run(*args: str, code: int = 0):
    from shoebox.cli.main import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (args, result.output, result.exception)
    return result


def run_json(*args: str):
    return json.loads(run(*args, "--json").stdout)


def key(i: int) -> str:
    return f"originals/2020/01/{i:02d}/IMG_{i}.jpg"


def test_hidden_lists_only_hidden_people_to_find_one_to_unhide(local_photos, home):
    with local_photos() as photos:
        # p-a: 3 photos, p-b: 2, p-c: 1, p-d: its only photo lost its face
        for i, people in enumerate([["p-a", "p-b", "p-c"], ["p-a", "p-b"], ["p-a"], ["p-d"]], start=1):
            photos.persist(key(i), [(pid, BOX if n == 0 else BOX2) for n, pid in enumerate(people)])
        photos.persist(key(4), [])
        for pid in ("p-b", "p-c", "p-d"):
            photos.people.hide(pid)
    assert [p["id"] for p in run_json("people")] == ["p-a"]
    hidden = run_json("people", "--hidden")
    assert [(p["id"], p["hidden"]) for p in hidden] == [("p-b", True), ("p-c", True)]  # most photographed first
    assert [p["id"] for p in run_json("people", "--hidden", "--limit", "1")] == ["p-b"]
    # --all also lists people with no photo left: with --hidden, the hidden ones among them
    assert [p["id"] for p in run_json("people", "--hidden", "--all")] == ["p-b", "p-c", "p-d"]
    assert "hidden people — 2" in run("people", "--hidden").stdout

    run("people", "--hidden", "--page", str(home / "hidden-page"))
    page = (home / "hidden-page" / "index.html").read_text()
    assert "<code>shoebox people unhide p-b</code>" in page and "<code>shoebox people unhide p-c</code>" in page
    assert 'id="p-a"' not in page and "<title>Hidden people</title>" in page

    run("people", "unhide", "p-b")
    assert [p["id"] for p in run_json("people", "--hidden")] == ["p-c"]


def test_a_name_held_by_a_hidden_person_says_who_and_how_to_see_them(local_photos):
    with local_photos() as photos:
        for i, pid in enumerate(("p-a", "p-b", "p-c"), start=1):
            photos.persist(key(i), [(pid, BOX)])
        photos.people.name_person("p-b", "Bob")
        photos.people.name_person("p-c", "Carl")
        photos.people.hide("p-b")
    failed = run("people", "name", "p-a", "bob", code=1)
    said = " ".join(failed.output.split())  # the console wraps long lines
    assert "'bob' is already p-b, who is hidden" in said
    assert "`shoebox people --hidden`" in said and "`shoebox people unhide p-b`" in said
    # into the listed one: merging into p-b would hide p-a's photos with it
    assert "`shoebox people merge p-a p-b`" in said
    # held by a listed person, the message is as before
    said = " ".join(run("people", "name", "p-a", "Carl", code=1).output.split())
    assert "hidden" not in said and "`shoebox people merge p-c p-a`" in said
    # the advice works: one listed person, with the name
    merged = run_json("people", "merge", "p-a", "p-b")
    assert (merged["id"], merged["name"], merged["hidden"]) == ("p-a", "Bob", False)
    assert [p["id"] for p in run_json("people", "--hidden")] == []


class Refusing:
    """The bucket as CLI credentials without s3:GetObject under ``prefix`` see it: 403 on those GETs
    (S3's answer to a missing key too, without s3:ListBucket)."""

    def __init__(self, s3, prefix: str):
        self.s3, self.prefix = s3, prefix

    def get_object(self, **kwargs):
        from botocore.exceptions import ClientError

        if kwargs["Key"].startswith(self.prefix):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObject")
        return self.s3.get_object(**kwargs)

    def __getattr__(self, name):
        return getattr(self.s3, name)


def warnings_in(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning:")]


def test_a_page_missing_images_says_how_many_and_why_and_is_still_written(local_photos, home, monkeypatch):
    from shoebox import aws
    from shoebox.cli.backends import Backend
    from shoebox.recognition.base import PeopleMatch

    with local_photos() as photos:
        photos.persist(key(1), [("p-a", BOX)])
        photos.persist(key(2), [("p-a", BOX)])
        record = photos.persist(key(3), [("p-b", BOX)])
        # the helper writes no small thumbnails: give one sample its own, the other two stay missing
        grid = record.thumbnails["grid"]["key"]
        photos.rt.s3.copy_object(Bucket=photos.rt.bucket, Key=grid,
                                 CopySource={"Bucket": photos.rt.bucket, "Key": record.thumbnails["view"]["key"]})

    listed = run("people", "--json", "--page", str(home / "page"))
    assert warnings_in(listed) == ["warning: 2 image(s) could not be copied (missing from the bucket); "
                                   "the page is written without them"]
    assert [p["id"] for p in json.loads(listed.stdout)] == ["p-a", "p-b"]
    page = (home / "page" / "index.html").read_text()
    assert page.count('<img class="cover"') == 2 and page.count('<img class="sample"') == 1

    # a deployed stack whose CLI credentials may not read the covers: S3 says 403, which may also mean
    # "missing" (without s3:ListBucket), so the warning names the permission as a possible cause
    with monkeypatch.context() as patched:
        patched.setattr(Backend, "s3", property(lambda self: Refusing(aws.client("s3"), "thumbnails/people/")))
        denied = run("people", "--page", str(home / "denied"))
        assert warnings_in(denied) == ["warning: 4 image(s) could not be copied (missing, or no s3:GetObject "
                                       "permission: the CLI's credentials need s3:GetObject on thumbnails/*); "
                                       "the page is written without them"]
        page = (home / "denied" / "index.html").read_text()
        assert '<img class="cover"' not in page and page.count('<div class="cover" title="no image">') == 2

        # the suggestions page says the same
        patched.setattr(Backend, "similar_people", lambda self, ids: [PeopleMatch("p-a", "p-b", 0.4)])
        suggested = run("people", "suggest", "--page", str(home / "suggest"))
        assert len(warnings_in(suggested)) == 1 and "4 image(s)" in warnings_in(suggested)[0]
        assert 'class="pair"' in (home / "suggest" / "index.html").read_text()

    # readable again, and every small thumbnail there: no warning
    with local_photos() as photos:
        for i in (1, 2):
            small = photos.catalog.get_photo(key(i)).thumbnails["grid"]["key"]
            photos.rt.s3.copy_object(Bucket=photos.rt.bucket, Key=small,
                                     CopySource={"Bucket": photos.rt.bucket, "Key": grid})
    complete = run("people", "--page", str(home / "complete"))
    assert warnings_in(complete) == []
    assert (home / "complete" / "index.html").read_text().count('<img class="sample"') == 3


def test_hiding_several_people_reads_the_people_list_once(local_photos, monkeypatch):
    """`people hide A B C`: one Query on the PEOPLE partition whatever the number of refs (it was three
    per ref: look up, hide, report), and still every ref is checked before any is changed."""
    from botocore.client import BaseClient

    with local_photos() as photos:
        for i, pid in enumerate(("p-a", "p-b", "p-c"), start=1):
            photos.persist(key(i), [(pid, BOX)])
        photos.people.name_person("p-c", "Carl")
    real = BaseClient._make_api_call
    people_reads: list[dict] = []

    def counting(client, operation, params):
        if operation == "Query" and params.get("ExpressionAttributeValues", {}).get(":pk") == {"S": "PEOPLE"}:
            people_reads.append(params)
        return real(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    hidden = run_json("people", "hide", "p-a", "p-b", "carl", "p-a")  # by id and name; p-a twice
    assert [(p["id"], p["name"], p["hidden"]) for p in hidden] == [("p-a", None, True), ("p-b", None, True),
                                                                   ("p-c", "Carl", True)]
    assert len(people_reads) == 1
    people_reads.clear()
    failed = run("people", "unhide", "p-a", "nobody", code=1)  # one unknown: nothing changes
    assert "nobody" in failed.output and len(people_reads) == 1
    assert sorted(p["id"] for p in run_json("people", "--hidden")) == ["p-a", "p-b", "p-c"]
    assert [p["id"] for p in run_json("people", "unhide", "p-b")] == ["p-b"]
    assert sorted(p["id"] for p in run_json("people")) == ["p-b"]


def test_names_and_queries_with_brackets_print_as_typed(local_photos):
    """Rich reads "[...]" as markup: a name like "Bob [work]" lost its bracket part, and "[/x]" crashed the
    command that printed it. User text is printed as typed, in tables and messages alike."""
    with local_photos() as photos:
        for i, pid in enumerate(("p-a", "p-b"), start=1):
            photos.persist(key(i), [(pid, BOX)])
    assert "p-a is now Bob [work] (1 photo(s))" in run("people", "name", "p-a", "Bob [work]").stdout
    run("people", "name", "p-b", "[/x] [bold]")
    listed = run("people").stdout
    assert "Bob [work]" in listed and "[/x] [bold]" in listed
    found = run("search", "Bob [work]").stdout
    assert "│ Bob [work]" in found  # the people cell shows the name as typed (not only the title, the query)
    assert [r["names"] for r in run_json("search", "Bob [work]")] == [["Bob [work]"]]
    assert '"[/x] cats"' in run("search", "[/x] cats").stdout  # the query, as the table's title
    taken = run("people", "name", "p-b", "bob [WORK]", code=1)
    assert "'bob [WORK]' is already p-a" in taken.stderr
