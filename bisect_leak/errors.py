"""Exit codes and the two kinds of failure the CLI maps onto them."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The CLI's exit codes (a contract: scripts and CI rely on them)."""

    ANSWER = 0  # last good / first bad found; with --check, every version got a verdict
    NO_ANSWER = 1  # bounds contradict, or unknowns leave no answer
    BAD_INPUT = 2
    INFRASTRUCTURE = 3  # env build, interpreter, server start, index unreachable
    INTERRUPTED = 130


class BadInput(Exception):
    """The user asked for something that cannot be: one line saying what and what to do."""


class InfrastructureError(Exception):
    """The machine, the index or a tool failed: never a verdict about the package."""
