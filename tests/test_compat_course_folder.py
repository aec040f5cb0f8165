"""alias() in the real assignment layout: the course's package folder sits next to the notebook.

One line is enough there: xnn serves the modules it replaces, every other module of the folder
loads from it, a name xnn's module lacks comes from the course's own file of that module, and one
``logging`` line says so. Folders that are not course packages, standard-library names and xnn
itself are still refused. Each case runs in a fresh interpreter in a temp folder.
"""

from __future__ import annotations

import pytest
from course_stub import make_course_package, run_python


def test_one_line_alias_over_the_course_folder(tmp_path):
    make_course_package(tmp_path)
    proc = run_python("""
        import xnn.compat; xnn.compat.alias("cs231n")
        import xnn.layers, xnn.models, xnn.solver
        from cs231n.layers import *
        from cs231n.classifiers.fc_net import *
        from cs231n.solver import Solver
        from cs231n import optim
        from cs231n.image_utils import *
        assert affine_forward is xnn.layers.affine_forward and Solver is xnn.solver.Solver
        assert FullyConnectedNet is xnn.models.FullyConnectedNet and optim.sgd is xnn.optim.sgd
        print(COURSE_ONLY)
        import cs231n.image_utils
        assert cs231n.image_utils.affine_forward is xnn.layers.affine_forward  # its 'from .layers import *'
        print(xnn.compat.aliases())
    """, tmp_path)
    assert proc.stdout.splitlines() == ["image_utils from the course folder", "{'cs231n': 'cs231n'}"]
    notice = proc.stderr.strip().splitlines()
    assert len(notice) == 1, proc.stderr
    line = notice[0]
    assert str(tmp_path / "cs231n") in line and "flavor 'cs231n'" in line
    for served in ("layers", "layer_utils", "solver", "optim", "gradient_check", "data_utils", "classifiers",
                   "classifiers.fc_net"):
        assert f" {served}," in line or f" {served};" in line, served
    own = line.split(";")[2]  # what stays the course's
    assert "image_utils" in own and "classifiers.k_nearest_neighbor" in own


def test_names_xnn_lacks_come_from_the_course_file(tmp_path):
    make_course_package(tmp_path)
    proc = run_python("""
        import xnn.compat; xnn.compat.alias("cs231n")
        import xnn.data
        from cs231n.data_utils import get_CIFAR10_data, load_CIFAR10
        print("xnn names imported")
        from cs231n.data_utils import load_imagenet_val, load_tiny_imagenet, load_models
        print(load_imagenet_val(3), load_models("m"))
        assert load_CIFAR10 is xnn.data.load_CIFAR10
        from cs231n.classifiers import KNearestNeighbor
        print(KNearestNeighbor.origin)
        try:
            from cs231n.data_utils import no_such_name
        except ImportError as e:
            print("ImportError:", "no_such_name" in str(e))
    """, tmp_path)
    assert proc.stdout.splitlines() == [
        "xnn names imported",  # the course's file runs only when a name xnn lacks is asked for
        "course data_utils.py executed",
        "('course load_imagenet_val', 3) {'dir': 'm'}",
        "course",
        "ImportError: True",
    ]


def test_a_course_file_that_cannot_load_says_why(tmp_path):
    files = {"__init__.py": "", "layers.py": "",
             "data_utils.py": "import imageio_not_installed\ndef load_imagenet_val(num=None):\n    return num\n"}
    make_course_package(tmp_path, files=files)
    proc = run_python("""
        import xnn.compat; xnn.compat.alias("cs231n")
        from cs231n.data_utils import get_CIFAR10_data  # xnn's: the course file is not needed
        try:
            from cs231n.data_utils import load_imagenet_val
        except ImportError as e:
            print(e)
    """, tmp_path)
    message = proc.stdout.strip()
    assert "load_imagenet_val" in message and str(tmp_path / "cs231n" / "data_utils.py") in message
    assert "No module named 'imageio_not_installed'" in message


@pytest.mark.parametrize("marker", ["layers.py", "classifiers/__init__.py", "solver.py"])
def test_each_course_marker_is_enough(tmp_path, marker):
    make_course_package(tmp_path, "utils", files={"__init__.py": "", marker: ""})
    proc = run_python("""
        import xnn.compat; xnn.compat.alias("utils", flavor="ece147")
        from utils.solver import Solver
        import xnn.compat.solvers
        print(Solver is xnn.compat.solvers.ECE147Solver)
    """, tmp_path)
    assert proc.stdout.strip() == "True"


def test_a_folder_that_is_not_a_course_package_is_refused(tmp_path):
    make_course_package(tmp_path, "mylib", files={"__init__.py": "", "helpers.py": "X = 1\n"})
    proc = run_python("""
        import xnn.compat
        try:
            xnn.compat.alias("mylib")
        except ValueError as e:
            print(e)
        print(xnn.compat.aliases())
        xnn.compat.alias("mylib", force=True)  # force: serve it anyway; its own modules still load
        from mylib.helpers import X
        from mylib.layers import affine_forward
        print(X, xnn.compat.aliases())
    """, tmp_path)
    refusal, listed, forced = proc.stdout.splitlines()
    assert "not a course package" in refusal and "layers.py" in refusal and "force=True" in refusal
    assert listed == "{}" and forced == "1 {'mylib': 'cs231n'}"


def test_stdlib_names_are_refused_even_when_a_folder_looks_like_a_course(tmp_path):
    make_course_package(tmp_path, "json", files={"__init__.py": "", "layers.py": ""})
    proc = run_python("""
        import xnn.compat
        for force in (False, True):
            try:
                xnn.compat.alias("json", force=force)
            except ValueError as e:
                print("refused" if "standard-library" in str(e) else e)
    """, tmp_path)
    assert proc.stdout.split() == ["refused", "refused"]
