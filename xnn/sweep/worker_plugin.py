"""The Dask worker plugin of the sweep's own clusters (imported only where ``distributed`` is installed)."""

from __future__ import annotations

import logging
import signal
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["IgnoreInterrupts"]

logger = logging.getLogger("xnn.sweep")


class IgnoreInterrupts(WorkerPlugin):
    """The worker process ignores SIGINT.

    A Ctrl-C in a terminal reaches every process of the foreground group, the worker processes of a
    local cluster included. Only the driver should act on it (cancel, record, shut the cluster
    down); workers dying of it would print tracebacks and lose the trials they were running first.
    Registered plugins also reach workers that join later, such as one restarted by its nanny.
    """

    name = "xnn-sweep-ignore-sigint"

    def setup(self, worker: Any) -> None:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # this worker's event loop is not in its main thread (an in-process worker)
            logger.debug("sweep: worker %s keeps its SIGINT handler (not its main thread)", worker.address)
