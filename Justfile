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

# README command 2: every test
test: setup
    go vet ./...
    go test -count=1 -timeout 40m ./...

# the daily loop: tests of the packages that do not need libtorch
test-fast: setup
    go test -count=1 $(bash tools/packages.sh pure)

# the tests that need libtorch (the engine, the trainer, the benchmarks' own tests)
test-torch: setup
    go test -count=1 -timeout 40m $(bash tools/packages.sh torch)

# the gotch engine (-tags gotch) on PyPI's libtorch 2.1.0: its set-up (a copy of gotch's module under build/gotch, cgo flags rewritten; the first compile of gotch's C++ wrapper takes minutes and 2.5 GB), driver/torch's conformance suite, driver/optim, and a short dcwp-train mlp run on the test fixture
test-gotch: setup
    bash tools/setup-gotch.sh
    GOWORK="$PWD/build/gotch/go.work" go vet -tags gotch ./driver/torch ./cmd/dcwp-train
    GOWORK="$PWD/build/gotch/go.work" go test -tags gotch -count=1 ./driver/torch ./driver/optim
    GOWORK="$PWD/build/gotch/go.work" go test -tags gotch -count=1 -run TestEngineRecorded -v ./cmd/dcwp-train

# the engine conformance suite on every libtorch (tools/libtorch.sh list: debian 1.13.1, PyPI's 2.1.0 and 2.11.0) or on those named: shim, oracle tests, a short run
test-engines *libtorch: setup
    bash tools/setup.sh oracle
    bash tools/test-engines.sh {{libtorch}}

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

# engine vs Python PyTorch, same libtorch, same steps -> bench/engine.json
bench-engine: setup
    go run ./tools/bench-engine

# sparse vs dense file size, compact vs dense ONNX Runtime latency -> bench/export.json
bench-export: setup
    mkdir -p bench
    go run ./tools/bench-export -json bench/export.json

# ONNX Runtime throughput of exports vs the engine's own inference -> bench/eval.json
bench-eval *args: setup
    go run ./tools/bench-eval {{args}}

# whole --preset paper runs for mlp and cnn, each beside a plain-PyTorch reference of the same stages: time per stage, peak memory, speedups -> bench/train-<model>.json
bench-train: setup
    bash tools/bench-train.sh {{data}} {{runs}}/bench

# a one-node Slurm on this machine (munged, slurmctld, slurmd; slurm.conf for its cores and memory), for `dcwp-train sweep --launcher slurm`; idempotent
slurm-local:
    bash tools/setup.sh slurm
    bash tools/slurm-local.sh
