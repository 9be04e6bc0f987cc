"""English words the search parser and the catalog's writers must agree on. Lives outside ``search/``
because the Lambda packages ship without the parser (functions/Makefile PRUNE) but Persist indexes titles."""

from __future__ import annotations

import re

# Words a query reads as filler ("photos of my dog"): never a facet, so never worth an index row.
STOPWORDS = frozenset(
    """photos photo pictures picture pics pic images image shots snaps snapshots show me find search
    all my our of from with the at in on and a an taken shot during some any that were was which by
    to for i we where when is are it featuring containing having has have including please everything
    those these what over within & """.split()
)
_WORD = re.compile(r"[^\W_][\w'’-]*")


def title_words(title: str) -> list[str]:
    """The words of a photo's title a search can ask for, lower case, once each, possessives dropped
    ("Grandma's 80th birthday at the lake" → grandma, 80th, birthday, lake): at least three characters,
    at least one letter, not a stopword."""
    out: list[str] = []
    for raw in _WORD.findall(title.replace("’", "'")):
        word = raw.lower().strip("'-")
        if word.endswith("'s"):
            word = word[:-2]
        if len(word) >= 3 and any(c.isalpha() for c in word) and word not in STOPWORDS:
            out.append(word)
    return list(dict.fromkeys(out))
