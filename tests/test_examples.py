"""The example notebooks, executed top to bottom in a real Jupyter kernel (nbclient + ipykernel).

Any cell error fails the test. The kernel gets the environment a user's has (matplotlib's inline
backend, no ipywidgets unless installed), and the outputs are checked for what a student should see:
figures as PNG images, progress without tqdm warnings, no tracebacks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat, nbclient and ipykernel")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))


def _run(name: str, workdir: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the conftest's Agg would hide the inline backend
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()  # raises CellExecutionError naming the cell on any error
    return nb


def _texts(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _has_png(cell) -> bool:
    return any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def test_there_are_three_examples():
    assert NOTEBOOKS == ["01_quick_start.ipynb", "02_course_dropin.ipynb", "03_backends.ipynb"]
    for name in NOTEBOOKS:  # committed without outputs, so diffs stay readable
        nb = nbformat.read(EXAMPLES / name, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), name


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_a_kernel(name, tmp_path, monkeypatch):
    nb = _run(name, tmp_path, monkeypatch)
    code = [c for c in nb.cells if c.cell_type == "code"]
    everything = "".join(_texts(c) for c in code)
    assert "Traceback" not in everything and "TqdmWarning" not in everything and "IProgress" not in everything
    for cell in code:
        if "plot_" in cell.source or cell.source.strip() == "result.plot()":
            assert _has_png(cell), cell.source  # a returned figure shows inline
    if name == "01_quick_start.ipynb":
        assert "train: epoch 3 / 3" in everything  # progress without ipywidgets: one line per epoch
        assert "(Epoch 3 / 3) train acc:" in everything and "test accuracy: " in everything
        assert "FullyConnectedNet test accuracy: " in everything  # xnn.load_run on the command line's run
        assert list((tmp_path / "runs").iterdir())
    if name == "02_course_dropin.ipynb":
        assert "dx error: " in everything and "(Epoch 3 / 3) train acc:" in everything
    if name == "03_backends.ipynb":
        assert "array-api-strict" in everything and "im2col: " in everything
