"""The CUDA sources compile (nvcc, when installed) and the loader's kernel list matches them.

No GPU is needed: nvcc compiles every ``.cu`` file to PTX for ``sm_90`` with both float types
instantiated through the loader's own name expressions, and the PTX must contain the mangled
entry of every kernel/type. The bookkeeping tests run everywhere.
"""

from __future__ import annotations

import importlib.resources
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from xnn.kernels.cuda import loader

NVCC = shutil.which("nvcc")
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc not on PATH")

_TEMPLATE_KERNEL = re.compile(r"template\s*<\s*typename\s+T\s*>\s*__global__\s+void\s+(\w+)\s*\(")
_MANGLED_TYPE = {"float": "f", "double": "d"}


def _package_cu_files() -> set[str]:
    root = importlib.resources.files("xnn.kernels.cuda")
    return {p.name for p in root.iterdir() if p.name.endswith(".cu")}


def _mangled_prefix(kernel: str, ctype: str) -> str:
    """Itanium mangling of ``void kernel<ctype>(...)``: ``_Z<len><name>I<t>Ev`` then the parameters."""
    return f"_Z{len(kernel)}{kernel}I{_MANGLED_TYPE[ctype]}Ev"


def instantiation_wrapper(filename: str, include_path: str) -> str:
    """A .cu file that includes ``filename`` and instantiates every name expression of the loader.

    Taking each template's address in host code makes nvcc instantiate the kernel, exactly the
    set NVRTC instantiates from ``name_expressions`` at run time.
    """
    refs = ",\n    ".join(f"(void*)&{expr}" for expr in loader.name_expressions(filename))
    return f'#include "{include_path}"\n\nvoid* xnn_instantiated_kernels[] = {{\n    {refs}\n}};\n'


# --------------------------------------------------------------------------- bookkeeping (no nvcc)
def test_every_cu_file_is_listed_by_the_loader():
    assert _package_cu_files() == set(loader.source_files())


@pytest.mark.parametrize("filename", sorted(loader.KERNELS))
def test_loader_kernel_names_match_template_definitions(filename):
    defined = _TEMPLATE_KERNEL.findall(loader.read_source(filename))
    assert len(defined) == len(set(defined)), f"{filename} defines a kernel twice: {defined}"
    assert sorted(defined) == sorted(loader.KERNELS[filename])


@pytest.mark.parametrize("filename", sorted(loader.KERNELS))
def test_sources_use_no_extern_c_and_no_includes(filename):
    # Templates are found by name expression; NVRTC has no system headers.
    text = re.sub(r"//[^\n]*|/\*.*?\*/", "", loader.read_source(filename), flags=re.S)
    assert 'extern "C"' not in text
    assert "#include" not in text


def test_name_expressions_cover_both_float_types():
    assert loader.name_expressions("im2col.cu") == ["im2col<float>", "im2col<double>",
                                                    "col2im<float>", "col2im<double>"]
    assert set(loader.CTYPES) == {"float32", "float64"}


def test_kernel_names_are_unique_across_files():
    names = [k for ks in loader.KERNELS.values() for k in ks]
    assert len(names) == len(set(names))
    for name in names:
        assert name in loader.KERNELS[loader.source_of(name)]


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.complex64, "bfloat16", None])
def test_get_kernel_rejects_other_dtypes_without_touching_cupy(dtype):
    had_cupy = "cupy" in sys.modules
    with pytest.raises(TypeError, match="float32 and float64 only, got dtype"):
        loader.get_kernel("im2col", dtype)
    assert ("cupy" in sys.modules) == had_cupy


def test_get_kernel_names_the_dtype():
    with pytest.raises(TypeError, match="float16"):
        loader.get_kernel("maxpool_forward", np.float16)


def test_unknown_kernel_and_source_names():
    with pytest.raises(ValueError, match="unknown CUDA kernel 'conv'"):
        loader.source_of("conv")
    with pytest.raises(ValueError, match="unknown CUDA source"):
        loader.read_source("missing.cu")


def test_importing_xnn_does_not_import_cupy():
    code = ("import sys, xnn, xnn.kernels, xnn.kernels.cuda.loader; "
            "sys.exit(1 if 'cupy' in sys.modules else 0)")
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- nvcc
@needs_nvcc
@pytest.mark.parametrize("filename", sorted(loader.KERNELS))
def test_nvcc_compiles_both_float_types(filename, tmp_path):
    src = tmp_path / filename
    src.write_text(loader.read_source(filename), encoding="utf-8")
    wrapper = tmp_path / f"instantiate_{filename}"
    wrapper.write_text(instantiation_wrapper(filename, src.name), encoding="utf-8")
    ptx = tmp_path / f"{filename}.ptx"
    cmd = [NVCC, "-ptx", "-arch=sm_90", *loader.COMPILE_OPTIONS, "-Werror", "all-warnings",
           str(wrapper), "-o", str(ptx)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, f"nvcc failed for {filename}:\n{proc.stdout}\n{proc.stderr}"
    entries = re.findall(r"\.entry\s+(\w+)\s*\(", ptx.read_text())
    for kernel in loader.KERNELS[filename]:
        for ctype in loader.CTYPES.values():
            prefix = _mangled_prefix(kernel, ctype)
            assert any(e.startswith(prefix) for e in entries), f"{kernel}<{ctype}> missing from PTX: {entries}"
    assert len(entries) == len(loader.name_expressions(filename))
