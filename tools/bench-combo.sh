#!/usr/bin/env bash
# bench-engine and bench-train on one engine × libtorch combination (tools/combo.sh list), each
# beside the plain PyTorch of that libtorch (its oracle venv, made here if missing). Reports go
# to bench/ for the default combination (shim:debian) and to bench/<engine>-<libtorch>/ for the
# others, the runs to RUNS_ROOT/bench and RUNS_ROOT/bench-<engine>-<libtorch>, so the
# combinations' figures sit side by side.
#
# usage: tools/bench-combo.sh COMBO engine [bench-engine flags]      (-models mlp,cnn -rounds 2)
#        tools/bench-combo.sh COMBO train [DATA_ROOT [RUNS_ROOT]]     (default data, runs;
#               tools/bench-train.sh's settings from the environment: MODELS, THREADS, ARGS, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
combo=$(bash tools/combo.sh name "${1:?usage: tools/bench-combo.sh COMBO engine|train ...}")
what=${2:?usage: tools/bench-combo.sh COMBO engine|train ...}
shift 2
lib=${combo#*:}
suffix=""
[ "$combo" = shim:debian ] || suffix=-${combo/:/-}
out=bench${suffix:+/${suffix#-}}
# its wheel and PyTorch, at once when there (after tools/setup.sh pypi, which the recipes run)
[ "$lib" = debian ] || bash tools/libtorch.sh oracle "$lib"
bash tools/combo.sh build "$combo"
mkdir -p "$out"
case $what in
engine) exec bash tools/combo.sh run "$combo" go run ./tools/bench-engine -out "$out/engine.json" "$@" ;;
train) REPORT_DIR=${REPORT_DIR:-$out} exec bash tools/combo.sh run "$combo" bash tools/bench-train.sh "${1:-data}" "${2:-runs}/bench$suffix" ;;
*) echo "bench-combo: '$what': want engine or train" >&2; exit 2 ;;
esac
