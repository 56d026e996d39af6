#!/usr/bin/env bash
# GPU check for driver/torch, run from the repo root on a GPU machine that has
# PyTorch with CUDA installed via pip (no Go needed there):
#
#   here:  go test -c ./driver/torch -o build/bin/torch.test
#          go build -o build/bin/bench-engine ./tools/bench-engine
#   there: tools/gpu-check.sh      (carry build/bin)
#
# Builds the shim against pip's libtorch with CUDA into build/gpu-lib, runs the
# prebuilt test binary (CUDA tests included) and the benchmark on cuda.
#   PYTHON   python with torch (default python3)
#   OUT_DIR  where results go (default $OUT, else build/gpu-check)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
py="${PYTHON:-python3}"
out="${OUT_DIR:-${OUT:-build/gpu-check}}"
mkdir -p "$out"

echo "== compilers: $(which g++ c++ clang++ 2>/dev/null | tr '\n' ' ')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
torch_dir="$("$py" -c 'import torch,os;print(os.path.dirname(torch.__file__))')"
"$py" -c 'import torch;print("== torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "cxx11abi", torch.compiled_with_cxx11_abi())'
[ -e "$torch_dir/lib/libtorch_cuda.so" ] || { echo "gpu-check: $torch_dir has no libtorch_cuda.so (CPU-only wheel?)" >&2; exit 1; }

lib="$root/build/gpu-lib"
TORCH_PREFIX="$torch_dir" OUT="$lib" PYTHON="$py" tools/build-shim.sh
export LD_LIBRARY_PATH="$lib:$torch_dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

for b in build/bin/torch.test build/bin/bench-engine; do
  [ -x "$b" ] || { echo "gpu-check: missing $b (build it where Go is, see header)" >&2; exit 1; }
done

# Tests run from the package dir so testdata/ resolves; the Python oracle
# tests need /usr/bin/python3 with torch and skip otherwise.
status=0
(cd driver/torch && "$root/build/bin/torch.test" -test.v -test.short -test.timeout 8m) 2>&1 | tee "$out/torch-test.log" || status=1
grep -E '^(--- FAIL|--- SKIP|FAIL|ok|PASS)' "$out/torch-test.log" | sort | uniq -c | sort -rn | head -20 || true
build/bin/bench-engine -device cuda -python "$py" -threads "$(nproc)" -mlp-steps 200 -cnn-steps 50 \
  -out "$out/engine-cuda.json" 2>&1 | tee "$out/bench-cuda.log" || status=1
exit $status
