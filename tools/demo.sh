#!/usr/bin/env bash
# The README demo after set-up and data: train (quick preset), export the vanilla network and the
# DCWP subnetwork, evaluate every export in ONNX Runtime, and print one summary table.
# Usage: tools/demo.sh DATA_ROOT RUN_DIR
set -euo pipefail
data=$1
run=$2
bin=build/bin
started=$(date +%s)

if [ -f "$run/summary.json" ]; then
	echo "demo: $run is a finished run; reusing it (delete it to train again)"
else
	rm -rf "$run"
	"$bin/dcwp-train" --dataset cmnist --data "$data" --conflict-pct 1 --preset quick --seed 0 --out "$run"
fi

mkdir -p "$run/export"
for spec in vanilla:dense dcwp:dense dcwp:compact; do
	which=${spec%%:*}
	format=${spec##*:}
	model="$run/export/$which.$format.onnx"
	"$bin/dcwp-export" --run "$run" --which "$which" --format "$format" --out "$model" >/dev/null
	echo "demo: evaluating $model"
	if ! "$bin/dcwp-eval" --model "$model" --dataset cmnist --data "$data" --pct 1 --split test \
		--batch 256 --json "$model.eval.json" -q >"$model.eval.txt" 2>&1; then
		cat "$model.eval.txt" >&2
		exit 1
	fi
done
if ! "$bin/dcwp-eval" compare --baseline "$run/export/dcwp.dense.onnx" --candidate "$run/export/dcwp.compact.onnx" \
	--dataset cmnist --data "$data" --allow-structure-change >"$run/export/compare.txt" 2>&1; then
	echo "demo: the compact export does not compute what the dense one does: see $run/export/compare.txt" >&2
	exit 1
fi
echo "demo: compact export computes what the dense one does (dcwp-eval compare, $run/export/compare.txt)"

echo
go run ./tools/demo-summary "$run"
echo "demo: finished in $(($(date +%s) - started)) s"
