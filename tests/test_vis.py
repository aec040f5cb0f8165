"""xnn.vis: image grids (cs231n vis_utils semantics) and plots returned as Figures (saved on request)."""

from __future__ import annotations

import numpy as np
import pytest

from xnn import vis

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_shape(path):
    import matplotlib.image as mpimg
    assert path.read_bytes()[:8] == PNG_MAGIC
    return mpimg.imread(path).shape


def test_visualize_grid_layout(rng):
    X = rng.standard_normal((5, 4, 3, 2))
    G = vis.visualize_grid(X, ubound=255.0, padding=2)
    assert G.shape == (4 * 3 + 2 * 2, 3 * 3 + 2 * 2, 2) and G.dtype == np.float64  # g = 3
    # image 4 sits in row 1, column 1; scaled on its own to [0, 255]
    tile = G[6:10, 5:8]
    expect = 255 * (X[4] - X[4].min()) / (X[4].max() - X[4].min())
    np.testing.assert_allclose(tile, expect)
    assert tile.min() == 0 and tile.max() == 255
    # gaps and unused cells are zero
    assert np.all(G[4:6] == 0) and np.all(G[:, 3:5] == 0) and np.all(G[12:, 5:] == 0)


def test_visualize_grid_constant_image_is_zero():
    X = np.ones((2, 3, 3, 1))
    X[1] = np.arange(9).reshape(3, 3, 1)
    G = vis.visualize_grid(X, ubound=1.0, padding=0)
    assert np.all(np.isfinite(G)) and np.all(G[:3, :3] == 0)
    assert G[0:3, 3:6].max() == 1.0 and G.shape == (6, 6, 1)


def test_visualize_grid_accepts_array_api_arrays(xp, rng):
    X = rng.standard_normal((4, 2, 2, 3))
    np.testing.assert_allclose(vis.visualize_grid(xp.asarray(X)), vis.visualize_grid(X))


def test_visualize_grid_bad_rank():
    with pytest.raises(ValueError, match=r"visualize_grid: Xs must be 4-D.*\(3, 4\)"):
        vis.visualize_grid(np.zeros((3, 4)))


def test_vis_grid(rng):
    X = rng.standard_normal((3, 2, 2, 1))
    G = vis.vis_grid(X)
    assert G.shape == (2 * 3, 2 * 3, 1)
    assert G.min() == 0 and G.max() == 1
    lo, hi = X.min(), X.max()
    np.testing.assert_allclose(G[3:5, 0:2], (X[2] - lo) / (hi - lo))
    assert np.all(G[2, :] == 0) and np.all(G[3:, 3:] == 0)  # gap rows and the unused cell hold the min
    assert np.all(vis.vis_grid(np.zeros((2, 2, 2, 3))) == 0)


def test_vis_nn(rng):
    rows = [[rng.standard_normal((2, 3, 1)) for _ in range(4)] for _ in range(2)]
    G = vis.vis_nn(rows)
    assert G.shape == (2 * 3, 4 * 4, 1)
    allv = np.concatenate([im.ravel() for row in rows for im in row] + [np.ones(1)])
    lo, hi = allv.min(), allv.max()
    np.testing.assert_allclose(G[3:5, 4:7], (rows[1][1] - lo) / (hi - lo))
    np.testing.assert_allclose(G[2, :], (1 - lo) / (hi - lo))


HIST = {"loss_history": [2.3, 2.1, 1.9, 1.7], "train_acc_history": [0.1, 0.3], "val_acc_history": [0.1, 0.25]}


def _titles(fig):
    return [ax.get_title() for ax in fig.axes]


