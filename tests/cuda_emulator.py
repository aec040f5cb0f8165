"""CPU emulation of the CUDA kernels, driven through the real ``xnn.kernels.cuda`` functions.

No GPU needed. The ``.cu`` files are compiled as plain C++ (g++) with ``__global__`` removed and
``blockIdx``/``threadIdx``/``blockDim``/``gridDim`` as globals; a launcher runs every
(block, thread) of a grid one after the other. The kernels write disjoint outputs and read only
their inputs (gathers, no atomics), so serial execution computes what the GPU computes.

The ``emulated`` fixture gives ``xnn.kernels.cuda`` with CuPy replaced by NumPy:
``loader.get_kernel`` returns a :class:`FakeKernel` that checks the launch arguments against the
kernel's C++ signature (count, pointer vs scalar, element type and size: numpy scalars only, as
CuPy needs) and runs the emulated grid. Arrays are copied into buffers with guard bands and
outputs start as marked garbage, so out-of-bounds reads show up as wrong results, out-of-bounds
writes as changed guards, unwritten outputs as leftover marks, and (on the tiny grid, run one
thread at a time) an element written by two threads as a failure.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import subprocess
import types

import numpy as np
import pytest

import xnn.kernels.cuda as cuda
from xnn.kernels.cuda import loader

CXX = shutil.which("g++") or shutil.which("c++")
_GUARD = 64

_PRELUDE = r"""
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

struct xnn_dim3 { unsigned int x, y, z; };
static xnn_dim3 blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __device__
"""

_LAUNCHER = r"""
// Argument code: pointer flag, element kind ('f' / 'i') and element size.
template <typename A> static int code_of() {
    using E = std::remove_cv_t<std::remove_pointer_t<A>>;
    const int kind = std::is_floating_point_v<E> ? 'f' : (std::is_integral_v<E> ? 'i' : '?');
    return (std::is_pointer_v<A> ? 100000 : 0) + kind * 100 + (int)sizeof(E);
}

template <typename A> static int writable_of() {
    return std::is_pointer_v<A> && !std::is_const_v<std::remove_pointer_t<A>>;
}

template <typename... A>
static int signature(void (*)(A...), int* codes, int* writable, int max) {
    const int c[] = {code_of<A>()..., 0};
    const int w[] = {writable_of<A>()..., 0};
    const int n = (int)sizeof...(A);
    for (int a = 0; a < n && a < max; ++a) { codes[a] = c[a]; writable[a] = w[a]; }
    return n;
}

// Run every thread of the grid in turn, or only thread `only` (x, y, t) when only[0] >= 0.
template <typename... A, std::size_t... I>
static int run_grid(void (*kernel)(A...), const unsigned* grid, const int* only, int nargs,
                    const int* codes, void** args, std::index_sequence<I...>) {
    if (nargs != (int)sizeof...(A)) return -2;
    const int expected[] = {code_of<A>()..., 0};
    for (int a = 0; a < nargs; ++a) if (codes[a] != expected[a]) return -100 - a;
    gridDim = {grid[0], grid[1], 1};
    blockDim = {grid[2], 1, 1};
    for (unsigned y = 0; y < grid[1]; ++y)
        for (unsigned x = 0; x < grid[0]; ++x)
            for (unsigned t = 0; t < grid[2]; ++t) {
                if (only[0] >= 0 && (x != (unsigned)only[0] || y != (unsigned)only[1] || t != (unsigned)only[2]))
                    continue;
                blockIdx = {x, y, 0};
                threadIdx = {t, 0, 0};
                kernel(*static_cast<A*>(args[I])...);
            }
    return 0;
}

