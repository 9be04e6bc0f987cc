"""Backfill: feed the objects already under ``originals/`` through the per-photo steps.

``plan`` estimates time and AWS cost before a run (pure; see docs/backfill.md).
"""

from shoebox.backfill.measure import measure_bucket
from shoebox.backfill.plan import Plan, plan
from shoebox.backfill.prices import load_prices

__all__ = ["Plan", "load_prices", "measure_bucket", "plan"]
