#!/usr/bin/env bash
# The libtorches the shim is built and tested against, and the one setting that picks one:
#
#   LIBTORCH=debian   Debian 12's libtorch-dev 1.13.1 (apt, tools/setup.sh): the default
#   LIBTORCH=2.1.0    PyTorch's wheel from PyPI (WHEELS below), its libtorch unpacked into
#   LIBTORCH=2.11.0     third_party/libtorch/<version>/{include,lib,share,version.py}
#   LIBTORCH=/path    any libtorch root with include/ and lib/ (a pip torch's package dir)
#
# The shim for one libtorch is build/lib/libdcwptorch.so for debian (where driver/torch's cgo
# flags point) and build/lib/<name>/libdcwptorch.so for the others. Every Go binary links
# libdcwptorch.so with a RUNPATH to build/lib, so LD_LIBRARY_PATH=build/lib/<name> makes the
# same binary load another libtorch: `run` does that (tests, dcwp-train, benchmarks alike).
#
# usage: tools/libtorch.sh list              the pinned names, debian first
#        tools/libtorch.sh fetch [NAME...]   download and unpack the pinned wheels (idempotent)
#        tools/libtorch.sh oracle [NAME...]  build/venv/<name>: that wheel's PyTorch for the
#                                            tests' Python oracle and the benchmarks' reference
#        tools/libtorch.sh root NAME         the libtorch root (include/, lib/)
#        tools/libtorch.sh version NAME      the version its headers declare (torch.Version())
#        tools/libtorch.sh shim-dir NAME     where tools/build-shim.sh puts its shim
#        tools/libtorch.sh python NAME       the PyTorch of the same version (the oracle)
#        tools/libtorch.sh run NAME CMD...   builds that shim if needed, runs CMD on it with
#                                            DCWP_TORCH_PYTHON and DCWP_LIBTORCH_VERSION set
#        tools/libtorch.sh env NAME CMD...   the same without the shim, for an engine that links
#                                            its libtorch itself (gotch, tools/combo.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TP=$ROOT/third_party/libtorch
WHEELS_DIR=$ROOT/third_party/wheels

# name  requirement  platform tag  sha256 (PyPI's file; pip checks it)
# A wheel's libtorch_cpu.so needs the CUDA runtime and CUPTI even on a CPU (the profiler links
# them); their wheels unpack to third_party/libtorch/nvidia/<dir>/lib, where the RPATH PyTorch
# gave libtorch_cpu.so ($ORIGIN/../../nvidia/...) finds them. Only those two libraries are
# unpacked; libtorch_cuda.so's other CUDA libraries are not downloaded, so builds here are CPU.
WHEELS=(
	"2.1.0 torch==2.1.0 manylinux1_x86_64 2224622407ca52611cbc5b628106fde22ed8e679031f5a99ce286629fc696128"
	"2.1.0 nvidia-cuda-runtime-cu12==12.1.105 manylinux1_x86_64 6e258468ddf5796e25f1dc591a31029fa317d97a0a94ed93468fc86301d61e40"
	"2.1.0 nvidia-cuda-cupti-cu12==12.1.105 manylinux1_x86_64 e54fde3983165c624cb79254ae9818a456eb6e87a7fd4d56a2352c24ee542d7e"
	"2.11.0 torch==2.11.0 manylinux_2_28_x86_64 7aa2f9bbc6d4595ba72138026b2074be1233186150e9292865e04b7a63b8c67a"
	"2.11.0 nvidia-cuda-runtime==13.0.96 manylinux_2_17_x86_64 7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548"
	"2.11.0 nvidia-cuda-cupti==13.0.85 manylinux_2_25_x86_64 4eb01c08e859bf924d222250d2e8f8b8ff6d3db4721288cf35d14252a4d933c8"
)
# What the oracle's venv installs beside its torch wheel: torchvision (the model tests) and
# numpy, pinned because PyTorch 2.1 was built against numpy 1 ("Numpy is not available" on 2).
ORACLE_EXTRA=(
	"2.1.0 torchvision==0.16.0 numpy==1.26.4"
	"2.11.0 torchvision==0.26.0 numpy==2.4.6"
)
PY_VERSION=3.11 # the wheels above are cp311, Debian 12's python3

