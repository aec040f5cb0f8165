#!/usr/bin/env bash
# The whole GPU check of xnn in one command (see benchmarks/README.md, "GPU run"):
#   bash tools/gpu_check.sh        (run from the repository root, with .whl/ carried)
# 1. installs the carried test wheels (.whl/*.whl) into /tmp/site (no network needed),
# 2. prints nvidia-smi and the Python / NumPy / CuPy / torch versions,
# 3. runs the test suite with --require-gpu            -> $OUT/pytest.log  (bounded: TESTS_S)
# 4. runs xnn bench --device gpu --dtype both           -> $OUT/gpu-bench.json, $OUT/bench.log (BENCH_S)
#    (the JSON is rewritten after every case, so a timeout still leaves the finished cases)
# 5. renders the markdown table                         -> $OUT/gpu-table.md
# and writes every step's exit status to $OUT/status.txt. Each step is bounded with `timeout`,
# so the whole script ends in about TESTS_S + BENCH_S + 30 s (default 220 + 300: inside 10 minutes).
set -u -o pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
TESTS_S="${TESTS_S:-220}"
BENCH_S="${BENCH_S:-300}"
PYTEST_ARGS="${PYTEST_ARGS:-tests/}"
BENCH_ARGS="${BENCH_ARGS:---repeat 7 --warmup 2}"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
STATUS="$OUT/status.txt"
: > "$STATUS"
step() { echo "$1 rc=$2" | tee -a "$STATUS"; }

echo "== wheels"
if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    step pip-install $?
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
else
    step pip-install "missing-.whl"
fi

echo "== machine"
nvidia-smi 2>&1 | tee "$OUT/nvidia-smi.txt"
"$PY" - <<'PYEOF' 2>&1 | tee "$OUT/versions.txt"
import importlib, platform, sys
print("python", platform.python_version(), sys.executable)
for name in ("numpy", "cupy", "torch", "array_api_compat", "array_api_strict", "hypothesis", "pytest", "matplotlib", "tqdm"):
    try:
        mod = importlib.import_module(name)
        print(f"{name:17s}", getattr(mod, "__version__", "?"), getattr(mod, "__file__", ""))
    except Exception as exc:
        print(f"{name:17s} NOT IMPORTABLE: {exc!r}")
try:
    import cupy
    print("cupy devices", cupy.cuda.runtime.getDeviceCount(), "runtime", cupy.cuda.runtime.runtimeGetVersion(),
          "driver", cupy.cuda.runtime.driverGetVersion())
except Exception as exc:
    print("cupy CUDA NOT USABLE:", repr(exc))
try:
    import torch
    print("torch cuda", torch.version.cuda, torch.cuda.is_available(), "cudnn", torch.backends.cudnn.version())
except Exception as exc:
    print("torch CUDA NOT USABLE:", repr(exc))
PYEOF

echo "== tests (timeout ${TESTS_S}s)"
timeout -k 10 "$TESTS_S" "$PY" -m pytest -q --require-gpu -p no:cacheprovider $PYTEST_ARGS 2>&1 | tee "$OUT/pytest.log"
step pytest $?

echo "== bench (timeout ${BENCH_S}s)"
# shellcheck disable=SC2086
timeout -k 10 "$BENCH_S" "$PY" -m xnn bench --device gpu --dtype both $BENCH_ARGS --json "$OUT/gpu-bench.json" 2>&1 \
    | tee "$OUT/bench.log"
step bench $?

echo "== table"
if [ -f "$OUT/gpu-bench.json" ]; then
    timeout 60 "$PY" tools/bench_table.py "$OUT/gpu-bench.json" > "$OUT/gpu-table.md" 2>&1
    step table $?
    cat "$OUT/gpu-table.md"
else
    step table "no-json"
fi
echo "== status"
cat "$STATUS"