template <typename... A>
static int launch(void (*kernel)(A...), const unsigned* grid, const int* only, int nargs,
                  const int* codes, void** args) {
    return run_grid(kernel, grid, only, nargs, codes, args, std::index_sequence_for<A...>{});
}
"""


def _harness_source(filename: str) -> str:
    """One translation unit per source file, as NVRTC compiles them (one RawModule each)."""
    exprs = loader.name_expressions(filename)
    run = "".join(f'    if (!std::strcmp(name, "{e}")) return launch(&{e}, grid, only, nargs, codes, args);\n'
                  for e in exprs)
    sig = "".join(f'    if (!std::strcmp(name, "{e}")) return signature(&{e}, codes, writable, max);\n'
                  for e in exprs)
    entries = (
        'extern "C" int xnn_emulate(const char* name, const unsigned* grid, const int* only, int nargs,\n'
        '                           const int* codes, void** args) {\n' + run + "    return -1;\n}\n"
        'extern "C" int xnn_signature(const char* name, int* codes, int* writable, int max) {\n'
        + sig + "    return -1;\n}\n")
    return _PRELUDE + f'#include "{filename}"\n' + _LAUNCHER + entries


def _build(directory, filename: str):
    (directory / filename).write_text(loader.read_source(filename), encoding="utf-8")
    harness = f"harness_{filename}.cpp"
    (directory / harness).write_text(_harness_source(filename), encoding="utf-8")
    lib = directory / f"libxnn_emulate_{filename}.so"
    cmd = [CXX, "-std=c++17", "-O1", "-Wall", "-Werror", "-shared", "-fPIC", harness, "-o", str(lib)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=directory)
    assert proc.returncode == 0, f"emulation harness for {filename} failed to compile:\n{proc.stderr}"
    so = ctypes.CDLL(str(lib))
    so.xnn_emulate.restype = ctypes.c_int
    so.xnn_emulate.argtypes = [ctypes.c_char_p] + [ctypes.c_void_p] * 2 + [ctypes.c_int] + [ctypes.c_void_p] * 2
    so.xnn_signature.restype = ctypes.c_int
    so.xnn_signature.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    return so


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> dict:
    """Source file name -> ctypes library running that file's kernels on the CPU."""
    if CXX is None:
        pytest.skip("no C++ compiler (g++) to emulate the CUDA kernels")
    d = tmp_path_factory.mktemp("cuda_emulation")
    return {f: _build(d, f) for f in loader.source_files()}


def _code(pointer: bool, dtype: np.dtype) -> int:
    kind = {"f": "f", "i": "i", "u": "i"}.get(dtype.kind, "?")
    return (100000 if pointer else 0) + ord(kind) * 100 + dtype.itemsize


# "Never written" marker: NaNs with a payload no computation produces, and an odd integer.
_GARBAGE_BITS = {np.dtype(np.float32): (np.uint32, 0x7FC0BEEF), np.dtype(np.float64): (np.uint64, 0x7FF8DEAD0000BEEF)}


def _fill_garbage(a: np.ndarray) -> None:
    if a.dtype in _GARBAGE_BITS:
        view, bits = _GARBAGE_BITS[a.dtype]
        a.view(view)[...] = bits
    else:
        a[...] = -987654


def _is_garbage(a: np.ndarray) -> np.ndarray:
    if a.dtype in _GARBAGE_BITS:
        view, bits = _GARBAGE_BITS[a.dtype]
        return a.view(view) == bits
    return a == -987654


