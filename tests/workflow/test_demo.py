"""`shoebox demo`, the README's first command: samples in, thumbnails, labels, faces, places, searches out."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from shoebox.cli.main import app


def test_demo_processes_the_samples_and_its_searches_find_them(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOEBOX_RETRY_SLEEP_SCALE", "0")
    monkeypatch.delenv("SHOEBOX_RECOGNIZER_LOCAL", raising=False)  # the real offline recognizer
    home = tmp_path / "demo"
    try:
        result = CliRunner().invoke(app, ["demo", "--home", str(home), "--json"])
    finally:
        from shoebox.local import client

        client.stop(home / "state")  # the demo leaves its service running for the user's next commands
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    photos, summary = lines[:-1], lines[-1]
    status = {p["source"].rsplit("/", 1)[-1]: p for p in photos}
    assert {n for n, p in status.items() if p["status"] == "failed"} == {"TRUNCATED.JPG", "NOTES.NEF"}
    assert status["TRUNCATED.JPG"]["error"].startswith("ImageError: truncated")
    assert status["NOTES.NEF"]["error"] == "UnsupportedFormat: not an image: looks like text"
    assert "Cat" in status["chelsea_cat.jpg"]["labels"] and "Coffee" in status["coffee.jpg"]["labels"]
    assert status["astronaut.jpg"]["people"] and summary["named"] == status["astronaut.jpg"]["people"][0]
    searches = summary["searches"]
    assert searches["cat in Paris"] == ["originals/2009/06/21/chelsea_cat.jpg"]
    assert "originals/2012/03/11/coffee.jpg" in searches["photos in Italy"]
    assert searches["photos of Eileen"] == ["originals/2007/05/02/astronaut.jpg"]
    assert set(searches["photos from 2007"]) >= {"originals/2007/05/02/astronaut.jpg", "originals/2007/08/08/rocket.jpg"}


def test_demo_refuses_to_replace_a_folder_it_did_not_make(tmp_path):
    precious = tmp_path / "Pictures [b]"  # a folder name rich would read as markup: printed as it is
    precious.mkdir()
    (precious / "wedding.jpg").write_bytes(b"irreplaceable")
    result = CliRunner().invoke(app, ["demo", "--home", str(precious)])
    assert result.exit_code == 1 and "Pictures [b] is not empty" in result.output.replace("\n", "")
    assert (precious / "wedding.jpg").read_bytes() == b"irreplaceable"
