#!/usr/bin/env bash
# The engine conformance suite on every engine × libtorch combination (`list`), or on those
# named: for each, the engine's build on that libtorch, the engine's oracle tests (driver/torch,
# driver/optim, driver/loss, driver/model: ops and gradients against PyTorch of the same
# version, Adam to the last bit against its torch.optim, thread count, bf16 autocast) and a
# short end-to-end dcwp-train run (mlp, quick preset cut to a few dozen steps per stage,
# 2 threads) whose accuracies are printed side by side and whose config.json must name the
# engine and libtorch asked for. Each part's wall time is printed; a failure fails the whole.
#
# usage: tools/test-engines.sh [COMBO...]        (after tools/setup.sh pypi: it fetches the
#                                                 wheels and makes the oracle venvs it needs)
#        tools/test-engines.sh build [COMBO...]  only the builds: they need the wheels, not the oracles
#        tools/test-engines.sh list              every combination, one a line (tools/combo.sh)
# COMBO is ENGINE:LIBTORCH (shim:2.11.0, gotch:2.1.0) or a LIBTORCH name alone (the shim on it).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(./driver/torch ./driver/optim ./driver/loss ./driver/model)

cmd=all
case ${1:-} in
list) exec bash tools/combo.sh list ;;
build) cmd=build; shift ;;
esac
names=()
for c in "$@"; do names+=("$(bash tools/combo.sh name "$c")"); done
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(bash tools/combo.sh list)

since() { echo $(($(date +%s) - $1)); }
load() { cut -d' ' -f1-3 /proc/loadavg; }
t0=$(date +%s)
if [ "$cmd" = build ]; then
	rows=()
	for c in "${names[@]}"; do
		echo "== test-engines: build $c"
		t=$(date +%s)
		bash tools/libtorch.sh fetch "${c#*:}"
		bash tools/combo.sh build "$c"
		rows+=("$(printf '%-14s build %4s s' "$c" "$(since "$t")")")
	done
	echo "== test-engines: builds in $(since "$t0") s; load $(load)"
	printf '%s\n' "${rows[@]}"
	exit 0
fi

work=build/engines
data=$work/data
mkdir -p "$work" build/bin
go build -o build/bin/ ./cmd/dcwp-train
[ -d "$data/cmnist" ] || build/bin/dcwp-train data cmnist --out "$data" --pct 1 >/dev/null
echo "test-engines: Colored MNIST 1 % in $(since "$t0") s"

# A short protocol: every stage, a few dozen steps of batch 64, so the run shows the whole
# pipeline on that libtorch, not accuracies worth comparing (the mined set is tiny).
train=(--dataset cmnist --data "$data" --conflict-pct 1 --preset quick --model mlp --seed 0 --threads 2
	--batch-size 64 --mining-model-iters 60 --mining-model-step 30 --pretrain-iters 100 --prune-iters 60
	--finetune-iters 40 --eval-every 50 --checkpoint-every 50 --no-progress)
# The run's accuracies, once its config.json names the engine and libtorch release asked for.
summary='import json, sys
run, engine, version = sys.argv[1:]
c = json.load(open(run + "/config.json"))
if c.get("engine") != engine or c.get("libtorch", "").split("+")[0] != version:
    sys.exit("%s/config.json: engine %r, libtorch %r; asked for %s on %s" % (run, c.get("engine"), c.get("libtorch"), engine, version))
s = json.load(open(run + "/summary.json"))
print("vanilla %.2f %%, dcwp %.2f %%, mined p/r %.3f/%.3f" % (100*s["vanilla"]["test"]["accuracy"], 100*s["dcwp"]["test"]["accuracy"], s["mined"]["precision"], s["mined"]["recall"]))'
status=0
rows=()
for c in "${names[@]}"; do
	e=${c%%:*} v=${c#*:}
	echo "== test-engines: $e on libtorch $v"
	bash tools/libtorch.sh oracle "$v" # the wheel and its PyTorch: at once when there
	t=$(date +%s)
	build=ok
	bash tools/combo.sh build "$c" || build=FAIL
	secs_build=$(since "$t")
	tests=- secs_tests=- acc=- secs_run=-
	if [ "$build" = ok ]; then
		t=$(date +%s)
		tests=ok
		bash tools/combo.sh run "$c" go test -count=1 -timeout 20m "${pkgs[@]}" || { tests=FAIL; status=1; }
		secs_tests=$(since "$t")
		t=$(date +%s)
		run=$work/run-$e-${v//\//_}
		rm -rf "$run"
		if bash tools/combo.sh run "$c" "$(bash tools/combo.sh bin "$c")" "${train[@]}" --out "$run" >"$run.log" 2>&1; then
			acc=$(/usr/bin/python3 -c "$summary" "$run" "$e" "$(bash tools/libtorch.sh version "$v")" 2>&1) || { acc="run FAILED: $acc"; status=1; }
		else
			tail -n 20 "$run.log" >&2
			acc="run FAILED ($run.log)"
			status=1
		fi
		secs_run=$(since "$t")
	else
		status=1
	fi
	rows+=("$(printf '%-14s build %-4s %4s s  tests %-4s %4s s  run %4s s  %s' "$c" "$build" "$secs_build" "$tests" "$secs_tests" "$secs_run" "$acc")")
done
echo "== test-engines: $(since "$t0") s in all; load $(load)"
printf '%s\n' "${rows[@]}"
exit $status
