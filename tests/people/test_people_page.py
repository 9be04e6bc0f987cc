"""The people pages: what a person's card shows, escaping of user-given names, missing images, the
answer commands (quoted so they can be pasted into a shell)."""

from __future__ import annotations

import html
import re
import shlex

from shoebox.people_page import people_html, suggestions_html


def person(pid: str, name: str | None = None, samples=(), cover: str | None = "x", aliases=()) -> dict:
    return {"id": pid, "name": name, "faces": 3, "photos": 2,
            "cover": f"thumbnails/people/{pid}.jpg" if cover else None,
            "samples": list(samples), "aliases": list(aliases)}


def test_a_card_shows_cover_samples_counts_and_merged_ids():
    p = person("p-1", "Natalie", samples=["originals/2007/a.jpg", "originals/2006/b.jpg"], aliases=["p-9"])
    files = {"thumbnails/people/p-1.jpg": "c1.jpg", "originals/2007/a.jpg": "a.jpg", "originals/2006/b.jpg": "b.jpg"}
    page = people_html([p], files)
    assert '<img class="cover" src="c1.jpg"' in page
    assert page.index('src="a.jpg"') < page.index('src="b.jpg"')  # newest first, as listed
    assert "2 photo(s), 3 face(s)" in page and "merged: p-9" in page
    assert "<code>shoebox people name p-1 Natalie</code>" in page
    assert "<code>shoebox people hide p-1</code>" in page and "hidden</span>" not in page
    hidden = people_html([{**p, "hidden": True}], files)
    assert "<code>shoebox people unhide p-1</code>" in hidden and '<span class="dim">hidden</span>' in hidden


def test_names_are_escaped_and_commands_quoted_for_a_shell():
    evil = "O'Brien <script>alert(1)</script>"
    page = people_html([person("p-1", evil)], {})
    assert "<script>" not in page
    command = shlex.join(["shoebox", "people", "name", "p-1", evil])
    assert shlex.split(command)[-1] == evil
    assert html.escape(command) in page  # the browser shows exactly the command


def test_missing_images_show_an_empty_box_not_a_broken_link():
    # no cover made yet, a sample whose thumbnail is gone
    page = people_html([person("p-1", cover=None, samples=["originals/x.jpg"])], {})
    assert "<img" not in page and '<div class="cover" title="no image"></div>' in page
    assert people_html([], {}).count("No people found yet") == 1


def test_suggestions_put_each_pair_side_by_side_with_both_answers():
    pairs = [{"a": person("p-1", "Jesper"), "b": person("p-2"), "similarity": 0.4123},
             {"a": person("p-3"), "b": person("p-4"), "similarity": 0.31}]
    files = {f"thumbnails/people/p-{i}.jpg": f"p{i}.jpg" for i in range(1, 5)}
    page = suggestions_html(pairs, files)
    first, second = re.split(r'<div class="pair" id="pair-\d+">', page)[1:]
    assert first.index('src="p1.jpg"') < first.index("0.41") < first.index('src="p2.jpg"')
    assert "shoebox people merge p-1 p-2" in first and "shoebox people apart p-1 p-2" in first
    assert "p3.jpg" in second and "shoebox people merge p-3 p-4" in second and "p-1" not in second
    assert "No suggestions" in suggestions_html([], {})


def test_a_name_that_looks_like_an_option_is_passed_after_a_double_dash():
    page = people_html([person("p-1", "-Bob")], {})
    assert "<code>shoebox people name -- p-1 -Bob</code>" in page
    assert "<code>shoebox people hide p-1</code>" in page  # nothing to guard there


def test_a_person_in_several_pairs_has_a_unique_id_on_each_card():
    """One face group can be alike to several others: each of its cards needs its own HTML id."""
    pairs = [{"a": person("p-1"), "b": person("p-2"), "similarity": 0.41},
             {"a": person("p-1"), "b": person("p-3"), "similarity": 0.38},
             {"a": person("p-2"), "b": person("p-3"), "similarity": 0.33}]
    page = suggestions_html(pairs, {})
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)) == 3 + 6  # a pair, its two cards
    assert ids[:3] == ["pair-1", "pair-1-p-1", "pair-1-p-2"]
    # the people page shows each person once: the card's id is the person id (index.html#p-1)
    assert re.findall(r'\sid="([^"]+)"', people_html([person("p-1"), person("p-2")], {})) == ["p-1", "p-2"]
