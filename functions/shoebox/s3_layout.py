"""The bucket's layout: the one home of its prefixes. Originals (the user's photos, never modified or
deleted by Shoebox) live under ``originals/``; everything derived from them under ``thumbnails/``, which no
upload rule watches, so writing a thumbnail never re-triggers the pipeline. template.yaml spells the same
prefixes in its event rules and policies (tests/test_template.py checks them)."""

ORIGINALS = "originals/"
THUMBNAILS = "thumbnails/"
PEOPLE_CROPS = THUMBNAILS + "people/"  # a person's cover crop: <PEOPLE_CROPS><person id>.jpg
