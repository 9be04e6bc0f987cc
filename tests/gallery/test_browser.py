"""The gallery in a real headless browser (Debian's chromium driven by playwright; `make test` installs
chromium): the demo archive's timeline, a search for "cat", a photo, naming a person and finding them
by the new name, a failed execution's error, an album shared from a selection and revoked. Screenshots
go to tests/gallery/screenshots/ (gitignored). One service, one gallery and one browser for the module."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parent / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium missing: `make test` installs it")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's sample photos through the real workflow with the offline recognizer (a face in the
    astronaut photo), on a local service; the gallery served over the CLI's Backend from a thread."""
    from shoebox.cli.backends import Upload, open_backend
    from shoebox.gallery.app import Gallery, create_app
    from shoebox.gallery.server import start_in_thread
    from shoebox.ingest.files import original_key
    from shoebox.local.service import LocalService
    from shoebox.samples import write_samples

    root = tmp_path_factory.mktemp("demo")
    home = root / "shoebox-home"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SHOEBOX_HOME", str(home))
        env.setenv("SHOEBOX_RETRY_SLEEP_SCALE", "0")
        env.setenv("SHOEBOX_SERVICE_AUTOSTART", "0")
        service = LocalService(home, recognizer="local", retry_sleep_scale=0, pool=False).start()
        try:
            with open_backend(None, home) as backend:
                files = write_samples(root / "samples")
                results = backend.ingest([Upload(p, original_key(p)) for p in files], lambda r: None)
                running = start_in_thread(create_app(Gallery(backend, vocabulary_ttl=0)))
                try:
                    yield running.url, {Path(r["source"]).name: r for r in results}
                finally:
                    running.stop()
        finally:
            service.stop()


@pytest.fixture(scope="module")
def page(demo):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_timeline_search_photo_name_failed_execution_and_share(demo, page):
    url, results = demo
    processed = [r for r in results.values() if r["status"] == "processed"]
    assert len(processed) == 9 and results["astronaut.jpg"]["people"]

    # the timeline: every processed photo, its images loaded (served by the gallery, never S3 directly)
    page.goto(url + "/")
    page.wait_for_function("[...document.querySelectorAll('#timeline img')].every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator("#timeline .tile").count() == 9
    assert page.locator("#jump a").first.inner_text() == "2015"
    shot(page, "1-timeline")

    # search "cat": suggestions as you type, the parsed meaning, the cat photo
    page.fill("#q", "ca")
    page.wait_for_selector("#suggestions li.suggestion")
    assert "Cat" in page.locator("#suggestions").inner_text()
    page.fill("#q", "cat")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=cat")
    assert page.locator("#meaning .chip").all_inner_texts() == ["Cat"]
    tiles = page.locator("#results .tile")
    assert tiles.count() == 1 and tiles.first.get_attribute("data-key") == "originals/2009/06/21/chelsea_cat.jpg"
    shot(page, "2-search-cat")

    # the photo: its view image, date, place, labels; the page's image carries no GPS
    tiles.first.click()
    page.wait_for_selector("#view img")
    page.wait_for_function("document.querySelector('#view img').naturalWidth > 0")
    assert page.locator("#taken").inner_text().startswith("2009-06-21")
    assert "Paris" in page.locator("#place").inner_text() and "Cat" in page.locator("#labels").inner_text()
    view = page.request.get(url + page.locator("#view img").get_attribute("src"))
    from PIL import Image

    assert 0x8825 not in Image.open(io.BytesIO(view.body())).getexif()  # no GPS IFD
    assert page.locator("#download").get_attribute("href") == "/original/originals/2009/06/21/chelsea_cat.jpg"
    shot(page, "3-photo")

    # name the astronaut's face group on the people page, then find her by the new name
    person = results["astronaut.jpg"]["people"][0]
    page.goto(url + "/people")
    card = page.locator(f"#person-{person}")
    card.locator("input[name=name]").fill("Eileen Collins")
    card.locator("form.name button").click()
    page.wait_for_function("document.getElementById('status').textContent.includes('Eileen Collins')")
    shot(page, "4-people-named")
    page.fill("#q", "Eileen Col")
    page.wait_for_selector("#suggestions li.person")
    page.fill("#q", "Eileen Collins")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=Eileen+Collins")
    assert page.locator("#meaning .chip.person").inner_text() == "Eileen Collins"
    assert [t.get_attribute("data-key") for t in page.locator("#results .tile").all()] == [
        "originals/2007/05/02/astronaut.jpg"]
    page.locator("#results .tile").first.click()
    page.wait_for_selector("#view .face")
    assert page.locator("#view .face").first.get_attribute("title") == "Eileen Collins"
    shot(page, "5-found-by-name")

    # a failed execution: the run's states, the path taken, the error
    page.goto(url + "/executions?failed=1")
    page.locator("table.runs a", has_text="TRUNCATED").first.click()
    page.wait_for_selector("#run-error")
    assert page.locator("#run-error").inner_text().startswith("ImageError: truncated")
    assert page.locator(".state.failed").count() >= 1 and page.locator(".state.not-run").count() >= 1
    shot(page, "6-failed-execution")

    # select two photos on the timeline and share them as an album; then revoke it on the shares page
    page.goto(url + "/")
    page.click("#select")
    tiles = page.locator("#timeline .tile")
    tiles.nth(0).click()
    tiles.nth(1).click()
    assert page.locator("#picked-count").inner_text() == "2 selected" and page.url == url + "/"
    page.click("#share-picked")
    page.locator("#picked-result a").wait_for()
    album_url = url + page.locator("#picked-result a").get_attribute("href")
    album = page.request.get(album_url)
    assert album.ok and album.text().count("<img") == 2
    shot(page, "7-shared")
    page.goto(url + "/shares")
    assert page.locator(".share-row").count() == 1
    page.locator(".share-row .revoke").click()
    page.wait_for_function("document.querySelectorAll('.share-row').length === 0")
    assert page.request.get(album_url).status == 404