say() { printf 'libtorch: %s\n' "$*"; }
die() { printf 'libtorch: %s\n' "$*" >&2; exit 1; }

names() {
	echo debian
	local w
	for w in "${WHEELS[@]}"; do echo "${w%% *}"; done | awk '!seen[$0]++'
}

pinned() { names | grep -qx -- "$1"; }

root_of() {
	case $1 in
	debian) echo /usr ;;
	/*) [ -d "$1/include" ] && [ -d "$1/lib" ] || die "$1 is no libtorch root (it needs include/ and lib/)"; echo "$1" ;;
	*) pinned "$1" || die "unknown libtorch '$1': want one of $(names | tr '\n' ' ')or a libtorch root path"; echo "$TP/$1" ;;
	esac
}

# the version a libtorch root's headers declare (what torch.Version() reports once built):
# torch/headeronly/version.h in recent releases (2.11), torch/csrc/api/include/torch/version.h in older
header_version() {
	local h v
	for h in "$1/include/torch/headeronly/version.h" "$1/include/torch/csrc/api/include/torch/version.h"; do
		[ -f "$h" ] || continue
		v=$(awk '$1 == "#define" && $2 ~ /^TORCH_VERSION_(MAJOR|MINOR|PATCH)$/ {v = v (v == "" ? "" : ".") $3} END {print v}' "$h")
		[ -n "$v" ] && { echo "$v"; return; }
	done
	die "no TORCH_VERSION_MAJOR/MINOR/PATCH in $1/include/torch"
}

shim_dir() {
	case $1 in
	debian) echo "$ROOT/build/lib" ;;
	/*) echo "$ROOT/build/lib/local-$(header_version "$1")" ;;
	*) root_of "$1" >/dev/null; echo "$ROOT/build/lib/$1" ;;
	esac
}

python_of() {
	case $1 in
	debian) echo /usr/bin/python3 ;;
	/*) command -v "${PYTHON:-python3}" || die "no Python '${PYTHON:-python3}' for the oracle of $1 (set PYTHON)" ;;
	*) root_of "$1" >/dev/null; echo "$ROOT/build/venv/$1/bin/python" ;;
	esac
}

mib() { du -sm "$@" | awk '{s += $1} END {print s " MiB"}'; }

# download NAME REQ PLATFORM SHA256: pip fetches the one pinned file (hash-checked) into
# third_party/wheels; a file already there is checked against the hash and kept.
download() {
	local req=$2 platform=$3 sha=$4 tmp
	tmp=$(mktemp)
	echo "$req --hash=sha256:$sha" >"$tmp"
	mkdir -p "$WHEELS_DIR"
	/usr/bin/python3 -m pip download -q --no-cache-dir --no-deps --only-binary=:all: --platform "$platform" --python-version "$PY_VERSION" \
		--require-hashes -r "$tmp" -d "$WHEELS_DIR" >&2 || { rm -f "$tmp"; die "pip could not download $req ($platform)"; }
	rm -f "$tmp"
	wheel_file "$req"
}

wheel_file() {
	local name=${1%%==*} ver=${1##*==} f
	f=$(ls "$WHEELS_DIR/${name//-/_}-$ver-"*.whl 2>/dev/null | head -1)
	[ -n "$f" ] || die "no wheel for $1 in $WHEELS_DIR"
	echo "$f"
}

missing_libs() { ldd "$1/lib/libtorch_cpu.so" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' '; }

fetch_one() {
	local v=$1 dir=$TP/$1 w name req platform sha f tmp
	[ "$v" != debian ] || { say "debian: Debian's libtorch-dev (the apt step)"; return; }
	pinned "$v" || die "unknown libtorch '$v': want one of $(names | tr '\n' ' ')"
	for w in "${WHEELS[@]}"; do
		read -r name req platform sha <<<"$w"
		[ "$name" = "$v" ] || continue
		case $req in
		torch==*)
			if [ -f "$dir/version.py" ]; then
				say "$v: present in third_party/libtorch/$v ($(mib "$dir"))"
				continue
			fi
			f=$(download "$v" "$req" "$platform" "$sha")
			say "$v: unpacking include, lib, share, version.py of $(basename "$f") ($(mib "$f"))"
			tmp=$(mktemp -d "$TP.tmp.XXXXXX")
			unzip -q "$f" 'torch/include/*' 'torch/lib/*' 'torch/share/*' torch/version.py -d "$tmp"
			mkdir -p "$TP"
			mv "$tmp/torch" "$dir"
			rm -rf "$tmp"
			say "$v: third_party/libtorch/$v ($(mib "$dir"))"
			;;
		*)
			[ -n "$(missing_libs "$dir")" ] || continue
			f=$(download "$v" "$req" "$platform" "$sha")
			say "$v: unpacking libcudart/libcupti of $(basename "$f") ($(mib "$f")) into third_party/libtorch/nvidia"
			# shellcheck disable=SC2046 # one name a line, no spaces in wheel paths
			unzip -q -o "$f" $(unzip -Z1 "$f" | grep -E '^nvidia/[^/]+/lib/lib(cudart|cupti)\.so\.[0-9]+$') -d "$TP"
			rm -f "$f"
			;;
		esac
	done
	local miss
	miss=$(missing_libs "$dir")
	[ -z "$miss" ] || die "$v: libtorch_cpu.so still misses $miss(see ldd $dir/lib/libtorch_cpu.so)"
}

oracle_one() {
	local v=$1 venv=$ROOT/build/venv/$1 extra="" w name reqs whl site deps
	[ "$v" != debian ] || { say "debian: the oracle is Debian's python3-torch (the apt step)"; return; }
	pinned "$v" || die "unknown libtorch '$v'"
	for w in "${ORACLE_EXTRA[@]}"; do
		read -r name reqs <<<"$w"
		[ "$name" = "$v" ] && extra="$extra $reqs"
	done
	# present when every pin is what the venv has (torch's version carries its build: +cu121)
	if "$venv/bin/python" - "torch==$v" $extra 2>/dev/null <<-'PY'; then
		import importlib.metadata as m, sys
		sys.exit(any(m.version(n).split("+")[0] != want for n, want in (r.split("==") for r in sys.argv[1:])))
	PY
		say "$v: oracle PyTorch present in build/venv/$v ($(mib "$venv"))"
		return
	fi
	fetch_one "$v"
	whl=$(torch_wheel "$v")
	say "$v: oracle PyTorch into build/venv/$v: its torch wheel,$extra and torch's PyPI dependencies but triton"
	rm -rf "$venv"
	/usr/bin/python3 -m venv "$venv"
	# No pip cache (it would hold every wheel a second time), and no triton: it only compiles
	# (torch.compile), and its 0.3 to 0.6 GiB are what a CPU oracle never loads.
	# torch and the pins go in without their dependencies first: asked for torchvision, pip
	# would resolve its pin on torch and with it torch's dependencies again, triton too. Then
	# their dependencies, from their own metadata, less triton and torch.
	local pip=("$venv/bin/python" -m pip install -q --no-cache-dir --only-binary=:all:)
	# shellcheck disable=SC2086 # extra is a list of requirements
	"${pip[@]}" --no-deps "$whl" $extra
	mapfile -t deps < <(requirements "$venv" torch $(for r in $extra; do echo "${r%%==*}"; done))
	"${pip[@]}" "${deps[@]}"
	site=$(echo "$venv"/lib/python3*/site-packages)
	prune_cuda "$site"
	share_files "$TP/$v" "$site/torch"
	"$venv/bin/python" -c "import torch; torch.manual_seed(0); print('libtorch: $v: oracle', torch.__version__, float(torch.ones(2).sum()))"
	# Both the libtorch and the venv are made from the wheel now; it would only take room.
	rm -f "$whl"
	say "$v: build/venv/$v ($(mib "$venv")); removed $(basename "$whl")"
}

