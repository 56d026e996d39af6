#!/usr/bin/env bash
# Builds libdcwptorch.so, the C ABI shim over libtorch that Go package driver/torch links.
#
#   LIBTORCH   which libtorch (one setting; tools/libtorch.sh lists them):
#                debian (default)   Debian's libtorch-dev 1.13.1 -> build/lib/libdcwptorch.so,
#                                   where driver/torch's cgo flags point
#                2.1.0 | 2.11.0     PyPI's wheel, unpacked by `tools/setup.sh libtorch`
#                                   -> build/lib/<version>/libdcwptorch.so
#                /path              a libtorch root with include/ and lib/, e.g. a pip torch's
#                                   package dir -> build/lib/local-<version>/libdcwptorch.so
#   SHIM_DIR   output dir instead of the one above (its own name: OUT, which other scripts
#              take, would leak into a shim build they start).
#   CXX        C++ compiler (default g++, then c++, then clang++).
#   TORCH_CXX11_ABI  0/1 to force _GLIBCXX_USE_CXX11_ABI (default: read from libc10.so's
#              symbols: PyPI's 2.1.0 wheel is 0, Debian's and PyPI's 2.11.0 are 1).
#   TORCH_CUDA 0/1 to force a CPU or CUDA build (default: CUDA when libtorch_cuda.so is there
#              and every library it needs loads; a wheel unpacked here has no CUDA libraries).
#   CXX_STD    C++ standard (default c++17, what libtorch 1.13 to 2.11 headers ask for).
#   FORCE=1    rebuild even when up to date.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/driver/torch/shim"
which="${LIBTORCH:-debian}"
out="${SHIM_DIR:-$(bash "$root/tools/libtorch.sh" shim-dir "$which")}"
lib="$out/libdcwptorch.so"
die() { echo "build-shim: $*" >&2; exit 1; }

pick_cxx() {
  for c in "${CXX:-}" g++ c++ clang++; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { echo "$c"; return; }
  done
  die "no C++ compiler (g++/c++/clang++) found"
}

if [ "$which" = debian ]; then
  hdr="$(dpkg -L libtorch-dev 2>/dev/null | grep -m1 '/torch/csrc/api/include/torch/torch.h$' || true)"
  [ -n "$hdr" ] || die "LIBTORCH=debian needs Debian's libtorch-dev (tools/setup.sh apt); or set LIBTORCH (tools/libtorch.sh list)"
  api="${hdr%/torch/torch.h}"
  incs=(-I"${api%/torch/csrc/api/include}" -I"$api")
  libdir="$(dirname "$(dpkg -L libtorch-dev | grep -m1 '/libtorch\.so$')")"
else
  prefix="$(bash "$root/tools/libtorch.sh" root "$which")"
  [ -e "$prefix/include/torch/csrc/api/include/torch/torch.h" ] \
    || die "LIBTORCH=$which: no libtorch headers in $prefix (run: tools/setup.sh libtorch)"
  incs=(-I"$prefix/include" -I"$prefix/include/torch/csrc/api/include")
  libdir="$prefix/lib"
fi
for l in libtorch_cpu.so libc10.so; do
  [ -e "$libdir/$l" ] || die "LIBTORCH=$which: no $l in $libdir"
done

# The ABI is a fact of the binary: c10's torchCheckFail takes a std::string, mangled with
# __cxx11 under the new ABI and as Ss under the old one.
abi="${TORCH_CXX11_ABI:-}"
if [ -z "$abi" ]; then
  syms="$(nm -D --defined-only "$libdir/libc10.so" | grep '_ZN3c106detail14torchCheckFail' || true)"
  case $syms in
    *__cxx11*) abi=1 ;;
    *RKSs*) abi=0 ;;
    *) die "cannot tell the C++ ABI of $libdir/libc10.so (no c10::detail::torchCheckFail); set TORCH_CXX11_ABI=0 or 1" ;;
  esac
fi

# By path, not -l: a -L directory that is missing (or vanishes mid-build) would let the linker
# take the system's libtorch instead, a shim built on one libtorch's headers and another's code.
libs=(-Wl,-rpath,"$libdir" "$libdir/libtorch_cpu.so" "$libdir/libc10.so")
defs=(-D_GLIBCXX_USE_CXX11_ABI="$abi")
cuda="${TORCH_CUDA:-}"
if [ -z "$cuda" ]; then
  cuda=0
  if [ -e "$libdir/libtorch_cuda.so" ]; then
    miss="$(ldd "$libdir/libtorch_cuda.so" | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')"
    if [ -z "$miss" ]; then cuda=1; else echo "build-shim: CPU build: libtorch_cuda.so is there but cannot load without ${miss}"; fi
  fi
fi
if [ "$cuda" = 1 ]; then
  [ -e "$libdir/libtorch_cuda.so" ] || die "TORCH_CUDA=1, but $libdir has no libtorch_cuda.so (a CPU libtorch)"
  miss="$(ldd "$libdir/libtorch_cuda.so" | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')"
  [ -z "$miss" ] || die "TORCH_CUDA=1, but libtorch_cuda.so cannot load without ${miss}(PyTorch's nvidia-* pip packages)"
  # --no-as-needed: nothing references libtorch_cuda directly, yet loading it
  # is what registers the CUDA backend.
  defs+=(-DDT_WITH_CUDA=1)
  libs+=(-Wl,--no-as-needed "$libdir/libtorch_cuda.so" "$libdir/libc10_cuda.so" -Wl,--as-needed)
fi

stamp="$out/.build-flags"
std="${CXX_STD:-c++17}"
flags="$(pick_cxx)${CXX_STD:+ -std=$std} ${incs[*]} ${defs[*]} ${libs[*]}"
if [ -z "${FORCE:-}" ] && [ -e "$lib" ] && [ "$lib" -nt "$src/shim.cpp" ] && [ "$lib" -nt "$src/shim.h" ] \
  && [ "$lib" -nt "$0" ] && [ -e "$stamp" ] && [ "$(cat "$stamp")" = "$flags" ]; then
  echo "build-shim: $lib is up to date"
  exit 0
fi

mkdir -p "$out"
cxx="$(pick_cxx)"
echo "build-shim: $cxx -> $lib (LIBTORCH=$which: $libdir, cxx11 abi $abi, cuda $cuda)"
start=$(date +%s)
# -Wno-*: libtorch 1.13 headers are noisy under GCC 12.
"$cxx" -std="$std" -O2 -fPIC -shared -Wall -Wno-unused-parameter -Wno-deprecated-declarations \
  "${defs[@]}" "${incs[@]}" -o "$lib.tmp" "$src/shim.cpp" "${libs[@]}"
# The loader must find this libtorch's libraries through the RUNPATH, not another's.
for l in libtorch_cpu libc10; do
  got="$(ldd "$lib.tmp" | awk -v l="$l" '$1 ~ "^" l "\\.so" {print $3}')"
  [ "$(dirname "$(realpath "$got" 2>/dev/null || echo "$got")")" = "$(realpath "$libdir")" ] \
    || die "$lib.tmp loads $l from '$got', not from $libdir"
done
mv "$lib.tmp" "$lib"
echo "$flags" > "$stamp"
echo "build-shim: built in $(($(date +%s) - start)) s"
