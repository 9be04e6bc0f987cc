"""The one load-time rewrite of our committed ASL for moto 5.2.5's Step Functions interpreter.

The committed files in statemachine/ are what AWS runs. moto's ASL parser rejects two things in them:
* ``"ExecutionType": "EXPRESS"`` in a Distributed Map's ``ProcessorConfig`` (it accepts only STANDARD).
  Locally a child is a job on an interpreter thread either way, so STANDARD changes nothing we observe.
* an integer ``ToleratedFailurePercentage`` (it accepts ``5.0``). Our backfill uses
  ``ToleratedFailurePercentagePath``, which moto converts itself; a literal is made a float for safety.

Nothing else is changed. tests/backfill/test_asl.py checks the rewrite and that moto accepts the result.
"""

from __future__ import annotations

import copy
from typing import Any


def for_moto(definition: dict) -> dict:
    """A copy of ``definition`` that moto 5.2.5 accepts (see the module docstring); the input is untouched."""
    out = copy.deepcopy(definition)

    def walk(states: dict[str, Any]) -> None:
        for state in states.values():
            processor = state.get("ItemProcessor")
            if processor:
                config = processor.get("ProcessorConfig") or {}
                if config.get("ExecutionType") == "EXPRESS":
                    config["ExecutionType"] = "STANDARD"
                walk(processor.get("States") or {})
            if isinstance(state.get("ToleratedFailurePercentage"), int):
                state["ToleratedFailurePercentage"] = float(state["ToleratedFailurePercentage"])
            for sub in (state.get("Iterator"), *state.get("Branches", ())):
                if sub:
                    walk(sub.get("States") or {})

    walk(out.get("States") or {})
    return out
