"""Where sweep trials run: CPU counts, visible GPUs, the one-process-per-GPU cluster (no GPU needed)."""

from __future__ import annotations

import importlib.util
import os

import pytest

distributed = pytest.importorskip("distributed")

from xnn import sweep  # noqa: E402
from xnn.sweep import cluster  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use")


def test_usable_cpus_follows_the_affinity_mask():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cluster.usable_cpus() == expected


@pytest.mark.parametrize("env, gpus", [("0,1", ["0", "1"]), (" 2 ", ["2"]), ("", []), ("-1", []),
                                       ("GPU-8a1b,GPU-77c0", ["GPU-8a1b", "GPU-77c0"])])
def test_visible_gpus_reads_cuda_visible_devices(monkeypatch, env, gpus):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", env)
    assert cluster.visible_gpus() == gpus


def test_gpu_sweeps_say_when_no_gpu_or_too_few_are_visible(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    with pytest.raises(sweep.SweepError, match="device='gpu' but no GPU is visible"):
        cluster.gpu_cluster()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with pytest.raises(sweep.SweepError, match="workers=2 but only 1 GPU"):
        cluster.gpu_cluster(2)


def test_workers_and_a_scheduler_address_exclude_each_other():
    with pytest.raises(sweep.SweepError, match="workers applies to the cluster the sweep starts itself"), \
            cluster.open_client("tcp://127.0.0.1:1", 2, "cpu"):
        pass
    with pytest.raises(sweep.SweepError, match="workers must be an integer >= 1"):
        cluster.local_cluster(0)


@pytest.mark.skipif(importlib.util.find_spec("dask_cuda") is not None, reason="dask-cuda builds its own cluster")
def test_without_dask_cuda_each_gpu_gets_a_worker_process_that_sees_only_it(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with cluster.gpu_cluster() as gpus, distributed.Client(gpus) as client:
        seen = client.run(lambda: (os.environ["CUDA_VISIBLE_DEVICES"], os.environ["OPENBLAS_NUM_THREADS"]))
        threads = client.nthreads()
    assert sorted(seen.values()) == [("0", "1"), ("1", "1")]
    assert list(threads.values()) == [1, 1]
