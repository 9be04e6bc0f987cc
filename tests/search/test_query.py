"""Table-driven: English queries → structured queries, against a fixed today (Thursday 2026-11-26)."""

import json
from datetime import date

import pytest

from shoebox.search import ParsedQuery, Vocabulary, parse
from shoebox.search.tokens import tokenize

TODAY = date(2026, 11, 26)
MIN, MAX = "0001-01-01", "9999-12-31"

VOCAB = Vocabulary(
    people={"natalie": "p-1a2b", "Tom": "p-tom", "Aunt May": "p-may", "Rose": "p-rose", "June": "p-june",
            "Jordan": "p-jordan", "Sam Lee": "p-sam"},
    labels=["Dog", "Cat", "Beach", "Coffee", "Person", "Birthday Cake", "Cake", "Rose", "Turkey", "Sea",
            "Mountain", "Child", "Car", "Glasses", "Hot Dog", "Apple"],
    cameras=["NIKON D70", "Apple iPhone 12 Pro", "Apple iPhone 6", "Canon EOS 5D Mark II"],
)


def y(year):
    return [f"{year}-01-01", f"{year}-12-31"]


# query → expected facets (anything not listed must be empty). Places are compared by their key.
CASES = [
    # the brief's examples
    ("photos of Natalie from 2007", {"people": ["p-1a2b"], "date_ranges": [y(2007)]}),
    ("dogs at the beach last summer", {"labels": ["Dog", "Beach"], "date_ranges": [["2026-06-01", "2026-08-31"]]}),
    ("Natalie and Tom in Paris", {"people": ["p-1a2b", "p-tom"], "places": ["FR/Île-de-France/Paris"]}),
    ("raw photos taken with the D70 in 2006", {"kind": "raw", "cameras": ["NIKON D70"], "date_ranges": [y(2006)]}),
    ("cats between 2006 and 2008", {"labels": ["Cat"], "date_ranges": [["2006-01-01", "2008-12-31"]]}),
    ("on this day", {"month_day": [11, 26]}),
    ("gibberish words", {"unknown": ["gibberish", "words"]}),
    # labels: plurals, synonyms, multi-word
    ("puppies", {"labels": ["Dog"]}),
    ("puppy", {"labels": ["Dog"]}),
    ("kittens and cats", {"labels": ["Cat"]}),
    ("seaside", {"labels": ["Beach"]}),
    ("birthday cakes", {"labels": ["Birthday Cake"]}),
    ("hot dogs", {"labels": ["Hot Dog"]}),
    ("people on the beach", {"labels": ["Person", "Beach"]}),
    ("glasses", {"labels": ["Glasses"]}),
    ("kids in the mountains", {"labels": ["Child", "Mountain"]}),
    ("coffee", {"labels": ["Coffee"]}),
    # people: case, multi-word, first name, possessive, ambiguity
    ("NATALIE", {"people": ["p-1a2b"]}),
    ("Aunt May", {"people": ["p-may"]}),
    ("Sam", {"people": ["p-sam"]}),
    ("Natalie's birthday cake", {"people": ["p-1a2b"], "labels": ["Birthday Cake"]}),
    ("Rose", {"people": ["p-rose"]}),  # name and label: the person
    ("roses", {"labels": ["Rose"]}),  # plural: the label
    ("June", {"people": ["p-june"]}),  # bare month that is a person: the person
    ("June 2010", {"date_ranges": [["2010-06-01", "2010-06-30"]]}),
    ("Aunt May in May 2010", {"people": ["p-may"], "date_ranges": [["2010-05-01", "2010-05-31"]]}),
    # years, months, seasons, decades, ranges
    ("2007", {"date_ranges": [y(2007)]}),
    ("in 2007", {"date_ranges": [y(2007)]}),
    ("from '07", {"date_ranges": [y(2007)]}),
    ("May 2010", {"date_ranges": [["2010-05-01", "2010-05-31"]]}),
    ("in May", {"date_ranges": [["2026-05-01", "2026-05-31"]]}),
    ("in December", {"date_ranges": [["2025-12-01", "2025-12-31"]]}),  # most recent December that began
    ("jan 2010", {"date_ranges": [["2010-01-01", "2010-01-31"]]}),
    ("May 5th, 2010", {"date_ranges": [["2010-05-05", "2010-05-05"]]}),
    ("the 4th of July 2015", {"date_ranges": [["2015-07-04", "2015-07-04"]]}),
    ("2010-05-05", {"date_ranges": [["2010-05-05", "2010-05-05"]]}),
    ("summer 2009", {"date_ranges": [["2009-06-01", "2009-08-31"]]}),
    ("winter 2009", {"date_ranges": [["2009-12-01", "2010-02-28"]]}),
    ("summers 2006 to 2008", {"date_ranges": [["2006-06-01", "2006-08-31"], ["2007-06-01", "2007-08-31"],
                                              ["2008-06-01", "2008-08-31"]]}),
    ("the 90s", {"date_ranges": [["1990-01-01", "1999-12-31"]]}),
    ("between 2006 and 2008", {"date_ranges": [["2006-01-01", "2008-12-31"]]}),
    ("from 2006 to 2008", {"date_ranges": [["2006-01-01", "2008-12-31"]]}),
    ("2006-2008", {"date_ranges": [["2006-01-01", "2008-12-31"]]}),
    ("from May 2006 to June 2007", {"date_ranges": [["2006-05-01", "2007-06-30"]]}),
    ("2006 and 2008", {"date_ranges": [y(2006), y(2008)]}),  # ORed
    ("before 2010", {"date_ranges": [[MIN, "2009-12-31"]]}),
    ("after 2015", {"date_ranges": [["2016-01-01", MAX]]}),
    ("since 2020", {"date_ranges": [["2020-01-01", MAX]]}),
    ("until March 2001", {"date_ranges": [[MIN, "2001-03-31"]]}),
    # relative to today (Thursday 26 November 2026)
    ("last summer", {"date_ranges": [["2026-06-01", "2026-08-31"]]}),
    ("last winter", {"date_ranges": [["2025-12-01", "2026-02-28"]]}),
    ("last fall", {"date_ranges": [["2025-09-01", "2025-11-30"]]}),  # this autumn has not ended
    ("this winter", {"date_ranges": [["2026-12-01", "2027-02-28"]]}),
    ("summer", {"date_ranges": [["2026-06-01", "2026-08-31"]]}),
    ("this year", {"date_ranges": [y(2026)]}),
    ("last year", {"date_ranges": [y(2025)]}),
    ("two years ago", {"date_ranges": [y(2024)]}),
    ("a year ago", {"date_ranges": [y(2025)]}),
    ("3 months ago", {"date_ranges": [["2026-08-01", "2026-08-31"]]}),
    ("twenty one days ago", {"date_ranges": [["2026-11-05", "2026-11-05"]]}),
    ("2 weeks ago", {"date_ranges": [["2026-11-09", "2026-11-15"]]}),
    ("yesterday", {"date_ranges": [["2026-11-25", "2026-11-25"]]}),
    ("today", {"date_ranges": [["2026-11-26", "2026-11-26"]]}),
    ("last week", {"date_ranges": [["2026-11-16", "2026-11-22"]]}),
    ("this week", {"date_ranges": [["2026-11-23", "2026-11-29"]]}),
    ("last weekend", {"date_ranges": [["2026-11-21", "2026-11-22"]]}),
    ("last month", {"date_ranges": [["2026-10-01", "2026-10-31"]]}),
    ("the past 3 months", {"date_ranges": [["2026-08-27", "2026-11-26"]]}),
    ("in the last 10 days", {"date_ranges": [["2026-11-17", "2026-11-26"]]}),
    ("this day", {"month_day": [11, 26]}),
    ("on this day in 2010", {"month_day": [11, 26], "date_ranges": [y(2010)]}),
    ("this day last year", {"month_day": [11, 26], "date_ranges": [y(2025)]}),
    ("last christmas", {"date_ranges": [["2025-12-24", "2025-12-26"]]}),
    ("christmas 2010", {"date_ranges": [["2010-12-24", "2010-12-26"]]}),
    ("thanksgiving", {"date_ranges": [["2026-11-26", "2026-11-29"]]}),  # today is Thanksgiving 2026
    ("easter 2010", {"date_ranges": [["2010-04-02", "2010-04-05"]]}),
    ("new year's eve 1999", {"date_ranges": [["1999-12-31", "1999-12-31"]]}),
    # camera and format
    ("taken with the D70", {"cameras": ["NIKON D70"]}),
    ("with my iPhone", {"cameras": ["Apple iPhone 12 Pro", "Apple iPhone 6"]}),
    ("shot on iPhone 6", {"cameras": ["Apple iPhone 6"]}),
    ("5d mark ii", {"cameras": ["Canon EOS 5D Mark II"]}),
    ("apples", {"labels": ["Apple"]}),  # bare: the label, not the camera maker
    ("heic", {"format": "heic"}),
    ("png images from 2019", {"format": "png", "date_ranges": [y(2019)]}),
    ("NEF files", {"format": "nef", "unknown": ["files"]}),
    ("videos of Tom", {"kind": "video", "people": ["p-tom"]}),
    # places
    ("photos from Paris", {"places": ["FR/Île-de-France/Paris"]}),
    ("in Italy", {"places": ["IT"]}),
    ("France", {"places": ["FR"]}),
    ("dogs in New York", {"labels": ["Dog"], "places": ["US/New York"]}),
    ("coffee in Paris or London", {"labels": ["Coffee"], "unknown": ["or"],
                                   "places": ["FR/Île-de-France/Paris", "GB/England/London"]}),
    ("in Turkey", {"places": ["TR"]}),  # place after "in" beats the Turkey label
    ("turkey", {"labels": ["Turkey"]}),
    ("photos of Jordan", {"people": ["p-jordan"]}),
    ("in Jordan", {"places": ["JO"]}),
    ("at the beach", {"labels": ["Beach"]}),  # not Beach, North Dakota
    ("nice photos", {"unknown": ["nice"]}),  # lower case, no preposition: not Nice, France
    ("the USA", {"places": ["US"]}),
    ("Paris, Texas", {"places": ["US/Texas/Paris"]}),  # a region or country after a city narrows it
    ("photos in Springfield, Illinois", {"places": ["US/Illinois/Springfield"]}),
    ("Italy France", {"places": ["IT", "FR"]}),  # places are ORed
    # more date edges
    ("Feb 29", {"date_ranges": [["2024-02-29", "2024-02-29"]]}),  # most recent leap day
    ("between 2008 and 2006", {"date_ranges": [["2006-01-01", "2008-12-31"]]}),
    ("winter 2009-2010", {"date_ranges": [["2009-12-01", "2010-02-28"]]}),
    ("from 2006 until now", {"date_ranges": [["2006-01-01", "2026-11-26"]]}),
    ("late 2008", {"date_ranges": [["2008-09-01", "2008-12-31"]]}),
    ("February 30 2010", {"date_ranges": [y(2010)], "unknown": ["February", "30"]}),
    # everything at once, and leftovers
    ("photos of Natalie with the dogs at the beach in Italy summer 2009",
     {"people": ["p-1a2b"], "labels": ["Dog", "Beach"], "places": ["IT"],
      "date_ranges": [["2009-06-01", "2009-08-31"]]}),
    ("Tom riding a unicorn in 2012", {"people": ["p-tom"], "unknown": ["riding", "unicorn"], "date_ranges": [y(2012)]}),
    ("", {}),
]

