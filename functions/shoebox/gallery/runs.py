"""One workflow run as the Step Functions console draws it (pure): every state of the state machine's
definition, the ones this run entered marked with their status, duration, retries and error, in the
order of the definition (branches of Parallel and Map states nested under them)."""

from __future__ import annotations

import json


def definition_states(definition: str | dict) -> list[dict]:
    """The states of an ASL definition, depth first from StartAt, then any not reached that way:
    {"name", "type", "next": [names], "depth"}."""
    asl = json.loads(definition) if isinstance(definition, str) else definition
    out: list[dict] = []

    def walk(machine: dict, depth: int) -> None:
        states = machine.get("States") or {}
        order: list[str] = []
        todo = [machine.get("StartAt")]
        while todo:
            name = todo.pop(0)
            if name is None or name in order or name not in states:
                continue
            order.append(name)
            state = states[name]
            todo += _targets(state)
        order += [name for name in states if name not in order]
        for name in order:
            state = states[name]
            out.append({"name": name, "type": state.get("Type"), "next": _targets(state), "depth": depth})
            for branch in state.get("Branches") or []:
                walk(branch, depth + 1)
            inner = state.get("ItemProcessor") or state.get("Iterator")
            if inner:
                walk(inner, depth + 1)

    walk(asl, 0)
    return out


def _targets(state: dict) -> list[str]:
    found = [state.get("Next")] + [choice.get("Next") for choice in state.get("Choices") or []]
    found.append(state.get("Default"))
    found += [catch.get("Next") for catch in state.get("Catch") or []]
    return list(dict.fromkeys(t for t in found if t))


def run_graph(definition: str | dict, visited: list[dict]) -> list[dict]:
    """``definition_states`` with each state's visits (``shoebox.executions.states`` rows): status
    (``not-run`` for a state this run never entered), total duration, retries, error and ``step``, the
    order in which the run first entered it (the path taken)."""
    by_name: dict[str, list[tuple[int, dict]]] = {}
    for step, state in enumerate(visited, start=1):
        by_name.setdefault(state["name"], []).append((step, state))
    nodes = []
    for node in definition_states(definition):
        visits = by_name.get(node["name"], [])
        if not visits:
            nodes.append({**node, "status": "not-run", "duration_ms": None, "retries": 0, "error": None,
                          "step": None, "visits": 0})
            continue
        last = visits[-1][1]
        durations = [v["duration_ms"] for _, v in visits if v["duration_ms"] is not None]
        nodes.append({**node, "status": last["status"], "duration_ms": sum(durations) if durations else None,
                      "retries": sum(v["retries"] for _, v in visits),
                      "error": next((v["error"] for _, v in reversed(visits) if v["error"]), None),
                      "step": visits[0][0], "visits": len(visits)})
    return nodes


def console_url(execution_arn: str) -> str:
    """The execution in the AWS Step Functions console (deployed stacks only)."""
    region = execution_arn.split(":")[3]
    return (f"https://{region}.console.aws.amazon.com/states/home?region={region}"
            f"#/v2/executions/details/{execution_arn}")
