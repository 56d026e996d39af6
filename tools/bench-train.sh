#!/usr/bin/env bash
# Whole `--preset paper` runs on Colored MNIST 1 % (default: mlp and cnn), each side by side with
# its reference: dcwp-train and the same four stages in plain PyTorch (tools/bench-train/ref_train.py),
# started together with the same thread count so both see the same machine load. Wall time per
# stage, peak memory and accuracies of both, and their ratios (reference ÷ dcwp-train for time,
# dcwp-train ÷ reference for memory), go to bench/train-<model>.json (REPORT_DIR=DIR for another folder)
# and a table, both naming the engine and libtorch that trained and the reference's PyTorch.
#
#   tools/bench-train.sh [DATA_ROOT] [RUNS_DIR]     (MODELS="mlp cnn", SEED=0, THREADS=1 per side)
#
# Engine × libtorch: the reference is the PyTorch of the libtorch dcwp-train runs on, and the
# bench refuses to start when their versions differ. Under `tools/combo.sh run COMBO` or
# `tools/libtorch.sh run NAME` (which set DCWP_TORCH_PYTHON) the reference is that version's
# PyTorch; else Debian's python3-torch. PYTHON overrides both. ENGINE=gotch (combo.sh run sets
# ENGINE) builds dcwp-train with -tags gotch (GOWORK=build/gotch/go.work, after
# tools/setup-gotch.sh) into build/bin/gotch/dcwp-train; ENGINE=shim (the default) runs
# build/bin/dcwp-train. BIN=PATH takes another dcwp-train binary. Give each combination its own
# REPORT_DIR and RUNS_DIR, as `tools/just bench-train gotch:2.1.0` (tools/bench-combo.sh) does:
#
#   REPORT_DIR=bench/gotch-2.1.0 tools/combo.sh run gotch:2.1.0 tools/bench-train.sh data runs/bench-gotch-2.1.0
#
# DEVICE=cuda trains both sides on the GPU (PYTHON: a python whose torch has CUDA).
# PRECISION=bf16 and MEMORY_FORMAT=channels-last set both sides alike (dcwp-train's --precision
# and --memory-format; the reference's torch.autocast and channels_last); a setting other than
# the default (fp32, contiguous) is added to the report's name: bench/train-cnn-bf16.json.
# REF_PRECISION and REF_MEMORY_FORMAT give the reference other settings than dcwp-train's, to
# set dcwp-train's fastest setting beside the plain fp32 NCHW reference
# (bench/train-cnn-bf16-channels-last-vs-fp32-contiguous.json).
#
# ARGS passes flags both sides take (--batch-size, --mining-iters, --pretrain-iters, --prune-iters,
# --finetune-iters, --eval-every, --checkpoint-every), e.g. for a short trial of the bench itself.
#
# THREADS defaults to 1 so that the two sides fit a 2-core machine without taking cores from
# each other; give each side THREADS cores (2×THREADS in all) for a fair comparison.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
data="${1:-data}"
runs="${2:-runs/bench}"
models="${MODELS:-mlp cnn}"
seed="${SEED:-0}"
threads="${THREADS:-1}"
precision="${PRECISION:-fp32}"
format="${MEMORY_FORMAT:-contiguous}"
suffix=""
[ "$precision" = fp32 ] || suffix="$suffix-$precision"
[ "$format" = contiguous ] || suffix="$suffix-$format"
ref_precision="${REF_PRECISION:-$precision}"
ref_format="${REF_MEMORY_FORMAT:-$format}"
[ "$ref_precision $ref_format" = "$precision $format" ] || suffix="$suffix-vs-$ref_precision-$ref_format"
device="${DEVICE:-cpu}"
axes=(--precision "$precision" --memory-format "$format" --device "$device")
ref_axes=(--precision "$ref_precision" --memory-format "$ref_format" --device "$device")
# Debian's /usr/bin/python3 has python3-torch; the first python3 on PATH may lack it
python="${PYTHON:-${DCWP_TORCH_PYTHON:-/usr/bin/python3}}"
die() { echo "bench-train: $*" >&2; exit 1; }
case ${ENGINE:-shim} in
shim)
  bin="${BIN:-build/bin/dcwp-train}"
  [ -x "$bin" ] || go build -o "$bin" ./cmd/dcwp-train
  ;;
