"""Sweeps on a real Dask cluster of worker processes: determinism, faults, resume, the sweep directory.

One 2-worker ``LocalCluster`` (built by the sweep's own ``local_cluster``) serves the module; the
sweeps connect to it through ``scheduler=`` as they would to a remote one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from xnn import sweep  # noqa: E402
from xnn.data import load_sample  # noqa: E402
from xnn.models import FullyConnectedNet  # noqa: E402
from xnn.sweep.cluster import local_cluster  # noqa: E402
from xnn.sweep.trial import run_trial  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore:Port 8787 is already in use")

SPACE = {"learning_rate": ("log", 1e-4, 1e-2), "reg": ("log", 1e-5, 1e-1), "hidden_dims": [[10], [20]]}
VARYING = ("seconds", "worker")  # the only fields allowed to differ between two runs of a trial


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as c:
        yield c


@pytest.fixture(scope="module")
def address(cluster):
    return cluster.scheduler_address


@pytest.fixture(scope="module")
def tiny():
    return sweep.load_data(load_sample(200, 100, 0))


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def comparable(results):
    return sorted(({k: v for k, v in r.items() if k not in VARYING} for r in results), key=lambda r: r["trial"])


def test_workers_are_single_threaded_processes_with_one_blas_and_kernel_thread(address):
    with distributed.Client(address) as client:
        assert sorted(client.nthreads().values()) == [1, 1]
        env = client.run(lambda: (os.getpid(), os.environ.get("OPENBLAS_NUM_THREADS"),
                                  os.environ.get("OMP_NUM_THREADS"), os.environ.get("XNN_NUM_THREADS")))
    assert len({pid for pid, *_ in env.values()} | {os.getpid()}) == 3
    assert {tuple(threads) for _, *threads in env.values()} == {("1", "1", "1")}


@pytest.mark.skipif("MALLOC_TRIM_THRESHOLD_" in os.environ, reason="set for this process, so inherited by design")
def test_workers_keep_the_default_allocator_settings(address):
    # Dask's nanny default MALLOC_TRIM_THRESHOLD_=65536 made each trial 1.6x slower (mmap per temporary)
    with distributed.Client(address) as client:
        env = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert set(env.values()) == {None}


def test_one_worker_and_two_workers_give_identical_trials(address, tiny):
    one = sweep.run(SPACE, model="fc", data=tiny, trials=4, epochs=2, workers=1, batch_size=50)
    two = sweep.run(SPACE, model="fc", data=tiny, trials=4, epochs=2, scheduler=address, batch_size=50)
    assert comparable(one) == comparable(two)
    assert len({r["worker"] for r in one}) == 1
    assert len({r["worker"] for r in two}) == 2
    assert all(r["status"] == "ok" for r in two)
    assert [r["best_val_acc"] for r in two] == sorted((r["best_val_acc"] for r in two), reverse=True)


def test_failing_trials_are_recorded_with_their_message_and_the_files_are_written(address, tiny, tmp_path):
    space = {"hidden_dims": [[10], [0]], "learning_rate": [1e-3, 1e30], "normalization": [None]}
    results = sweep.run(space, model="fc", data=tiny, trials=4, epochs=2, search="grid", scheduler=address,
                        out=tmp_path, update_rule="sgd", batch_size=50)
    assert [r["status"] for r in results] == ["ok", "failed", "failed", "failed"]
    assert results[0]["config"] == {"hidden_dims": [10], "learning_rate": 1e-3, "normalization": None}
    errors = sorted(r["error"].split(":")[0] for r in results[1:])
    assert errors == ["FloatingPointError", "ValueError", "ValueError"]
    recorded = lines(tmp_path / "results.jsonl")
    assert sorted(r["trial"] for r in recorded) == [0, 1, 2, 3]
    assert comparable(recorded) == comparable(results)
    rows = (tmp_path / "results.csv").read_text().splitlines()
    assert rows[0].startswith("rank,trial,status,best_val_acc")
    assert rows[0].endswith("hidden_dims,learning_rate,normalization")
    assert rows[1].startswith(f"1,{results[0]['trial']},ok,")
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    best = json.loads((tmp_path / "best" / "config.json").read_text())
    assert best["sweep_trial"] == results[0]["trial"] and best["seed"] == results[0]["seed"]
    assert (best["model"], best["lr"], best["update_rule"]) == ("fc", 1e-3, "sgd")
    assert best["model_kwargs"]["hidden_dims"] == [10]
    history = json.loads((tmp_path / "best" / "history.json").read_text())
    assert history["best_val_acc"] == results[0]["best_val_acc"] and len(history["loss_history"]) == 8
    assert (tmp_path / "best" / "history.png").exists()
    net = FullyConnectedNet([10], normalization=None)
    assert net.load(tmp_path / "best" / "model.npz")


def test_resume_runs_only_the_missing_trials(address, tiny, tmp_path, caplog):
    kwargs = {"model": "fc", "data": tiny, "trials": 4, "epochs": 2, "scheduler": address, "out": tmp_path,
              "batch_size": 50}
    sweep.run(SPACE, **kwargs)
    log = tmp_path / "results.jsonl"
    kept = log.read_text().splitlines(keepends=True)[:2]
    log.write_text("".join(kept) + '{"trial": 3, "sta')  # as if the driver died while writing a line
    caplog.set_level("INFO", logger="xnn.sweep")
    again = sweep.run(SPACE, **kwargs)
    assert "2 of 4 trials already recorded" in caplog.text
    assert "unfinished line" in caplog.text
    text = log.read_text()
    assert text.startswith("".join(kept))
    assert sorted(r["trial"] for r in lines(log)) == [0, 1, 2, 3]
    assert len(again) == 4
    with pytest.raises(sweep.SweepError, match="holds a different sweep.*differs in epochs"):
        sweep.run(SPACE, **{**kwargs, "epochs": 3})


def _busy_worker(client, timeout=30.0):
    """The address of a worker running a sweep trial (waits until one does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if any(str(k).startswith("xnn-trial-") for k in keys):
                return worker
        time.sleep(0.05)
    raise AssertionError("no worker started a trial")


def test_a_worker_killed_mid_trial_reruns_it_elsewhere_and_records_it_once(address, tiny, tmp_path):
    kwargs = {"model": "fc", "data": tiny, "trials": 2, "epochs": 250, "scheduler": address, "out": tmp_path,
              "batch_size": 50}
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("results", sweep.run({"hidden_dims": [[10]]}, **kwargs)))
    thread.start()
    with distributed.Client(address) as watcher:
        victim = _busy_worker(watcher)
        time.sleep(0.3)
        pid = watcher.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
    thread.join(timeout=120)
    assert not thread.is_alive()
    recorded = lines(tmp_path / "results.jsonl")
    assert sorted(r["trial"] for r in recorded) == [0, 1]
    assert all(r["status"] == "ok" and r["worker"] != victim for r in recorded)
    rerun = next(r for r in box["results"] if r["trial"] == 0)
    alone = run_trial({"trial": 0, "seed": rerun["seed"], "config": rerun["config"], "model": "fc", "epochs": 250,
                       "dtype": "float32", "device": "cpu", "solver_kwargs": {"batch_size": 50}}, tiny)
    assert alone["loss"] == rerun["loss"] and alone["best_val_acc"] == rerun["best_val_acc"]


