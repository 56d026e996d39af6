#!/usr/bin/env bash
# The engine conformance suite on every libtorch (tools/libtorch.sh list), or on those named:
# for each, the shim built on it, the engine's oracle tests (driver/torch, driver/optim,
# driver/loss, driver/model: ops and gradients against PyTorch of the same version, Adam to
# the last bit against its torch.optim, thread count, bf16 autocast) and a short end-to-end
# dcwp-train run (mlp, quick preset cut to a few dozen steps per stage, 2 threads) whose
# accuracies are printed side by side. Each part's wall time is printed; a failure fails the whole.
#
# usage: tools/test-engines.sh [NAME...]     (after tools/setup.sh libtorch oracle)
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(bash tools/libtorch.sh list)
pkgs=(./driver/torch ./driver/optim ./driver/loss ./driver/model)
work=build/engines
data=$work/data
mkdir -p "$work" build/bin

t0=$(date +%s)
since() { echo $(($(date +%s) - $1)); }
go build -o build/bin/ ./cmd/dcwp-train
[ -d "$data/cmnist" ] || build/bin/dcwp-train data cmnist --out "$data" --pct 1 >/dev/null
echo "test-engines: dcwp-train and Colored MNIST 1 % in $(since "$t0") s"

# A short protocol: every stage, a few dozen steps of batch 64, so the run shows the whole
# pipeline on that libtorch, not accuracies worth comparing (the mined set is tiny).
train=(--dataset cmnist --data "$data" --conflict-pct 1 --preset quick --model mlp --seed 0 --threads 2
	--batch-size 64 --mining-model-iters 60 --mining-model-step 30 --pretrain-iters 100 --prune-iters 60
	--finetune-iters 40 --eval-every 50 --checkpoint-every 50 --no-progress)
status=0
rows=()
for v in "${names[@]}"; do
	echo "== test-engines: libtorch $v"
	t=$(date +%s)
	LIBTORCH=$v bash tools/build-shim.sh
	shim=$(since "$t")
	t=$(date +%s)
	tests=ok
	bash tools/libtorch.sh run "$v" go test -count=1 -timeout 20m "${pkgs[@]}" || { tests=FAIL; status=1; }
	secs=$(since "$t")
	t=$(date +%s)
	run=$work/run-${v//\//_}
	rm -rf "$run"
	acc="-"
	if bash tools/libtorch.sh run "$v" build/bin/dcwp-train "${train[@]}" --out "$run" >"$run.log" 2>&1; then
		acc=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
print("vanilla %.2f %%, dcwp %.2f %%, mined p/r %.3f/%.3f" % (100*s["vanilla"]["test"]["accuracy"], 100*s["dcwp"]["test"]["accuracy"], s["mined"]["precision"], s["mined"]["recall"]))' "$run/summary.json")
	else
		tail -n 20 "$run.log" >&2
		acc="run FAILED ($run.log)"
		status=1
	fi
	rows+=("$(printf '%-10s shim %4s s  tests %-4s %5s s  run %4s s  %s' "$v" "$shim" "$tests" "$secs" "$(since "$t")" "$acc")")
done
echo "== test-engines: $(since "$t0") s in all; load: $(uptime | sed 's/.*load average: //')"
printf '%s\n' "${rows[@]}"
exit $status
