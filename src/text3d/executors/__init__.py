"""Executors: where a batch's items run (this process, or a Ray cluster).

See :mod:`text3d.executors.base` for the protocol; backends register by name."""

from text3d.executors.base import (
    Executor,
    Stage,
    check_executor,
    create_executor,
    executor_names,
    executors,
    using_executor,
)

__all__ = ["Executor", "Stage", "check_executor", "create_executor", "executor_names", "executors", "using_executor"]
