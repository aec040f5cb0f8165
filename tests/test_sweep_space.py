"""Sweep spaces, the deterministic trial plan, argument errors and one trial run in-process (no Dask)."""

from __future__ import annotations

import math
import os

import pytest

from xnn import sweep
from xnn.data import load_sample
from xnn.sweep import trial
from xnn.sweep.space import check_space, make_range, trial_plan
from xnn.sweep.trial import run_trial, trial_settings

FC_KEYS = sweep.allowed_keys("fc")


def plan(space, trials, search="random", seed=0):
    return trial_plan(check_space(space, FC_KEYS), trials, search, seed)


def test_parse_range_reads_low_high_scale():
    r = sweep.parse_range("1e-4:1e-2:log", "--lr")
    assert (r.scale, r.low, r.high) == ("log", 1e-4, 1e-2)
    assert sweep.parse_range("50:200:int").scale == "int"
    assert sweep.parse_range("0.1:0.9").scale == "log"  # the default scale


@pytest.mark.parametrize("text, words", [
    ("1e-2:1e-4:log", "low must be smaller than high"),
    ("1e-4:1e-2:cubic", "unknown scale 'cubic'; allowed scales are log, linear, int"),
    ("0:1:log", "a log range needs low > 0"),
    ("1e-4", "expected LOW:HIGH[:SCALE]"),
    ("a:b:log", "LOW and HIGH must be numbers"),
    ("1.5:3:int", "whole-number ends"),
])
def test_bad_range_syntax_names_the_option_and_the_rule(text, words):
    with pytest.raises(sweep.SweepError, match="--lr") as info:
        sweep.parse_range(text, "--lr")
    assert words in str(info.value)


def test_unknown_space_key_lists_the_allowed_ones():
    with pytest.raises(sweep.SweepError, match=r"unknown setting\(s\) 'hidden_dim'.*allowed are .*hidden_dims"):
        check_space({"hidden_dim": [10]}, FC_KEYS)


@pytest.mark.parametrize("space, words", [
    ({}, "non-empty mapping"),
    ({"reg": []}, "list of values is empty"),
    ({"reg": ("log", 1e-3)}, "a range is (scale, low, high)"),
    ({"reg": 0.1}, "expected a list of values or a (scale, low, high) tuple"),
    ({"reg": ("log", float("nan"), 1.0)}, "low must be a finite number"),
])
def test_bad_space_values(space, words):
    with pytest.raises(sweep.SweepError) as info:
        check_space(space, FC_KEYS)
    assert words in str(info.value)


@pytest.mark.parametrize("trials", [0, -3, 2.5, True])
def test_trials_below_one_or_not_an_int(trials):
    with pytest.raises(sweep.SweepError, match="trials must be an integer >= 1"):
        plan({"reg": [0.1]}, trials)


def test_run_rejects_bad_arguments_before_starting_anything(tmp_path):
    with pytest.raises(sweep.SweepError, match="unknown model 'mlp'; allowed models are fc, twolayer, cnn"):
        sweep.run({"reg": [0.1]}, model="mlp", trials=1, epochs=1)
    with pytest.raises(sweep.SweepError, match="Solver argument.*'num_epochs'"):
        sweep.run({"reg": [0.1]}, model="fc", trials=1, epochs=1, num_epochs=3)
    with pytest.raises(sweep.SweepError, match="epochs must be an integer >= 1"):
        sweep.run({"reg": [0.1]}, model="fc", trials=1, epochs=0)
    with pytest.raises(sweep.SweepError, match="device must be one of cpu, gpu"):
        sweep.run({"reg": [0.1]}, model="fc", trials=1, epochs=1, device="tpu")
    with pytest.raises(sweep.SweepError, match="search must be one of random, grid"):
        sweep.run({"reg": [0.1]}, model="fc", trials=1, epochs=1, search="bayes")
    with pytest.raises(sweep.SweepError, match="workers must be an integer >= 1"):
        sweep.run({"reg": [0.1]}, model="fc", trials=1, epochs=1, workers=0, out=tmp_path / "s")
    with pytest.raises(sweep.SweepError, match="workers applies to the cluster the sweep starts itself"):
        sweep.run({"reg": [0.1]}, model="fc", trials=1, epochs=1, workers=2, scheduler="tcp://localhost:1",
                  out=tmp_path / "s")
    assert not list(tmp_path.iterdir())


def test_trial_i_depends_only_on_seed_and_index():
    space = {"learning_rate": ("log", 1e-4, 1e-2), "reg": ("log", 1e-5, 1e-1), "hidden_dims": [[100], [200, 100]]}
    short, long = plan(space, 4), plan(space, 9)
    assert long[:4] == short
    assert plan(dict(reversed(list(space.items()))), 4) == short  # key order does not matter
    assert plan(space, 4, seed=1) != short
    assert len({t["seed"] for t in long}) == 9
    for t in long:
        assert 1e-4 <= t["config"]["learning_rate"] <= 1e-2
        assert t["config"]["hidden_dims"] in ([100], [200, 100])


