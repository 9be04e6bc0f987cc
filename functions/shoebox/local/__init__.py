"""The embedded local runtime: the same template, ASL and handlers on one machine, offline (no Docker,
no AWS account), served to the CLI by a local service. See docs/local-service.md."""

from typing import Any

__all__ = ["LocalRuntime"]


def __getattr__(name: str) -> Any:
    # lazily: the CLI imports shoebox.local.client without moto (a command's start stays small)
    if name == "LocalRuntime":
        from shoebox.local.runtime import LocalRuntime

        return LocalRuntime
    raise AttributeError(name)
