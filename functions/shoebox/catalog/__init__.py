"""The photo catalog (DynamoDB, one table)."""

from shoebox.catalog.store import Catalog

__all__ = ["Catalog"]
