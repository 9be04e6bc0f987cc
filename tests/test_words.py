"""Which title words the catalog indexes: the ones the search parser can ask for."""

from datetime import date

from shoebox.search.query import STOPWORDS, Vocabulary, parse
from shoebox.steps.records import title_labels
from shoebox.words import title_words


def test_title_words_drop_fillers_numbers_and_possessives():
    assert title_words("Grandma’s 80th birthday at the lake, 2019!") == ["grandma", "80th", "birthday", "lake"]
    assert title_words("") == [] and title_words("at the") == []
    assert not set(title_words("photos of my dog with the cat")) & STOPWORDS


def test_title_words_join_the_labels_once_and_the_parser_finds_them():
    labels = title_labels([{"name": "Lake", "confidence": 91.0}], "Birthday at the lake")
    assert [(label["name"], label.get("source")) for label in labels] == [("Lake", None), ("Birthday", "title")]
    q = parse("birthday at the lake", today=date(2026, 1, 1), vocab=Vocabulary(labels=[label["name"] for label in labels], resolve_place=None))
    assert q.labels == ["Birthday", "Lake"] and q.unknown == []
