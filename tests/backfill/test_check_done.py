"""Pure parts of the backfill: the skip rule, listing entries, prefixes."""

from __future__ import annotations

import pytest

from shoebox import PIPELINE_VERSION
from shoebox.backfill.run import BackfillError, normalise_prefix
from shoebox.steps.check_done import decide, listed_object

V = PIPELINE_VERSION


@pytest.mark.parametrize("row, retry, done, reason", [
    ((None, None, None), False, False, "not in the catalog"),
    (("processed", "abc", V), False, True, "already processed"),
    (("processed", "other", V), False, False, "changed since it was processed"),
    (("processed", "abc", V - 1), False, False, f"processed by pipeline version {V - 1}, now {V}"),
    (("failed", "abc", V), False, True, "already failed"),
    (("failed", "abc", V), True, False, "failed before; retrying"),
    (("skipped", '"abc"', V), False, True, "already skipped"),
])
def test_decide(row, retry, done, reason):
    assert decide("originals/a.jpg", '"abc"', row, retry) == (done, reason)


@pytest.mark.parametrize("failure, done", [
    ("RecognitionThrottled: DetectLabels ThrottlingException: Rate exceeded", False),
    ("Lambda.TooManyRequestsException: Rate Exceeded.", False),
    ("ImageError: cannot identify image file", True),
    (None, True),
])
def test_a_photo_failed_on_a_throttle_is_run_again_by_the_next_backfill(failure, done):
    assert decide("originals/a.jpg", "abc", ("failed", "abc", V), False, failure)[0] is done


def test_folder_markers_are_skipped():
    assert decide("originals/2007/", "x", (None, None, None)) == (True, "folder marker")


def test_listed_object_reads_aws_and_moto_field_names():
    aws = {"Key": "originals/a.jpg", "Size": 10, "Etag": '"e1"', "StorageClass": "STANDARD", "LastModified": 1}
    moto = {"Key": "originals/a.jpg", "Size": 10, "ETag": '"e1"', "StorageClass": "STANDARD"}
    expected = {"key": "originals/a.jpg", "size": 10, "etag": "e1", "storage_class": "STANDARD"}
    assert listed_object(aws) == listed_object(moto) == expected
    assert listed_object(expected) == expected  # idempotent


@pytest.mark.parametrize("given, expected", [
    (None, "originals/"), ("", "originals/"), ("originals", "originals/"), ("2007/", "originals/2007/"),
    ("originals/2007/", "originals/2007/"), ("/2007/05/", "originals/2007/05/"),
])
def test_normalise_prefix(given, expected):
    assert normalise_prefix(given) == expected


@pytest.mark.parametrize("bad", ["thumbnails/", "backfill/x"])
def test_prefix_outside_originals_is_refused(bad):
    with pytest.raises(BackfillError):
        normalise_prefix(bad)


def _covered(prefixes, keys):
    return sorted(k for k in keys for p in prefixes if k.startswith(p))


