"""What every step handler shares: Powertools logger/tracer/metrics and the handler decorator."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from shoebox.s3_layout import ORIGINALS, THUMBNAILS

# Logs go to stderr: in Lambda both streams reach CloudWatch; locally stdout stays clean for --json.
logger = Logger(service="shoebox", stream=sys.stderr)
tracer = Tracer(service="shoebox")
metrics = Metrics(namespace="Shoebox", service="shoebox")

Handler = Callable[[dict, Any], dict]


def step(name: str) -> Callable[[Handler], Handler]:
    """Wrap a step handler with Powertools context, tracing and a per-step invocation metric."""

    def decorate(fn: Handler) -> Handler:
        @functools.wraps(fn)
        def body(event: dict, context: Any) -> dict:
            # thread-local keys: the local runtime runs several photos' handlers at once on threads
            logger.thread_safe_clear_keys()
            logger.thread_safe_append_keys(step=name, photo=event.get("key"))
            if not is_metrics_disabled():
                metrics.add_metric(name=f"{name}.invocations", unit=MetricUnit.Count, value=1)
            return fn(event, context)

        traced = tracer.capture_lambda_handler(capture_response=False)(
            logger.inject_lambda_context(log_event=False)(body))
        with_metrics = metrics.log_metrics(raise_on_empty_metrics=False)(traced)

        @functools.wraps(fn)
        def handler(event: dict, context: Any) -> dict:
            # The local runtime turns metrics off: then nothing is collected (Powertools would otherwise keep
            # adding to one shared, never-flushed set across threads) and nothing reaches stdout.
            return traced(event, context) if is_metrics_disabled() else with_metrics(event, context)

        return handler

    return decorate


def thumbnail_keys(original_key: str) -> tuple[str, str]:
    """originals/2006/10/04/IMG.NEF -> (thumbnails/2006/10/04/IMG.NEF.jpg, …/IMG.NEF.sm.jpg)."""
    rest = original_key[len(ORIGINALS) :] if original_key.startswith(ORIGINALS) else original_key
    return f"{THUMBNAILS}{rest}.jpg", f"{THUMBNAILS}{rest}.sm.jpg"