FACETS = ("people", "labels", "places", "date_ranges", "month_day", "cameras", "kind", "format", "unknown")


def facets(q: ParsedQuery) -> dict:
    d = q.to_dict()
    d["places"] = [p["key"] for p in d["places"]]
    return {k: d[k] for k in FACETS if d[k]}


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_query(text, expected):
    assert facets(parse(text, today=TODAY, vocab=VOCAB)) == expected


def test_table_is_big_enough():
    assert len(CASES) >= 45


def test_ignored_words_are_reported():
    q = parse("show me photos of Natalie from the beach", today=TODAY, vocab=VOCAB)
    assert q.ignored == ["show", "me", "photos", "of", "from", "the"]
    assert q.people == ["p-1a2b"] and q.labels == ["Beach"] and q.unknown == []


def test_to_dict_is_json_and_explains_each_term():
    q = parse("Natalie in Paris last summer with the D70", today=TODAY, vocab=VOCAB)
    d = json.loads(json.dumps(q.to_dict()))
    assert d["places"][0] == {
        "level": "city", "name": "Paris", "country": "France", "country_code": "FR",
        "region": "Île-de-France", "city": "Paris", "population": 2138551, "key": "FR/Île-de-France/Paris",
    }
    assert [(t["text"], t["kind"]) for t in d["terms"]] == [
        ("Natalie", "person"), ("Paris", "place"), ("last summer", "date"), ("D70", "camera"),
    ]
    assert q.camera == "NIKON D70"
    assert not q.is_empty


