"""The sweep directory's files without a cluster: results log, CSV order, plot, reopening a directory."""

from __future__ import annotations

import json

import pytest

from xnn import sweep
from xnn.sweep.plot import plot_sweep, scatter_axes
from xnn.sweep.results import ResultsLog, open_sweep_dir, sort_results, write_csv


def result(trial, acc, status="ok", **config):
    return {"trial": trial, "seed": trial, "config": config or {"learning_rate": 10.0 ** -trial, "reg": 0.1 * trial},
            "status": status, "error": None if status == "ok" else "ValueError: bad", "best_val_acc": acc,
            "final_val_acc": acc, "train_acc": acc, "seconds": 1.0, "worker": "w"}


def test_results_are_ranked_best_first_failures_last_ties_by_trial():
    ranked = sort_results([result(0, 0.2), result(1, None, "failed"), result(2, 0.3), result(3, 0.2)])
    assert [r["trial"] for r in ranked] == [2, 0, 3, 1]


def test_csv_has_rank_metrics_and_one_column_per_setting(tmp_path):
    path = tmp_path / "results.csv"
    write_csv([result(0, 0.2), result(1, None, "failed", hidden_dims=[5, 5]), result(2, 0.4)], path)
    rows = path.read_text().splitlines()
    assert rows[0] == ("rank,trial,status,best_val_acc,final_val_acc,train_acc,seconds,seed,worker,error,"
                       "hidden_dims,learning_rate,reg")
    assert rows[1].startswith("1,2,ok,0.4,")
    assert rows[3].startswith("3,1,failed,,,,1.0,1,w,ValueError: bad,") and rows[3].endswith('"[5, 5]",,')


def test_results_log_appends_lines_and_drops_a_torn_tail(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    log.append(result(0, 0.2))
    with open(log.path, "a") as f:
        f.write('{"trial": 1, "st')
    assert [r["trial"] for r in log.read()] == [0]
    log.append(result(1, 0.3))
    assert [r["trial"] for r in log.read()] == [0, 1]
    log.path.write_text(log.path.read_text() + "garbage\n")
    with pytest.raises(sweep.SweepError, match="line 3 is not a JSON result"):
        log.read()


def test_a_directory_is_reopened_only_for_the_same_sweep(tmp_path):
    definition = {"model": "fc", "space": {"reg": {"range": ["log", 1e-5, 0.1]}}, "trials": 4}
    out, _ = open_sweep_dir(tmp_path / "s", definition)
    assert json.loads((out / "sweep.json").read_text()) == definition
    open_sweep_dir(out, dict(definition))
    with pytest.raises(sweep.SweepError, match="differs in space, trials"):
        open_sweep_dir(out, {**definition, "trials": 5, "space": {}})
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "results.jsonl").write_text("")
    with pytest.raises(sweep.SweepError, match="has results.jsonl but no sweep.json"):
        open_sweep_dir(tmp_path / "t", definition)


def test_scatter_prefers_learning_rate_and_reg():
    assert scatter_axes([result(0, 0.2, reg=1.0, hidden_dim=5, learning_rate=0.1)]) == ["learning_rate", "reg"]
    assert scatter_axes([result(0, 0.2, hidden_dims=[5], momentum=0.9)]) == ["momentum"]


@pytest.mark.parametrize("results", [
    [result(0, 0.2), result(1, 0.3), result(2, None, "failed")],
    [result(0, 0.2, hidden_dims=[5]), result(1, 0.1, hidden_dims=[6])],  # nothing numeric to scatter
    [result(0, None, "failed")],
])
def test_sweep_png_is_written_for_any_mix_of_results(tmp_path, results):
    plot_sweep(results, tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.png"]