gotch)
  [ -e build/gotch/go.work ] || die "ENGINE=gotch: no build/gotch/go.work; run tools/setup-gotch.sh first"
  bin="${BIN:-build/bin/gotch/dcwp-train}"
  # always (Go's build cache makes it seconds): a gotch binary left from another set-up would run stale code
  [ -n "${BIN:-}" ] || GOWORK="$root/build/gotch/go.work" go build -tags gotch -o "$bin" ./cmd/dcwp-train
  ;;
*) die "ENGINE=${ENGINE}: want shim or gotch" ;;
esac
# "dcwp-train version 0.1.0 (engine gotch, libtorch 2.1.0)"; torch.__version__ "2.1.0+cu121"
trained=$("$bin" --version | sed -n 's/.*(engine \([^,]*\), libtorch \([^)]*\)).*/\1 \2/p')
[ -n "$trained" ] || die "$bin --version names no engine and libtorch: $("$bin" --version)"
ref_torch=$("$python" -c 'import torch; print(torch.__version__)') || die "$python cannot import torch (set PYTHON, or run under tools/libtorch.sh run NAME)"
release() { grep -oE '^[0-9]+\.[0-9]+\.[0-9]+' <<<"$1"; }
[ "$(release "${trained#* }")" = "$(release "$ref_torch")" ] ||
  die "$bin runs libtorch ${trained#* } but the reference $python runs PyTorch $ref_torch: run it under tools/combo.sh run COMBO (tools/just bench-train COMBO), or set PYTHON to that version's PyTorch"
echo "bench-train: dcwp-train on engine ${trained% *}, libtorch ${trained#* }; reference PyTorch $ref_torch ($python)"
report="${REPORT_DIR:-bench}"
[ -d "$data/cmnist/1pct" ] || "$bin" data cmnist --out "$data" --pct 1
mkdir -p "$runs" "$report"

# timed NAME CMD...: runs CMD, then writes its wall seconds to $runs/NAME.wall.
timed() {
  local name=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >"$runs/$name.wall"
}

# progress GO_LOG REF_LOG: while the sides run, the last line of each running side's log every
# $every seconds (an hour-long run should say how far it is), polling each second so that
# short runs end at once.
every="${PROGRESS_EVERY:-60}"
progress() {
  local n=0
  while kill -0 "$go_pid" 2>/dev/null || kill -0 "$ref_pid" 2>/dev/null; do
    sleep 1
    n=$((n + 1))
    [ $((n % every)) -eq 0 ] || continue
    kill -0 "$go_pid" 2>/dev/null && echo "  dcwp-train: $(tail -n 1 "$1" 2>/dev/null)"
    kill -0 "$ref_pid" 2>/dev/null && echo "  reference:  $(tail -n 1 "$2" 2>/dev/null)"
  done
  return 0 # the loop's status is its last test's: a side that ended between two lines is no failure
}

for m in $models; do
  out="$runs/paper-$m-1pct$suffix"
  rm -rf "$out"
  name="$m$suffix"
  echo "bench-train: $m, dcwp-train ($precision, $format) and the PyTorch reference ($ref_precision, $ref_format) side by side, $threads thread(s) each"
  echo "  logs: $out.log, $runs/ref-$name.log"
  timed "go-$name" "$bin" --dataset cmnist --data "$data" --conflict-pct 1 --model "$m" --preset paper \
    --seed "$seed" --threads "$threads" "${axes[@]}" --no-progress ${ARGS:-} --out "$out" >"$out.out" 2>"$out.log" &
  go_pid=$!
  timed "ref-$name" "$python" tools/bench-train/ref_train.py --data "$data" --pct 1 --model "$m" \
    --seed "$seed" --threads "$threads" "${ref_axes[@]}" ${ARGS:-} >"$runs/ref-$name.json" 2>"$runs/ref-$name.log" &
  ref_pid=$!
  progress "$out.log" "$runs/ref-$name.log"
  status=0
  wait "$go_pid" || { echo "bench-train: dcwp-train failed, see $out.log" >&2; status=1; }
  wait "$ref_pid" || { echo "bench-train: the reference failed, see $runs/ref-$name.log" >&2; status=1; }
  [ "$status" -eq 0 ] || exit 1
  "$python" tools/bench-train/report.py "$m" "$threads" "$out/summary.json" "$(cat "$runs/go-$name.wall")" \
    "$runs/ref-$name.json" "$(cat "$runs/ref-$name.wall")" "$report/train-$name.json" "$precision" "$format" "$ref_precision" "$ref_format"
done