def test_parse_is_pure():
    a = parse("dogs last summer in Paris", today=TODAY, vocab=VOCAB)
    b = parse("dogs last summer in Paris", today=TODAY, vocab=VOCAB)
    assert a == b
    later = parse("dogs last summer", today=date(2027, 7, 1), vocab=VOCAB)
    assert later.date_ranges == [(date(2026, 6, 1), date(2026, 8, 31))]


def test_january_today_winter_and_last_year():
    q = parse("this winter", today=date(2027, 1, 15), vocab=VOCAB)
    assert q.date_ranges == [(date(2026, 12, 1), date(2027, 2, 28))]
    q = parse("last month", today=date(2027, 1, 15), vocab=VOCAB)
    assert q.date_ranges == [(date(2026, 12, 1), date(2026, 12, 31))]


def test_without_place_resolver_places_are_unknown():
    vocab = Vocabulary(people={}, labels=["Dog"], resolve_place=None)
    q = parse("dogs in Paris", today=TODAY, vocab=vocab)
    assert q.labels == ["Dog"] and q.places == [] and q.unknown == ["Paris"]


def test_labels_need_the_vocabulary():
    q = parse("puppies", today=TODAY, vocab=Vocabulary(labels=["Cat"], resolve_place=None))
    assert q.labels == [] and q.unknown == ["puppies"]


