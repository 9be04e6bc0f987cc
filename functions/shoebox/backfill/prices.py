"""The price table (``functions/shoebox/prices.json``, the only place prices live) the planner reads."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping


@lru_cache(maxsize=4)
def _read_price_file(path: str | None) -> str:
    if path is None:
        return resources.files("shoebox").joinpath("prices.json").read_text(encoding="utf-8")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def load_prices(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The whole price table (a fresh dict each call: callers may modify their copy)."""
    return json.loads(_read_price_file(None if path is None else os.fspath(path)))


def region_prices(prices: Mapping[str, Any] | None, region: str) -> Mapping[str, Any]:
    table = load_prices() if prices is None else prices
    regions = table.get("regions", {})
    if region not in regions:
        raise ValueError(f"no prices for region {region!r} (known: {', '.join(sorted(regions)) or 'none'})")
    return regions[region]