# share_files FROM TO: every file of FROM that TO holds too, byte for byte, becomes one file
# with two names (a hard link), so the venv's torch and third_party/libtorch, both unpacked
# from the one wheel, take its 1-1.3 GiB of libraries once. The paths stay as they were, so
# the libraries' $ORIGIN RPATHs still find the venv's CUDA libraries.
share_files() {
	local from=$1 to=$2 f n=0
	[ "$(stat -c %d "$from")" = "$(stat -c %d "$to")" ] || { say "oracle: $to is on another file system than $from: not shared"; return 0; }
	while IFS= read -r f; do
		[ -f "$to/$f" ] && cmp -s "$from/$f" "$to/$f" || continue
		ln -f "$from/$f" "$to/$f" && n=$((n + 1))
	done < <(cd "$from" && find . -type f)
	say "oracle: $n files of $to shared with $from (hard links)"
}

# torch_wheel NAME: the pinned torch wheel's file, downloaded (hash-checked) when not there
torch_wheel() {
	local w name req platform sha
	for w in "${WHEELS[@]}"; do
		read -r name req platform sha <<<"$w"
		[ "$name" = "$1" ] && [[ $req == torch==* ]] && { download "$name" "$req" "$platform" "$sha"; return; }
	done
	die "no torch wheel pinned for $1"
}

