#!/usr/bin/env bash
# The engine × libtorch combinations, ENGINE:LIBTORCH: the one table the conformance suite
# (tools/test-engines.sh), the README's test command and the benchmarks loop over.
#
#   shim:NAME     the C++ shim (tools/build-shim.sh) on each libtorch tools/libtorch.sh pins
#   gotch:2.1.0   gotch v0.9.1 (go build -tags gotch, tools/setup-gotch.sh) on the one libtorch
#                 that release binds
#
# usage: tools/combo.sh list              every combination, one a line (the shim on debian first)
#        tools/combo.sh name COMBO        ENGINE:LIBTORCH (a LIBTORCH alone stands for the shim on it)
#        tools/combo.sh build COMBO       the engine's build on that libtorch and its dcwp-train
#                                         (build/bin/dcwp-train, build/bin/gotch/dcwp-train)
#        tools/combo.sh bin COMBO         the path of that dcwp-train
#        tools/combo.sh run COMBO CMD...  CMD on that combination, ENGINE set: for the shim,
#                                         tools/libtorch.sh run (that libtorch's shim, its PyTorch
#                                         as DCWP_TORCH_PYTHON); for gotch, libtorch.sh env (the
#                                         PyTorch) with GOWORK and GOFLAGS=-tags=gotch, so that
#                                         `go test`, `go run` and tools/bench-train.sh take it
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GOTCH_WORK=$ROOT/build/gotch/go.work

die() { printf 'combo: %s\n' "$*" >&2; exit 1; }

list() {
	bash tools/libtorch.sh list | sed 's/^/shim:/'
	echo gotch:2.1.0
}

# parse COMBO: sets engine and lib, refusing what the table lacks
parse() {
	case $1 in
	*:*) engine=${1%%:*} lib=${1#*:} ;;
	*) engine=shim lib=$1 ;;
	esac
	local all
	all=" $(list | tr '\n' ' ')"
	case $all in *" $engine:$lib "*) ;; *) die "unknown combination '$1': want one of$all" ;; esac
}

build_shim() { LIBTORCH=$1 bash tools/build-shim.sh && go build -o build/bin/ ./cmd/dcwp-train; }
bin_shim() { echo build/bin/dcwp-train; }
run_shim() { bash tools/libtorch.sh run "$@"; }
# The first build compiles gotch's C++ wrapper (-O0 -g0: about 80 s of CPU, 1.5 GB); later ones take Go's build cache.
build_gotch() {
	LIBTORCH=$(bash tools/libtorch.sh root "$1") bash tools/setup-gotch.sh
	env_gotch
	go build -o build/bin/gotch/ ./cmd/dcwp-train
	go vet ./driver/torch ./cmd/dcwp-train
}
bin_gotch() { echo build/bin/gotch/dcwp-train; }
# gotch links its libtorch through the rpath tools/setup-gotch.sh wrote: no shim to build or load
run_gotch() { env_gotch; bash tools/libtorch.sh env "$@"; }
env_gotch() {
	[ -e "$GOTCH_WORK" ] || die "gotch: no $GOTCH_WORK (tools/combo.sh build gotch:2.1.0, or tools/setup-gotch.sh)"
	export GOWORK=$GOTCH_WORK GOFLAGS="-tags=gotch${GOFLAGS:+ $GOFLAGS}"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
list) list ;;
name) parse "${1:?usage: tools/combo.sh name COMBO}"; echo "$engine:$lib" ;;
build) parse "${1:?usage: tools/combo.sh build COMBO}"; "build_$engine" "$lib" ;;
bin) parse "${1:?usage: tools/combo.sh bin COMBO}"; "bin_$engine" ;;
run)
	parse "${1:?usage: tools/combo.sh run COMBO CMD...}"
	shift
	ENGINE=$engine "run_$engine" "$lib" "$@"
	;;
*) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