def test_tokenizer_splits_year_spans_and_strips_possessives():
    assert [t.norm for t in tokenize("Natalie's 2006-2008, 'dogs'")] == ["natalie", "2006", "-", "2008", "dogs"]


@pytest.mark.parametrize("text,ratings,rest", [
    ("5 stars", [5], []), ("five-star photos of dogs", [5], ["Dog"]), ("4-star", [4], []),
    ("4+ stars", [4, 5], []), ("at least 3 stars", [3, 4, 5], []), ("photos rated 4 or more", [4, 5], []),
    ("3 stars or better", [3, 4, 5], []), ("rated 2", [2], []), ("top rated dogs", [4, 5], ["Dog"]),
    ("starred photos", [1, 2, 3, 4, 5], []), ("rejected", [-1], []),
    ("4 stars and 5 stars", [], []),  # one rating cannot be both: nothing matches
])
def test_xmp_rating_phrases(text, ratings, rest):
    q = parse(text, today=TODAY, vocab=Vocabulary(labels=["Dog"], resolve_place=None))
    assert (q.ratings, q.labels, q.unknown) == (ratings, rest, [])
    assert any(t.kind == "rating" for t in q.terms)


def test_a_number_without_star_or_rated_is_no_rating():
    q = parse("2 dogs", today=TODAY, vocab=Vocabulary(labels=["Dog"], resolve_place=None))
    assert q.ratings == [] and q.labels == ["Dog"]
    assert parse("a star", today=TODAY, vocab=Vocabulary(resolve_place=None)).ratings == []
