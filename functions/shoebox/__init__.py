"""Shoebox: a serverless photo archive that also runs offline on one machine."""

__version__ = "0.1.0"

# Bumped whenever a step's output changes meaningfully, so a later version can reprocess selectively.
PIPELINE_VERSION = 1
