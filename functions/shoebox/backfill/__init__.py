"""Backfill: feed the objects already under ``originals/`` through the per-photo steps.

``plan`` estimates time and AWS cost before a run (pure; see docs/backfill.md).
"""

from shoebox.backfill.plan import Plan, load_prices, measure_bucket, plan

__all__ = ["Plan", "load_prices", "measure_bucket", "plan"]