# requirements VENV NAME...: what the named installed distributions require (their
# Requires-Dist, with environment markers), one a line, less triton, torch itself and the
# optional extras
requirements() {
	local venv=$1
	shift
	"$venv/bin/python" - "$@" <<-'PY' || die "cannot read the requirements of $* in $venv"
		import importlib.metadata as m, re, sys
		for name in sys.argv[1:]:
		    for r in m.requires(name) or []:
		        if "extra ==" not in r and re.match(r"(triton|torch)\b(?![-_])", r) is None:
		            print(r)
	PY
}

# prune_cuda SITE: deletes the CUDA libraries of the venv's nvidia-* packages that importing
# torch does not load. The pip packages ship whole toolkits (cuDNN's kernels alone are 1.1 GiB
# for 2.1.0); a CPU oracle needs only what the dynamic linker resolves for torch's extension and
# global deps, which ldd lists. The libraries kept are PyPI's files, unchanged.
prune_cuda() {
	local site=$1 keep f n=0
	[ -d "$site/nvidia" ] || return 0
	keep=$(ldd "$site"/torch/_C*.so "$site/torch/lib/libtorch_global_deps.so" |
		awk '$2 == "=>" && $3 ~ /^\// {print $3}' | xargs -r realpath | sort -u)
	while IFS= read -r f; do
		grep -qxF "$(realpath "$f")" <<<"$keep" && continue
		rm -f "$f"
		n=$((n + 1))
	done < <(find "$site/nvidia" -name '*.so*' \( -type f -o -type l \))
	say "oracle: pruned $n CUDA libraries that importing torch does not load (kept $(grep -c /nvidia/ <<<"$keep"))"
}

run_on() {
	local v=$1
	shift
	[ $# -gt 0 ] || die "run $v: no command"
	LIBTORCH=$v bash tools/build-shim.sh >&2
	local dir
	dir=$(shim_dir "$v")
	LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" env_on "$v" "$@"
}

# env_on NAME CMD...: CMD with that version's PyTorch and version, for an engine that links its
# libtorch itself (gotch) and needs no shim
env_on() {
	local v=$1 py ver
	shift
	[ $# -gt 0 ] || die "env $v: no command"
	py=$(python_of "$v")
	# dcwp-train and the benchmarks' Go side need no Python; the oracle tests do, and fail
	# naming this path when it is missing.
	[ -x "$py" ] || say "$v: no oracle Python at $py yet (tests and references need it: tools/libtorch.sh oracle $v)" >&2
	ver=$(header_version "$(root_of "$v")")
	DCWP_TORCH_PYTHON="$py" DCWP_LIBTORCH_VERSION="$ver" "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
list) names ;;
fetch) [ $# -gt 0 ] || set -- $(names); for v in "$@"; do fetch_one "$v"; done ;;
oracle) [ $# -gt 0 ] || set -- $(names); for v in "$@"; do oracle_one "$v"; done ;;
root) root_of "${1:?usage: tools/libtorch.sh root NAME}" ;;
version) header_version "$(root_of "${1:?usage: tools/libtorch.sh version NAME}")" ;;
shim-dir) shim_dir "${1:?usage: tools/libtorch.sh shim-dir NAME}" ;;
python) python_of "${1:?usage: tools/libtorch.sh python NAME}" ;;
run) run_on "${1:?usage: tools/libtorch.sh run NAME CMD...}" "${@:2}" ;;
env) env_on "${1:?usage: tools/libtorch.sh env NAME CMD...}" "${@:2}" ;;
*) sed -n '2,25p' "$0" >&2; exit 2 ;;
esac
