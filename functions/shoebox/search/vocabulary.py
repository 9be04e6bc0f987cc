"""What a search can name, read from the catalog: the VOCAB counts (partition sizes the planner in
``execute.py`` estimates paths with) and the people (names, merged ids), as a parser ``Vocabulary``."""

from __future__ import annotations

from dataclasses import dataclass, field

from shoebox.catalog import Catalog, keys
from shoebox.search.query import Vocabulary


@dataclass
class CatalogVocabulary:
    counts: dict[str, dict]  # VOCAB: partition → {"n", "name"}
    people_groups: dict[str, list[str]]  # person id (canonical or alias) → every id of that person
    vocab: Vocabulary
    items_read: int
    people_refs: dict = field(default_factory=dict)  # person id → PersonRef (who it is now, named)

    @property
    def total(self) -> int:
        return max(1, (self.counts.get(keys.ALL_COUNT) or {}).get("n", 1))

    def count(self, pk: str) -> int:
        return (self.counts.get(pk) or {}).get("n", 0)

    @property
    def years(self) -> list[str]:
        found = [pk for pk in self.counts if keys.kind_of(pk) == "YEAR"]
        # newest year first; undated photos (YEAR#unknown) last
        return sorted(found, key=lambda pk: (keys.is_dated_year(pk), pk), reverse=True)


def _people(catalog: Catalog, person_ids: list[str]) -> tuple[dict[str, str], dict[str, list[str]], dict]:
    """(name → id, id → the person's ids, id → ``PersonRef``) from the people module when present; ids
    alone otherwise."""
    names: dict[str, str] = {pid: pid for pid in person_ids}
    groups: dict[str, list[str]] = {pid: [pid] for pid in person_ids}
    try:
        from shoebox.catalog.people import People
        from shoebox.catalog.people_rules import person_refs
    except ImportError:  # pragma: no cover - people module not installed
        return names, groups, {}
    everyone, by_name = People(catalog).people_and_names()  # one Query on PEOPLE
    for person in everyone:
        ids = [person.id, *person.aliases]
        for pid in ids:
            groups[pid] = ids
            names[pid] = person.id
        if person.name:
            names[person.name] = person.id
    for name, pid in by_name.items():
        names.setdefault(name, pid)
    return names, groups, person_refs(everyone)


def load_vocabulary(catalog: Catalog) -> CatalogVocabulary:
    counts, read = catalog.vocabulary()
    labels = [v.get("name") or keys.value_of(pk) for pk, v in counts.items() if keys.is_single(pk, "LABEL")]
    cameras = [v.get("name") or keys.value_of(pk) for pk, v in counts.items() if keys.is_single(pk, "CAMERA")]
    person_ids = [keys.value_of(pk) for pk in counts if keys.is_single(pk, "PERSON")]
    names, groups, refs = _people(catalog, person_ids)
    return CatalogVocabulary(counts, groups, Vocabulary(people=names, labels=labels, cameras=cameras), read, refs)
