# dcwp-go tasks. `tools/just` runs this file even before `just` is installed.

data := env_var_or_default("DCWP_DATA", "data")
runs := env_var_or_default("DCWP_RUNS", "runs")

# list recipes
default:
    @just --list

# install everything (idempotent: seconds when all is there) and build the binaries
setup:
    bash tools/setup.sh

# README command 1: set up, build Colored MNIST, train (quick), export, evaluate, summarise
demo: setup
    build/bin/dcwp-train data cmnist --out {{data}} --pct 1
    bash tools/demo.sh {{data}} {{runs}}/demo

# README command 2: every test
test: setup
    go vet ./...
    go test -count=1 -timeout 30m ./...

# Colored MNIST, all four conflict shares
data-cmnist: setup
    build/bin/dcwp-train data cmnist --out {{data}}
