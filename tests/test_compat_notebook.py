"""A course notebook, as a script, run unchanged in the course's own folder layout.

The temp folder holds what a student has: the course package (``cs231n/`` or Berkeley's
``deeplearning/``) with starter files xnn replaces, a course-only module (``image_utils.py``),
course-only functions inside ``data_utils.py`` and the course's ``datasets/`` dir. The script is
the alias line followed by the notebook's own cells, imports written exactly as the courses
write them, run in a fresh interpreter.
"""

from __future__ import annotations

import pytest
from course_stub import make_course_package, run_python
from test_data import make_cifar_dir

NOTEBOOK = """
    import xnn.compat; xnn.compat.alias({alias_args})

    # As usual, a bit of setup
    import time
    import numpy as np
    import matplotlib.pyplot as plt
    from {pkg}.classifiers.fc_net import *
    from {pkg}.data_utils import get_CIFAR10_data
    from {pkg}.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
    from {pkg}.solver import Solver
    from {pkg}.image_utils import *
    from {pkg}.data_utils import load_imagenet_val

    def rel_error(x, y):
        return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))

    # Load the (preprocessed) CIFAR10 data.
    data = get_CIFAR10_data()
    for k, v in list(data.items()):
        print(('%s: ' % k, v.shape))

    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=0, weight_scale=5e-2, dtype=np.float64)
    loss, grads = model.loss(X, y)
    print('Initial loss: ', loss)
    f = lambda _: model.loss(X, y)[0]
    grad_num = eval_numerical_gradient(f, model.params['W1'], verbose=False, h=1e-5)
    print('W1 relative error: %.2e' % rel_error(grad_num, grads['W1']))

    num_train = 50
    small_data = {{
      'X_train': data['X_train'][:num_train],
      'y_train': data['y_train'][:num_train],
      'X_val': data['X_val'],
      'y_val': data['y_val'],
    }}
    model = FullyConnectedNet([100, 100], weight_scale=1e-2)
    solver = Solver(model, small_data, print_every=0, num_epochs=2, batch_size=25, update_rule='sgd',
                    optim_config={{'learning_rate': 1e-3}}, verbose=False)
    solver.train()
    plt.plot(solver.loss_history, 'o')
    print('steps:', len(solver.loss_history), COURSE_ONLY, load_imagenet_val(num=5)[0])
"""

COURSES = [pytest.param("cs231n", '"cs231n"', id="cs231n"),
           pytest.param("deeplearning", '"deeplearning", flavor="cs182"', id="berkeley")]


def _expected_stdout(sizes: tuple[int, int, int]) -> list[str]:
    n_train, n_val, n_test = sizes
    return [f"('X_train: ', ({n_train}, 3, 32, 32))", f"('y_train: ', ({n_train},))",
            f"('X_val: ', ({n_val}, 3, 32, 32))", f"('y_val: ', ({n_val},))",
            f"('X_test: ', ({n_test}, 3, 32, 32))", f"('y_test: ', ({n_test},))",
            "Initial loss:  2.3004790897684924",  # the cs231n notebook's seeded figure
            "W1 relative error: 1.48e-07",
            "steps: 4 image_utils from the course folder course load_imagenet_val"]


@pytest.mark.parametrize("pkg, alias_args", COURSES)
def test_notebook_runs_unchanged_on_the_course_datasets(tmp_path, pkg, alias_args):
    folder = make_course_package(tmp_path, pkg)
    make_cifar_dir(folder / "datasets" / "cifar-10-batches-py", n_per_batch=40, n_test=30)
    proc = run_python(NOTEBOOK.format(pkg=pkg, alias_args=alias_args), tmp_path)
    # the course's data_utils.py runs once, at the import of load_imagenet_val (a name xnn lacks)
    assert proc.stdout.splitlines() == ["course data_utils.py executed", *_expected_stdout((196, 4, 30))]
    # stderr: the alias notice, and the one warning about the small set (with the line that raised it)
    notice = [line for line in proc.stderr.splitlines() if line.startswith("xnn.compat:")]
    assert len(notice) == 1 and str(folder) in notice[0]
    assert proc.stderr.count("UserWarning: get_CIFAR10_data:") == 1
    assert str(folder / "datasets" / "cifar-10-batches-py") in proc.stderr
    assert "<string>:19: UserWarning: get_CIFAR10_data:" in proc.stderr  # it points at the notebook's line


@pytest.mark.parametrize("pkg, alias_args", COURSES[:1])
def test_notebook_runs_offline_on_the_bundled_sample(tmp_path, pkg, alias_args):
    make_course_package(tmp_path, pkg)  # datasets/ holds only the download script: nothing downloaded
    proc = run_python(NOTEBOOK.format(pkg=pkg, alias_args=alias_args), tmp_path, env={"XNN_DATA": "sample"})
    assert proc.stdout.splitlines() == ["course data_utils.py executed", *_expected_stdout((2352, 48, 400))]
    assert "the bundled CIFAR-10 sample (XNN_DATA=sample)" in proc.stderr
