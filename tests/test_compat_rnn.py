"""The assignment-3 course modules through xnn.compat.alias: rnn_layers, classifiers.rnn,
captioning_solver and coco_utils, for every flavor (fresh interpreters, like test_compat.py)."""

from __future__ import annotations

import pytest
from test_compat import _run

from xnn import compat, layers

NOTEBOOK_RNN = """
    import xnn.compat; xnn.compat.alias("{name}", flavor="{flavor}")
    import numpy as np
    from {name}.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
    from {name}.rnn_layers import *
    from {name}.captioning_solver import CaptioningSolver
    from {name}.classifiers.rnn import CaptioningRNN
    from {name}.coco_utils import load_coco_data, sample_coco_minibatch, decode_captions
    import {name}.rnn_layers, {name}.classifiers.rnn, {name}.coco_utils
    import xnn.layers, xnn.models, xnn.captioning_solver, xnn.data
    names = {names!r}
    assert sorted({name}.rnn_layers.__all__) == sorted(names + ["np"]), {name}.rnn_layers.__all__
    assert all(globals()[n] is getattr(xnn.layers, n) for n in names)
    assert CaptioningRNN is xnn.models.CaptioningRNN
    assert {name}.classifiers.rnn.lstm_forward is xnn.layers.lstm_forward   # star import of rnn_layers
    assert issubclass(CaptioningSolver, xnn.captioning_solver.CaptioningSolver)
    assert load_coco_data is xnn.data.load_coco_data and decode_captions is xnn.data.decode_captions
    assert {name}.coco_utils.BASE_DIR.endswith("coco_captioning")
    model = CaptioningRNN(word_to_idx={{"<NULL>": 0, "cat": 2, "dog": 3}}, input_dim=4, wordvec_dim=3,
                          hidden_dim=5, cell_type="lstm")
    data = {{"train_captions": np.array([[1, 2, 0]] * 4), "train_image_idxs": np.arange(4),
            "train_features": np.ones((4, 4), dtype=np.float32), "train_urls": np.array(["u"] * 4)}}
    solver = CaptioningSolver(model, data, update_rule="adam", batch_size=2, num_epochs=1, verbose=False)
    solver.train()
    print(CaptioningSolver.__name__, len(solver.loss_history))
"""


@pytest.mark.parametrize("name, flavor, solver", [("cs231n", "cs231n", "CaptioningSolver"),
                                                  ("deeplearning", "cs182", "CaptioningSolver"),
                                                  ("nndl", "ece147", "ECE147CaptioningSolver")])
def test_rnn_notebook_imports_for_every_flavor(tmp_path, name, flavor, solver):
    code = NOTEBOOK_RNN.format(name=name, flavor=flavor, names=list(layers.RNN_LAYERS_NAMES))
    assert _run(code, tmp_path).strip() == f"{solver} 2"


def test_every_flavor_serves_the_recurrent_modules():
    for flavor in compat.flavors():
        assert {"rnn_layers", "classifiers.rnn", "captioning_solver", "coco_utils"} <= set(compat.modules(flavor))


def test_forced_alias_reads_the_course_coco_folder(tmp_path):
    pytest.importorskip("h5py")
    from coco_toy import toy_data, write_coco_layout
    pkg = tmp_path / "cs231n"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "rnn_layers.py").write_text("COURSE = True\n")   # xnn's module is served; this file fills gaps
    write_coco_layout(pkg / "datasets" / "coco_captioning", toy_data())
    out = _run("""
        import xnn, xnn.compat; xnn.compat.alias("cs231n", force=True)
        import cs231n.rnn_layers
        from cs231n.coco_utils import load_coco_data
        data = load_coco_data(max_train=3)
        served = cs231n.rnn_layers.lstm_forward is xnn.layers.lstm_forward
        print(served, cs231n.rnn_layers.COURSE, data["train_captions"].shape)
    """, tmp_path)
    lines = out.strip().splitlines()
    assert lines[0] == f"base dir  {pkg / 'datasets' / 'coco_captioning'}"
    assert lines[1] == "True True (3, 9)"   # xnn's layers, the course file's extra name
