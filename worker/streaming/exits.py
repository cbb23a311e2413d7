"""The two ways the worker ends itself, and their exit codes; both leave offsets uncommitted.

A supervisor (Kubernetes, compose `restart`) starts a new process, which replays from the
committed offsets. `os._exit`, not an exception: faust acknowledges the events of an agent
that raises, and a wedged producer or consumer could hold up an orderly shutdown forever.
"""

from __future__ import annotations

import logging
import os
from typing import NoReturn

log = logging.getLogger(__name__)

EXIT_OUTPUT_FAILED = 70
EXIT_STALLED = 75


def output_failed(exc: BaseException) -> NoReturn:
    """An output was not acknowledged (refused, or not within the send timeout)."""
    log.critical("output not acknowledged (%r): exiting without commit", exc)
    os._exit(EXIT_OUTPUT_FAILED)


def stalled(detail: str) -> NoReturn:
    """The group makes no progress: a new process (and group generation) is the cure."""
    log.critical("stalled (%s): exiting so a new process takes over", detail)
    os._exit(EXIT_STALLED)
