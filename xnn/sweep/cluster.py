"""Where trials run: a Dask client on a local cluster, on every GPU of this machine, or on a running scheduler.

* CPU (default): a ``LocalCluster`` of worker processes, one thread each, as many as the CPUs this
  process may use, with BLAS/OpenMP and xnn's kernels limited to one thread per worker (so N trials use N cores, not
  N times all of them).
* GPU: one worker process per visible GPU, each seeing only its own device through
  ``CUDA_VISIBLE_DEVICES`` (dask-cuda's ``LocalCUDACluster`` when it is installed).
* ``scheduler="tcp://HOST:8786"``: connect to a scheduler started with ``dask scheduler`` whose
  workers (``dask worker tcp://HOST:8786 --nthreads 1``) may be on other machines (the README shows
  the Dask setting that keeps their allocator as fast as the local cluster's).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator
from typing import Any

from .space import SweepError

__all__ = [
    "BLAS_ENV",
    "DEVICES",
    "check_placement",
    "dashboard_line",
    "gpu_cluster",
    "local_cluster",
    "open_client",
    "per_gpu_cluster",
    "usable_cpus",
    "visible_gpus",
]

logger = logging.getLogger("xnn.sweep")

DEVICES = ("cpu", "gpu")
# Set in each worker process before NumPy loads its BLAS, which reads them once at start; xnn's
# CPU kernels read XNN_NUM_THREADS for their own thread pool.
BLAS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1", "XNN_NUM_THREADS": "1"}
# Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536 (to hand freed memory back to the
# OS quickly). Setting it turns off glibc's adaptive mmap threshold, so every NumPy temporary over
# 128 KiB becomes an mmap/munmap pair with fresh page faults: a training trial ran 1.6x slower in
# such a worker than in a plain process. The sweep's own clusters leave the variable unset.
MALLOC_TRIM_CONFIG = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def visible_gpus() -> list[str]:
    """The GPU ids a process may use: ``CUDA_VISIBLE_DEVICES`` when set, else every device CuPy sees."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        ids = [d.strip() for d in env.split(",") if d.strip()]
        return [] if not ids or ids[0].startswith("-") else ids  # "-1" hides every GPU
    try:
        import cupy
        return [str(i) for i in range(cupy.cuda.runtime.getDeviceCount())]
    except Exception:  # no CuPy, or a CuPy without a usable driver
        return []


def _check_workers(workers: Any) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SweepError(f"sweep: workers must be an integer >= 1 or None (one per CPU/GPU), got {workers!r}")
    return workers


def check_placement(scheduler: str | None, workers: Any) -> None:
    """:class:`SweepError` for a bad ``workers`` count or ``workers`` given with a ``scheduler`` address."""
    _check_workers(workers)
    if scheduler is not None and workers is not None:
        raise SweepError("sweep: workers applies to the cluster the sweep starts itself; with a scheduler "
                         "address the workers are the ones started with `dask worker`")


@contextlib.contextmanager
def _default_allocator() -> Iterator[None]:
    """Nannies created inside spawn their workers without ``MALLOC_TRIM_THRESHOLD_`` (see above)."""
    import dask
    with dask.config.set({MALLOC_TRIM_CONFIG: None}):  # None: Dask sets no value (one already in os.environ stays)
        yield


def local_cluster(workers: int | None = None) -> Any:
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes (default: one per usable CPU)."""
    from distributed import LocalCluster
    n = _check_workers(workers) or usable_cpus()
    logger.info("sweep: starting a local Dask cluster of %d worker process(es), one thread each", n)
    with _default_allocator():
        return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, env=dict(BLAS_ENV))


def per_gpu_cluster(gpus: list[str]) -> Any:
    """One single-threaded worker process per id in ``gpus``, each with ``CUDA_VISIBLE_DEVICES`` set to it."""
    from distributed import Nanny, Scheduler, SpecCluster
    workers = {f"gpu-{gpu}": {"cls": Nanny, "options": {"nthreads": 1,
                                                         "env": {**BLAS_ENV, "CUDA_VISIBLE_DEVICES": gpu}}}
               for gpu in gpus}
    with _default_allocator():
        return SpecCluster(scheduler={"cls": Scheduler, "options": {"dashboard_address": ":8787"}}, workers=workers)


def gpu_cluster(workers: int | None = None) -> Any:
    """One worker per visible GPU (the first ``workers`` of them when given)."""
    gpus = visible_gpus()
    if not gpus:
        raise SweepError("sweep: device='gpu' but no GPU is visible (CUDA_VISIBLE_DEVICES="
                         f"{os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')}, and CuPy sees none)")
    n = _check_workers(workers) or len(gpus)
    if n > len(gpus):
        raise SweepError(f"sweep: workers={n} but only {len(gpus)} GPU(s) are visible ({', '.join(gpus)}); "
                         "a GPU worker runs one trial at a time on its own GPU")
    gpus = gpus[:n]
    logger.info("sweep: starting one Dask worker per GPU (%s)", ", ".join(gpus))
    if importlib.util.find_spec("dask_cuda") is not None:
        from dask_cuda import LocalCUDACluster
        with _default_allocator():
            return LocalCUDACluster(CUDA_VISIBLE_DEVICES=",".join(gpus), threads_per_worker=1)
    return per_gpu_cluster(gpus)


def dashboard_line(client: Any, local: bool) -> str | None:
    """``"Dask dashboard: URL"`` when the scheduler serves one, else None."""
    if "dashboard" not in (client.scheduler_info().get("services") or {}):
        return None
    line = f"Dask dashboard: {client.dashboard_link}"
    if local and importlib.util.find_spec("bokeh") is None:
        line += " (its plots need bokeh: pip install bokeh)"
    return line


@contextlib.contextmanager
def open_client(scheduler: str | None, workers: int | None, device: str) -> Iterator[Any]:
    """A Dask client for the sweep; a cluster it started is shut down on exit."""
    try:
        from distributed import Client
    except ImportError as err:
        raise ImportError("xnn.sweep runs on dask.distributed: pip install 'xnn[distributed]'") from err
    check_placement(scheduler, workers)
    cluster = None if scheduler is not None else gpu_cluster(workers) if device == "gpu" else local_cluster(workers)
    try:
        client = Client(scheduler if cluster is None else cluster, timeout="30s")
        try:
            if cluster is not None:  # workers someone else started keep their own signal handling
                from .worker_plugin import IgnoreInterrupts
                client.register_plugin(IgnoreInterrupts())
            line = dashboard_line(client, local=cluster is not None)
            if line:
                logger.info("sweep: %s", line)
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
