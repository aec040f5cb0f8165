"""xnn.vis: image grids (cs231n vis_utils semantics) and PNG plots."""

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


def test_plot_history(tmp_path):
    hist = {"loss_history": [2.3, 2.1, 1.9, 1.7], "train_acc_history": [0.1, 0.3], "val_acc_history": [0.1, 0.25]}
    path = tmp_path / "h.png"
    vis.plot_history(hist, path)
    assert _png_shape(path) == (400, 1100, 4)

    class FakeSolver:
        loss_history, train_acc_history, val_acc_history = [1.0], [0.5], [0.4]
    vis.plot_history(FakeSolver(), tmp_path / "s.png")
    assert _png_shape(tmp_path / "s.png")[2] == 4


@pytest.mark.parametrize("channels", [3, 2])
def test_plot_filters(tmp_path, rng, xp, channels):
    W1 = xp.asarray(rng.standard_normal((8, channels, 5, 5)).astype(np.float32))
    path = tmp_path / "f.png"
    vis.plot_filters(W1, path)
    h, w, _ = _png_shape(path)
    assert h > 50 and w > 50
    with pytest.raises(ValueError, match="plot_filters: W1 must be 4-D"):
        vis.plot_filters(xp.asarray(np.zeros((3, 3))), path)


def test_first_layer_images(rng):
    W = rng.standard_normal((3 * 32 * 32, 7))
    imgs = vis.first_layer_images(W)
    assert imgs.shape == (7, 3, 32, 32)
    np.testing.assert_array_equal(imgs[2], W[:, 2].reshape(3, 32, 32))
    assert vis.first_layer_images(np.vstack([W, np.ones((1, 7))])).shape == (7, 3, 32, 32)  # bias row
    assert vis.first_layer_images(rng.standard_normal((10, 4))) is None
    assert vis.first_layer_images(rng.standard_normal((3072, 300)), limit=100).shape[0] == 100


def test_no_pyplot_state():
    import sys
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()
