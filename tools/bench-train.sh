#!/usr/bin/env bash
# Whole `--preset paper` dcwp-train runs on Colored MNIST 1 % (default: mlp and cnn), one after
# the other, and their costs: wall time per stage and peak memory, from each run's summary.json,
# written to bench/train-<model>.json and printed as a table.
#
#   tools/bench-train.sh [DATA_ROOT] [RUNS_DIR]     (MODELS="mlp cnn", SEED=0, THREADS=<all CPUs>)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
data="${1:-data}"
runs="${2:-runs/bench}"
models="${MODELS:-mlp cnn}"
seed="${SEED:-0}"
bin=build/bin/dcwp-train
[ -x "$bin" ] || go build -o "$bin" ./cmd/dcwp-train
[ -d "$data/cmnist/1pct" ] || "$bin" data cmnist --out "$data" --pct 1
mkdir -p "$runs" bench
for m in $models; do
  out="$runs/paper-$m-1pct"
  rm -rf "$out"
  echo "bench-train: $m (log: $out.log)"
  t0=$(date +%s.%N)
  "$bin" --dataset cmnist --data "$data" --conflict-pct 1 --model "$m" --preset paper --seed "$seed" \
    ${THREADS:+--threads "$THREADS"} --no-progress --out "$out" >"$out.out" 2>"$out.log"
  t1=$(date +%s.%N)
  python3 - "$out/summary.json" "$m" "$t0" "$t1" "bench/train-$m.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
m, t0, t1, dst = sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
res = {
    "model": m, "dataset": "cmnist", "conflict_pct": "1", "preset": "paper",
    "wall_seconds": round(t1 - t0, 1),
    "stage_seconds": {k: round(v, 1) for k, v in s["stage_seconds"].items()},
    "peak_memory_mb": round(s.get("peak_memory_mb", 0), 1),
    "vanilla_test": s["vanilla"]["test"]["accuracy"],
    "vanilla_conflicting": s["vanilla"]["test"]["conflicting_accuracy"],
    "dcwp_test": s["dcwp"]["test"]["accuracy"],
    "dcwp_conflicting": s["dcwp"]["test"]["conflicting_accuracy"],
    "kept_ratio": s["kept_ratio"],
}
json.dump(res, open(dst, "w"), indent=2)
st = res["stage_seconds"]
print(f"{m:5s} wall {res['wall_seconds']:8.1f}s  " + "  ".join(f"{k} {st.get(k, 0):.1f}s" for k in ("pretrain", "mine", "prune", "finetune"))
      + f"  peak {res['peak_memory_mb']:.0f} MB  test {100*res['vanilla_test']:.2f}% -> {100*res['dcwp_test']:.2f}%")
PY
done