def test_plot_history_returns_a_figure_and_saves_only_when_asked(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    monkeypatch.chdir(tmp_path)
    fig = vis.plot_history(HIST)
    assert isinstance(fig, Figure) and _titles(fig) == ["Training loss", "Classification accuracy"]
    loss_line, = fig.axes[0].get_lines()
    np.testing.assert_array_equal(loss_line.get_ydata(), HIST["loss_history"])
    assert [line.get_label() for line in fig.axes[1].get_lines()] == ["train", "val"]
    assert list(tmp_path.iterdir()) == []  # nothing written without a path
    path = tmp_path / "h.png"
    assert isinstance(vis.plot_history(HIST, path), Figure)
    assert _png_shape(path) == (400, 1100, 4)

    class FakeSolver:
        loss_history, train_acc_history, val_acc_history = [1.0], [0.5], [0.4]
    fig = vis.plot_history(FakeSolver())
    assert fig.axes[1].get_lines()[1].get_ydata().tolist() == [0.4]


def test_plot_history_into_given_axes():
    from matplotlib.figure import Figure
    mine = Figure()
    axes = mine.subplots(1, 3)
    assert vis.plot_history(HIST, axes=axes[1:]) is mine
    assert _titles(mine) == ["", "Training loss", "Classification accuracy"]


def test_figures_show_inline_in_ipython():
    """IPython's display machinery (what a notebook cell's result goes through) finds a PNG."""
    from IPython.core.formatters import DisplayFormatter
    for fig in (vis.plot_history(HIST), vis.plot_filters(np.ones((4, 3, 5, 5))),
                vis.plot_confusion(np.eye(3, dtype=int) * 5, ["a", "b", "c"])):
        data, _ = DisplayFormatter().format(fig)
        assert data["image/png"][:8] == PNG_MAGIC


def test_plots_leave_pyplot_alone():
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    vis.plot_history(HIST)
    vis.plot_filters(np.ones((4, 3, 5, 5)))
    assert plt.get_fignums() == before


@pytest.mark.parametrize("channels", [3, 2])
def test_plot_filters(tmp_path, rng, xp, channels):
    W1 = xp.asarray(rng.standard_normal((8, channels, 5, 5)).astype(np.float32))
    path = tmp_path / "f.png"
    fig = vis.plot_filters(W1, path, title="conv1")
    assert _titles(fig) == ["conv1"]
    h, w, _ = _png_shape(path)
    assert h > 50 and w > 50
    grid = fig.axes[0].get_images()[0].get_array()
    assert grid.shape[:2] == ((3 * 6 - 1, 3 * 6 - 1) if channels == 3 else (4 * 6 - 1, 4 * 6 - 1))
    with pytest.raises(ValueError, match="plot_filters: W1 must be 4-D"):
        vis.plot_filters(xp.asarray(np.zeros((3, 3))), path)


def test_plot_filters_into_an_axes():
    from matplotlib.figure import Figure
    mine = Figure()
    ax = mine.add_subplot(1, 2, 2)
    assert vis.plot_filters(np.ones((4, 3, 5, 5)), ax=ax) is mine and ax.get_title() == "First-layer filters"


def test_plot_templates_carry_class_names(rng):
    from xnn.data import CIFAR10_CLASSES
    W = rng.standard_normal((3 * 32 * 32 + 1, 10))  # bias row last
    fig = vis.plot_templates(W)
    assert _titles(fig) == list(CIFAR10_CLASSES) and fig.get_suptitle() == "Learned class templates"
    fig = vis.plot_templates(W[:, :3], ["cat", "dog", "ship"], layout="NHWC", title=None)
    assert _titles(fig)[:3] == ["cat", "dog", "ship"] and all(t == "" for t in _titles(fig)[3:])
    # Row 1 of W is pixel (0, 0)'s green channel in NHWC rows, pixel (0, 1)'s red channel in NCHW rows.
    one_hot = np.zeros((3072, 1))
    one_hot[1] = 1.0
    for layout, pixel in (("NHWC", (0, 0, 1)), ("NCHW", (0, 1, 0))):
        image = vis.plot_templates(one_hot, ["x"], layout=layout).axes[0].get_images()[0].get_array()
        assert image[pixel] == 255 and int(image.sum()) == 255
    with pytest.raises(ValueError, match=r"3 classes but 2 class_names"):
        vis.plot_templates(W[:, :3], ["cat", "dog"])
    with pytest.raises(ValueError, match=r"W must be \(3072, classes\)"):
        vis.plot_templates(rng.standard_normal((10, 3)))


def test_plot_confusion():
    cm = np.array([[5, 1, 0], [2, 3, 0], [0, 0, 4]])
    fig = vis.plot_confusion(cm, ["cat", "dog", "ship"])
    ax, = fig.axes
    assert ax.get_title() == "Confusion matrix (accuracy 80.0%)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "ship"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Predicted class", "True class")
    assert [t.get_text() for t in ax.texts] == [str(v) for v in cm.ravel()]
    with pytest.raises(ValueError, match="square"):
        vis.plot_confusion(np.zeros((2, 3)))


def test_first_layer_images(rng):
    W = rng.standard_normal((3 * 32 * 32, 7))
    imgs = vis.first_layer_images(W)
    assert imgs.shape == (7, 3, 32, 32)
    np.testing.assert_array_equal(imgs[2], W[:, 2].reshape(3, 32, 32))
    assert vis.first_layer_images(np.vstack([W, np.ones((1, 7))])).shape == (7, 3, 32, 32)  # bias row
    assert vis.first_layer_images(rng.standard_normal((10, 4))) is None
    assert vis.first_layer_images(rng.standard_normal((3072, 300)), limit=100).shape[0] == 100