def test_log_range_is_uniform_in_log_space():
    values = [t["config"]["reg"] for t in plan({"reg": ("log", 1e-6, 1.0)}, 400)]
    below = sum(v < 1e-3 for v in values) / len(values)  # half of the log interval
    assert 0.4 < below < 0.6


def test_grid_cuts_ranges_to_fill_the_trials():
    trials = plan({"learning_rate": ("log", 1e-4, 1e-2), "reg": ("log", 1e-4, 1e-2), "hidden_dims": [[10], [20]]},
                  18, search="grid")
    assert len(trials) == 18  # 2 lists x 3 x 3 range points
    lrs = sorted({t["config"]["learning_rate"] for t in trials})
    assert [math.log10(v) for v in lrs] == pytest.approx([-4, -3, -2])
    assert make_range("n", "int", 10, 20).grid(3) == [10, 15, 20]


def test_settings_start_from_train_defaults_then_fixed_arguments_then_the_config():
    settings = trial_settings({"model": "fc", "epochs": 2, "dtype": "float32", "device": "cpu", "seed": 5,
                               "solver_kwargs": {"optim_config": {"beta1": 0.8, "learning_rate": 0.5},
                                                 "batch_size": 9, "num_train_samples": 50},
                               "config": {"learning_rate": 0.1, "batch_size": 7, "reg": 0.5, "hidden_dims": [3],
                                          "momentum": 0.7}})
    assert (settings["lr"], settings["batch_size"], settings["reg"]) == (0.1, 7, 0.5)
    assert settings["optim_config"] == {"beta1": 0.8, "momentum": 0.7}
    assert settings["model_kwargs"] == {"hidden_dims": [3], "weight_scale": 5e-2, "normalization": "batchnorm"}
    assert settings["solver_kwargs"] == {"on_nonfinite": "stop", "num_train_samples": 50}
    assert (settings["update_rule"], settings["lr_decay"], settings["seed"]) == ("adam", 0.95, 5)


@pytest.fixture(scope="module")
def tiny():
    return sweep.load_data(load_sample(100, 50, 0))


def _task(config, epochs=1, **solver_kwargs):
    return {"trial": 3, "seed": 11, "config": config, "model": "fc", "epochs": epochs, "dtype": "float32",
            "device": "cpu", "solver_kwargs": {"batch_size": 50, **solver_kwargs}}


def test_run_trial_in_process_is_repeatable(tiny):
    first = run_trial(_task({"hidden_dims": [10], "learning_rate": 1e-3}, epochs=2), tiny)
    second = run_trial(_task({"hidden_dims": [10], "learning_rate": 1e-3}, epochs=2), tiny)
    assert first["status"] == "ok" and first["worker"] == "local"
    assert first["loss"]["iterations"] == 4
    for key in ("best_val_acc", "train_acc", "loss", "val_acc_history"):
        assert first[key] == second[key]
    assert set(first["state"]["arrays"]) >= {"param.W1", "param.W2"}
    assert first["state"]["loss_history"][0] == first["loss"]["first"]


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_run_trial_reports_a_diverging_configuration_as_failed(tiny):
    result = run_trial(_task({"hidden_dims": [10], "learning_rate": 1e30, "normalization": None},
                             update_rule="sgd"), tiny)
    assert result["status"] == "failed"
    assert result["error"].startswith("FloatingPointError: Solver: loss is nan")
    assert result["best_val_acc"] is None and result["state"] is None


@pytest.mark.parametrize("threads, inside", [(1, "1"), (None, "3")])
def test_a_trial_runs_xnn_kernels_on_the_asked_thread_count_and_restores_it(monkeypatch, tiny, threads, inside):
    monkeypatch.setenv("XNN_NUM_THREADS", "3")
    seen = []

    def fake_train(task, data):
        seen.append(os.environ.get("XNN_NUM_THREADS"))
        return {}, None
    monkeypatch.setattr(trial, "_train", fake_train)
    assert run_trial(_task({"hidden_dims": [10]}), tiny, threads=threads)["status"] == "ok"
    assert seen == [inside]
    assert os.environ["XNN_NUM_THREADS"] == "3"


@pytest.mark.parametrize("model, key", [("twolayer", "hidden_dim"), ("cnn", "num_filters"), ("fc", "batch_size")])
def test_a_whole_number_setting_needs_an_int_range_before_anything_runs(tmp_path, model, key):
    # a log range would hand every trial a fractional size, and every trial would fail
    with pytest.raises(sweep.SweepError, match=rf"'{key}'.*needs the int scale.*got scale 'log'"):
        sweep.run({key: ("log", 50, 200)}, model=model, trials=2, epochs=1, out=tmp_path / "s")
    assert not list(tmp_path.iterdir())
    tasks = sweep.plan_tasks({key: ("int", 50, 200)}, model=model, trials=3, epochs=1)
    assert all(isinstance(t["config"][key], int) for t in tasks)