SCRIPT = """
    import signal
    import sys
    from xnn import sweep
    from xnn.data import load_sample

    if __name__ == "__main__":
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if started in the background
        sweep.run({"hidden_dims": [[10]]}, model="fc", data=sweep.load_data(load_sample(200, 100, 0)), trials=4,
                  epochs=80, workers=2, out=sys.argv[1], batch_size=50)
"""


def test_ctrl_c_leaves_results_jsonl_consistent_and_resume_completes(address, tiny, tmp_path):
    script = tmp_path / "sweep_script.py"
    script.write_text(textwrap.dedent(SCRIPT))
    out = tmp_path / "out"
    # Its own process group, like a terminal's foreground job: Ctrl-C reaches the driver and its
    # local cluster's worker processes alike.
    proc = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    log = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while not (log.exists() and log.read_text().count("\n") >= 1):
        assert proc.poll() is None and time.monotonic() < deadline, "the sweep never recorded a first trial"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0, f"the sweep ran to its end despite Ctrl-C:\n{stderr[-4000:]}"
    assert "KeyboardInterrupt" in stderr
    assert "Dask Worker process" not in stderr  # the workers ignored it; the driver shut them down
    text = log.read_text()
    assert text.endswith("\n")
    done = [r["trial"] for r in lines(log)]
    assert 1 <= len(done) < 4 and len(set(done)) == len(done)
    results = sweep.run({"hidden_dims": [[10]]}, model="fc", data=tiny, trials=4, epochs=80, scheduler=address,
                        out=out, batch_size=50)
    assert sorted(r["trial"] for r in lines(log)) == list(range(4))
    assert log.read_text().startswith(text)
    assert np.isfinite([r["best_val_acc"] for r in results]).all()
