# dcwp-go tasks. `tools/just` runs this file even before `just` is installed.

data := env_var_or_default("DCWP_DATA", "data")
runs := env_var_or_default("DCWP_RUNS", "runs")

# list recipes
default:
    @just --list

# install everything (idempotent: seconds when all is there) and build the binaries
setup:
    bash tools/setup.sh

# README command 1: set up, build Colored MNIST 1 %, train (quick), export, evaluate, summarise
demo: setup
    build/bin/dcwp-train data cmnist --out {{data}} --pct 1
    bash tools/demo.sh {{data}} {{runs}}/demo

# README command 2: every test on every engine × libtorch (tools/test-all.sh: the set-up, vet, every package on the shim × Debian's 1.13.1, then the conformance suite of shim × 2.1.0, shim × 2.11.0 and gotch × 2.1.0, PyPI's downloads in the background from the start), and a table of each part's wall time
test:
    bash tools/test-all.sh

# the daily loop: tests of the packages that do not need libtorch
test-fast: setup
    go test -count=1 $(bash tools/packages.sh pure)

# the tests that need libtorch (the engine, the trainer, the benchmarks' own tests)
test-torch: setup
    go test -count=1 -timeout 40m $(bash tools/packages.sh torch)

# the gotch engine (-tags gotch) on PyPI's libtorch 2.1.0: its set-up (a copy of gotch's module under build/gotch, cgo flags rewritten; the first compile of gotch's C++ wrapper takes about 80 s of CPU and 1.5 GB), the conformance suite and a short dcwp-train run, as test-engines gotch:2.1.0
test-gotch: setup
    bash tools/setup.sh pypi
    bash tools/test-engines.sh gotch:2.1.0

# the engine conformance suite on every engine × libtorch (tools/combo.sh list: shim on debian 1.13.1, PyPI's 2.1.0 and 2.11.0; gotch on 2.1.0) or on those named (gotch:2.1.0, or a libtorch alone for the shim): the build, the oracle tests, a short run; downloads the wheels and oracle venvs it needs
test-engines *combos: setup
    bash tools/setup.sh pypi
    bash tools/test-engines.sh {{combos}}

# rewrite the exported graphs' golden files from the current exporter; review the diff
golden:
    go test ./exporter -run TestGolden -update
    git status --short -- exporter/testdata

# gofmt, go vet and staticcheck (from the Go module proxy)
lint:
    @test -z "$(gofmt -l $(git ls-files '*.go'))" || { gofmt -l $(git ls-files '*.go'); echo "gofmt: the files above need formatting"; exit 1; }
    go vet ./...
    go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# regenerate the ONNX protobuf code (onnx/onnxpb) with Debian's protoc and protoc-gen-go
generate:
    bash tools/setup.sh protoc
    PATH="$PWD/build/tools/bin:$PATH" go generate ./onnx/onnxpb

# Colored MNIST, all four conflict shares, test and valid splits
data-cmnist: setup
    build/bin/dcwp-train data cmnist --out {{data}}

# export one network of a run: just export runs/demo demo.onnx compact
export run out="model.onnx" format="dense": setup
    build/bin/dcwp-export --run {{run}} --out {{out}} --format {{format}}

# evaluate an export on the Colored MNIST test split (report JSON next to it)
eval model pct="1": setup
    build/bin/dcwp-eval --model {{model}} --dataset cmnist --data {{data}} --pct {{pct}} --split test --batch 256,1,64 --json {{model}}.eval.json

# CI gate for deployers: the compact export must compute what the dense one does
compare-exports dense compact: setup
    build/bin/dcwp-eval compare --baseline {{dense}} --candidate {{compact}} --dataset cmnist --data {{data}} --allow-structure-change

# engine vs Python PyTorch, same libtorch, same steps, on one engine × libtorch (tools/combo.sh list; default the shim on Debian's 1.13.1) -> bench/engine.json, bench/<engine>-<libtorch>/engine.json for the others; args go to bench-engine (-models mlp,cnn -rounds 2)
bench-engine combo="shim:debian" *args: setup
    bash tools/setup.sh pypi
    bash tools/bench-combo.sh {{combo}} engine {{args}}

# sparse vs dense file size, compact vs dense ONNX Runtime latency -> bench/export.json
bench-export: setup
    mkdir -p bench
    go run ./tools/bench-export -json bench/export.json

# ONNX Runtime throughput of exports vs the engine's own inference -> bench/eval.json
bench-eval *args: setup
    go run ./tools/bench-eval {{args}}

# whole --preset paper runs for mlp and cnn, each beside a plain-PyTorch reference of the same stages and version, on one engine × libtorch (tools/combo.sh list; default the shim on Debian's 1.13.1): time per stage, peak memory, speedups -> bench/train-<model>.json, bench/<engine>-<libtorch>/ for the others (MODELS, THREADS, PRECISION, ARGS: tools/bench-train.sh)
bench-train combo="shim:debian": setup
    bash tools/setup.sh pypi
    bash tools/bench-combo.sh {{combo}} train {{data}} {{runs}}

# a one-node Slurm on this machine (munged, slurmctld, slurmd; slurm.conf for its cores and memory), for `dcwp-train sweep --launcher slurm`; idempotent
slurm-local:
    bash tools/setup.sh slurm
    bash tools/slurm-local.sh
