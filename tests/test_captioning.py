"""COCO utilities on a generated dataset in the course's layout, and CaptioningSolver."""

from __future__ import annotations

import numpy as np
import pytest
from coco_toy import toy_data, write_coco_layout

from xnn.captioning_solver import CaptioningSolver
from xnn.data import coco
from xnn.models import CaptioningRNN

CAPTION_KEYS = ["train_captions", "train_image_idxs", "val_captions", "val_image_idxs"]
KEY_ORDER = CAPTION_KEYS + ["train_features", "val_features", "idx_to_word", "word_to_idx", "train_urls", "val_urls"]


@pytest.fixture
def coco_dir(tmp_path):
    pytest.importorskip("h5py")
    return write_coco_layout(tmp_path / "coco_captioning", toy_data())


# --------------------------------------------------------------------------- load_coco_data
def test_load_coco_data_reads_the_course_layout(coco_dir, capsys):
    data = coco.load_coco_data(coco_dir)
    assert capsys.readouterr().out == f"base dir  {coco_dir}\n"
    assert sorted(data) == sorted(KEY_ORDER)
    assert list(data)[4:] == KEY_ORDER[4:]
    expected = toy_data()
    for key in KEY_ORDER:
        if isinstance(expected[key], np.ndarray):
            np.testing.assert_array_equal(data[key], expected[key])
            assert data[key].dtype.kind == expected[key].dtype.kind
        else:
            assert data[key] == expected[key]
    assert data["train_captions"].dtype == np.int32 and data["train_features"].dtype == np.float32


def test_max_train_draws_once_with_replacement(coco_dir):
    np.random.seed(231)
    data = coco.load_coco_data(coco_dir, max_train=50)
    np.random.seed(231)
    mask = np.random.randint(20, size=50)
    full = toy_data()
    np.testing.assert_array_equal(data["train_captions"], full["train_captions"][mask])
    np.testing.assert_array_equal(data["train_image_idxs"], full["train_image_idxs"][mask])
    assert data["train_features"].shape == (20, 16) and data["val_captions"].shape == (6, 9)


def test_non_pca_features_and_missing_files(tmp_path):
    pytest.importorskip("h5py")
    d = write_coco_layout(tmp_path / "full", toy_data(), pca_features=False)
    assert coco.load_coco_data(d, pca_features=False)["val_features"].shape == (6, 16)
    with pytest.raises(FileNotFoundError, match="train2014_vgg16_fc7_pca.h5 not found"):
        coco.load_coco_data(d)
    (d / "coco2014_captions.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="coco2014_captions.h5 is not a readable HDF5 file"):
        coco.load_coco_data(d, pca_features=False)


def test_inconsistent_files_are_named(tmp_path):
    pytest.importorskip("h5py")
    data = toy_data()
    data["val_urls"] = data["val_urls"][:3]
    d = write_coco_layout(tmp_path / "c", data)
    with pytest.raises(ValueError, match="val2014_urls.txt has 3 lines but val_features has 6 rows"):
        coco.load_coco_data(d)


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    def no_h5py(name):
        raise ImportError(f"No module named {name!r}")
    monkeypatch.setattr(coco.importlib, "import_module", no_h5py)
    with pytest.raises(coco.MissingExtraError, match=r"pip install 'xnn\[coco\]'") as err:
        coco.load_coco_data(tmp_path)
    assert isinstance(err.value, ImportError)


def test_importing_coco_does_not_import_h5py():
    import subprocess
    import sys
    code = "import sys, xnn.data, xnn.captioning_solver; sys.exit(1 if 'h5py' in sys.modules else 0)"
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- decode / minibatch
def test_decode_captions():
    idx_to_word = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "cat"]
    one = np.array([1, 4, 0, 5, 2, 4, 4])
    assert coco.decode_captions(one, idx_to_word) == "<START> a cat <END>"
    batch = np.array([[1, 4, 2, 0], [4, 5, 5, 3]])
    assert coco.decode_captions(batch, idx_to_word) == ["<START> a <END>", "a cat cat <UNK>"]
    as_dict = dict(enumerate(idx_to_word))
    assert coco.decode_captions(batch, as_dict) == coco.decode_captions(batch, idx_to_word)


def test_sample_coco_minibatch_uses_one_choice_draw():
    data = toy_data()
    np.random.seed(7)
    captions, features, urls = coco.sample_coco_minibatch(data, batch_size=5, split="val")
    np.random.seed(7)
    idx = np.random.choice(6, 5)
    rows = data["val_image_idxs"][idx]
    np.testing.assert_array_equal(captions, data["val_captions"][idx])
    np.testing.assert_array_equal(features, data["val_features"][rows])
    np.testing.assert_array_equal(urls, data["val_urls"][rows])


