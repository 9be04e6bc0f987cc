"""English search: parse a query into people, labels, places, dates, camera and format; run it as Queries."""

from .query import ParsedQuery, Term, Vocabulary, parse

__all__ = ["ParsedQuery", "Term", "Vocabulary", "parse"]
