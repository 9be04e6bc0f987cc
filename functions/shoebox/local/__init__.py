"""The embedded local runtime: the same template, ASL and handlers on one machine, offline (no Docker,
no AWS account). See ARCHITECTURE.md §6."""

from shoebox.local.runtime import LocalRuntime

__all__ = ["LocalRuntime"]