class FakeKernel:
    """Stands in for a ``cupy.RawKernel``: same call signature, runs the C++ build of the kernel.

    With ``tiny_grid=(gx, gy, block)`` it ignores the requested grid, runs one thread at a time
    and checks that every output element is written by exactly one thread.
    """

    def __init__(self, so, expr: str, tiny_grid):
        self.so, self.expr, self.tiny_grid = so, expr, tiny_grid
        codes, writable = np.zeros(32, np.int32), np.zeros(32, np.int32)
        n = so.xnn_signature(expr.encode(), codes.ctypes.data, writable.ctypes.data, 32)
        assert n >= 0, f"emulator has no kernel {expr}"
        self.codes, self.writable = codes[:n].tolist(), writable[:n].astype(bool).tolist()

    def _run(self, grid, only, holders, codes) -> None:
        ptrs = (ctypes.c_void_p * len(holders))(*[h.ctypes.data for h in holders])
        grid_arr, only_arr = np.array(grid, dtype=np.uint32), np.array(only, dtype=np.int32)
        code_arr = np.array(codes, dtype=np.int32)
        rc = self.so.xnn_emulate(self.expr.encode(), grid_arr.ctypes.data, only_arr.ctypes.data, len(codes),
                                 code_arr.ctypes.data, ptrs)
        assert rc == 0, f"{self.expr}: launch rejected (rc {rc}; -2 wrong count, -100-k bad argument k)"

    def __call__(self, grid, block, args, **kwargs):
        assert not kwargs and len(grid) == 2 and len(block) == 1
        assert 1 <= grid[0] and 1 <= grid[1] <= 65535 and 1 <= block[0] <= 1024
        holders, codes, buffers = [], [], []
        for a in args:
            if isinstance(a, np.ndarray):
                assert a.flags.c_contiguous, f"{self.expr}: array argument is not C-contiguous"
                buf = np.empty(a.size + 2 * _GUARD, dtype=a.dtype)
                _fill_garbage(buf)
                buf[_GUARD:_GUARD + a.size] = a.reshape(-1)
                buffers.append((a, buf, self.writable[len(holders)] if len(holders) < len(self.writable) else False))
                holders.append(np.array(buf.ctypes.data + _GUARD * a.itemsize, dtype=np.uintp))
                codes.append(_code(True, a.dtype))
            else:
                assert isinstance(a, np.generic), f"{self.expr}: scalar {a!r} must be a numpy scalar for CuPy"
                holders.append(np.array(a))
                codes.append(_code(False, a.dtype))
        assert codes == self.codes, f"{self.expr}: arguments {codes} do not match the signature {self.codes}"
        outputs = [(a, buf[_GUARD:_GUARD + a.size]) for a, buf, w in buffers if w]
        if self.tiny_grid is None:
            self._run((grid[0], grid[1], block[0]), (-1, -1, -1), holders, codes)
        else:
            self._run_one_thread_at_a_time(holders, codes, outputs)
        for _, body in outputs:
            assert not _is_garbage(body).any(), f"{self.expr} left output elements unwritten"
        for a, buf, _ in buffers:
            guards = np.concatenate([buf[:_GUARD], buf[_GUARD + a.size:]])
            assert _is_garbage(guards).all(), f"{self.expr} wrote out of bounds"
            a.reshape(-1)[:] = buf[_GUARD:_GUARD + a.size]

    def _run_one_thread_at_a_time(self, holders, codes, outputs) -> None:
        gx, gy, bx = self.tiny_grid
        merged = [np.empty_like(body) for _, body in outputs]
        writes = [np.zeros(body.shape, dtype=np.int64) for _, body in outputs]
        for y in range(gy):
            for x in range(gx):
                for t in range(bx):
                    for _, body in outputs:
                        _fill_garbage(body)
                    self._run((gx, gy, bx), (x, y, t), holders, codes)
                    for (_, body), m, w in zip(outputs, merged, writes):
                        written = ~_is_garbage(body)
                        w += written
                        m[written] = body[written]
        for (_, body), m, w in zip(outputs, merged, writes):
            assert w.max(initial=1) == 1, f"{self.expr}: an output element was written by several threads"
            unwritten = m[w == 0]
            _fill_garbage(unwritten)  # stays marked, so the caller reports it
            m[w == 0] = unwritten
            body[...] = m


def _poisoned_empty(shape, dtype):
    out = np.empty(shape, dtype=dtype)
    _fill_garbage(out)
    return out


_FAKE_CUPY = types.SimpleNamespace(ndarray=np.ndarray, ascontiguousarray=np.ascontiguousarray,
                                   empty=_poisoned_empty, int32=np.int32)

# As launched by xnn.kernels.cuda, and a tiny grid so both grid-stride loops iterate.
GRIDS = [pytest.param(None, id="launch-grid"), pytest.param((2, 2, 3), id="tiny-grid")]


@pytest.fixture(params=GRIDS)
def emulated(request, emulator, monkeypatch):
    """``xnn.kernels.cuda`` with CuPy replaced by NumPy and kernels run by the emulator."""
    launched = []

    def get_kernel(name, dtype):
        expr = f"{name}<{loader.ctype_of(dtype)}>"
        launched.append(expr)
        return FakeKernel(emulator[loader.source_of(name)], expr, request.param)

    monkeypatch.setattr(cuda, "_cupy", lambda: _FAKE_CUPY)
    monkeypatch.setattr(cuda, "_on_device", lambda a: contextlib.nullcontext())
    monkeypatch.setattr(cuda.loader, "get_kernel", get_kernel)
    cuda.launched = launched
    yield cuda
    del cuda.launched
