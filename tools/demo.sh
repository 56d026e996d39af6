#!/usr/bin/env bash
# The README demo after set-up and data: train (quick preset) the paper's weight-level DCWP and,
# beside it, a channel-level one under a 50 % FLOPs budget (same seed, same data); export the
# vanilla network and each DCWP subnetwork (dense and compact), evaluate every export in ONNX
# Runtime, check each compact export computes what its dense one does, time them side by side
# in one dcwp-eval bench, and print one summary table.
# Usage: tools/demo.sh DATA_ROOT RUN_DIR   (the channel-level run goes to RUN_DIR-channel)
set -euo pipefail
data=$1
run=$2
channel=$run-channel
bin=build/bin
started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# train RUN_DIR [FLAGS...]: a quick-preset run, or the finished one already there.
train() {
	local dir=$1
	shift
	if [ -f "$dir/summary.json" ]; then
		echo "demo: $dir is a finished run; reusing it (delete it to train again)"
		return
	fi
	rm -rf "$dir"
	"$bin/dcwp-train" --dataset cmnist --data "$data" --conflict-pct 1 --preset quick --seed 0 --out "$dir" "$@"
}

# export RUN_DIR WHICH FORMAT: write RUN_DIR/export/WHICH.FORMAT.onnx and evaluate it.
export_eval() {
	local dir=$1 which=$2 format=$3
	local model="$dir/export/$which.$format.onnx"
	mkdir -p "$dir/export"
	"$bin/dcwp-export" --run "$dir" --which "$which" --format "$format" --out "$model" >/dev/null
	echo "demo: evaluating $model"
	if ! "$bin/dcwp-eval" --model "$model" --dataset cmnist --data "$data" --pct 1 --split test \
		--batch 256 --json "$model.eval.json" -q >"$model.eval.txt" 2>&1; then
		cat "$model.eval.txt" >&2
		exit 1
	fi
}

# compare RUN_DIR: the compact export computes what the dense one does.
compare() {
	local dir=$1
	if ! "$bin/dcwp-eval" compare --baseline "$dir/export/dcwp.dense.onnx" --candidate "$dir/export/dcwp.compact.onnx" \
		--dataset cmnist --data "$data" --allow-structure-change >"$dir/export/compare.txt" 2>&1; then
		echo "demo: the compact export does not compute what the dense one does: see $dir/export/compare.txt" >&2
		exit 1
	fi
	echo "demo: compact export computes what the dense one does (dcwp-eval compare, $dir/export/compare.txt)"
}

train "$run"
train "$channel" --mask-granularity channel --target-flops 0.5
for spec in vanilla:dense dcwp:dense dcwp:compact; do
	export_eval "$run" "${spec%%:*}" "${spec##*:}"
done
for format in dense compact; do
	export_eval "$channel" dcwp "$format"
done
compare "$run"
compare "$channel"

# One bench over every export the table shows, on the same test images: the timings are side
# by side, under the same load.
echo "demo: timing the exports in ONNX Runtime (batch 1 and 256)"
"$bin/dcwp-eval" bench --model "$run/export/vanilla.dense.onnx" --model "$run/export/dcwp.dense.onnx" \
	--model "$run/export/dcwp.compact.onnx" --model "$channel/export/dcwp.compact.onnx" \
	--dataset cmnist --data "$data" --pct 1 --split test --batch 1,256 --runs 500 --warmup 20 \
	--json "$run/export/bench.json" >"$run/export/bench.txt"

echo
go run ./tools/demo-summary "$run" "$channel"
echo "demo: finished in $(($(date +%s) - started)) s (load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
