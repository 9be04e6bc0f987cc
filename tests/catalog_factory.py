"""A catalog seeded with given records: the template's table in moto, written through Catalog.put_photo."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def seeded_catalog(records: list) -> Iterator:
    from moto import mock_aws

    from shoebox import aws
    from shoebox.catalog import Catalog
    from shoebox.local.moto_dynamodb import install
    from shoebox.local.template import load_template

    uninstall = install()  # O(log n) Queries in moto, as the local runtime has them
    try:
        with mock_aws():
            aws.reset_clients()
            spec = load_template().table
            aws.client("dynamodb").create_table(**spec)
            catalog = Catalog(spec["TableName"])
            for record in records:
                catalog.put_photo(record)
            yield catalog
    finally:
        aws.reset_clients()
        uninstall()