# --------------------------------------------------------------------------- CaptioningSolver
def _model(data, cell="rnn", **kw):
    return CaptioningRNN(data["word_to_idx"], input_dim=data["train_features"].shape[1], wordvec_dim=32,
                         hidden_dim=64, cell_type=cell, **kw)


def test_solver_arguments_follow_the_course():
    data = toy_data()
    model = _model(data)
    with pytest.raises(ValueError, match='Unrecognized arguments "num_train_samples", "foo"'):
        CaptioningSolver(model, data, num_train_samples=3, foo=1)
    with pytest.raises(ValueError, match='Invalid update_rule "nope"'):
        CaptioningSolver(model, data, update_rule="nope")
    with pytest.raises(KeyError, match="CaptioningSolver: data is missing 'train_features'"):
        CaptioningSolver(model, {k: v for k, v in data.items() if k != "train_features"})
    solver = CaptioningSolver(model, data, optim_config={"learning_rate": 1e-3})
    assert solver.update_rule.__name__ == "sgd" and solver.batch_size == 100 and solver.print_every == 10
    assert solver.epoch == 0 and solver.loss_history == [] and solver.best_params == {}
    assert set(solver.optim_configs) == set(model.params)
    assert solver.check_accuracy(None, None) == 0.0


def test_train_prints_iterations_and_decays_the_learning_rate(capsys):
    data = toy_data()
    np.random.seed(0)
    model = _model(data)
    solver = CaptioningSolver(model, data, update_rule="sgd", num_epochs=3, batch_size=8, print_every=2,
                              lr_decay=0.5, optim_config={"learning_rate": 1e-2})
    before = {k: v.copy() for k, v in model.params.items()}
    assert solver.train() is None
    lines = capsys.readouterr().out.splitlines()
    # 20 captions // 8 = 2 iterations per epoch, 6 in all; printed at t = 0, 2, 4.
    assert [line.split(" loss: ")[0] for line in lines] == ["(Iteration 1 / 6)", "(Iteration 3 / 6)",
                                                            "(Iteration 5 / 6)"]
    assert lines[0] == "(Iteration 1 / 6) loss: %f" % solver.loss_history[0]
    assert len(solver.loss_history) == 6 and solver.epoch == 3
    assert all(c["learning_rate"] == pytest.approx(1e-2 * 0.5 ** 3) for c in solver.optim_configs.values())
    assert not all(np.array_equal(model.params[k], before[k]) for k in before)   # last params kept


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_overfits_a_small_captioning_set(cell):
    data = toy_data()
    np.random.seed(231)
    model = _model(data, cell)
    solver = CaptioningSolver(model, data, update_rule="adam", num_epochs=150, batch_size=20,
                              optim_config={"learning_rate": 1e-2}, lr_decay=0.99, verbose=False)
    solver.train()
    assert solver.loss_history[0] > 10 and solver.loss_history[-1] < 0.1
    train = coco.decode_captions(model.sample(data["train_features"], max_length=8), data["idx_to_word"])
    truth = coco.decode_captions(data["train_captions"], data["idx_to_word"])
    order = np.argsort(data["train_image_idxs"])   # caption i describes image train_image_idxs[i]
    matched = sum(train[data["train_image_idxs"][i]] == truth[i].replace("<START> ", "") for i in order)
    assert matched >= 18


def test_checkpoint_and_resume_follow_the_same_curve(tmp_path):
    data = toy_data()
    np.random.seed(1)
    model = _model(data)
    base = {"update_rule": "adam", "num_epochs": 4, "batch_size": 10, "verbose": False,
            "optim_config": {"learning_rate": 5e-3}}
    full = CaptioningSolver(model, data, checkpoint_name=str(tmp_path / "cap"), **base)
    start = {k: v.copy() for k, v in model.params.items()}
    state = np.random.get_state()
    full.train()
    np.random.set_state(state)
    model2 = _model(data)
    model2.params = {k: v.copy() for k, v in start.items()}
    resumed = CaptioningSolver(model2, data, **base)
    resumed.resume(tmp_path / "cap_epoch_2.npz")
    assert resumed.epoch == 2 and len(resumed.loss_history) == 4
    resumed.train()
    np.testing.assert_array_equal(resumed.loss_history, full.loss_history)
