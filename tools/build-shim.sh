#!/usr/bin/env bash
# Builds build/lib/libdcwptorch.so, the C ABI shim over libtorch that Go
# package driver/torch links against.
#
#   TORCH_PREFIX  libtorch root (has include/ and lib/), e.g. a pip torch
#                 package dir; default: Debian's libtorch-dev layout.
#   OUT           output dir (default build/lib under the repo root).
#   CXX           C++ compiler (default g++, then c++, then clang++).
#   TORCH_CXX11_ABI  0/1 to force _GLIBCXX_USE_CXX11_ABI (default: ask the
#                 python torch of that prefix, else 1).
#   CXX_STD       C++ standard (default c++17, what libtorch 1.13 to 2.x headers ask for).
#   FORCE=1       rebuild even when up to date.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/driver/torch/shim"
out="${OUT:-$root/build/lib}"
lib="$out/libdcwptorch.so"

pick_cxx() {
  for c in "${CXX:-}" g++ c++ clang++; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { echo "$c"; return; }
  done
  echo "build-shim: no C++ compiler (g++/c++/clang++) found" >&2
  exit 1
}

if [ -n "${TORCH_PREFIX:-}" ]; then
  incs=(-I"$TORCH_PREFIX/include" -I"$TORCH_PREFIX/include/torch/csrc/api/include")
  libdir="$TORCH_PREFIX/lib"
else
  hdr="$(dpkg -L libtorch-dev 2>/dev/null | grep -m1 '/torch/csrc/api/include/torch/torch.h$' || true)"
  [ -n "$hdr" ] || { echo "build-shim: set TORCH_PREFIX or install Debian's libtorch-dev" >&2; exit 1; }
  api="${hdr%/torch/torch.h}"
  incs=(-I"${api%/torch/csrc/api/include}" -I"$api")
  libdir="$(dirname "$(dpkg -L libtorch-dev | grep -m1 '/libtorch\.so$')")"
fi
[ -e "$libdir/libtorch.so" ] || { echo "build-shim: no libtorch.so in $libdir" >&2; exit 1; }

abi="${TORCH_CXX11_ABI:-}"
if [ -z "$abi" ]; then
  py="${PYTHON:-python3}"
  [ -z "${TORCH_PREFIX:-}" ] && py=/usr/bin/python3
  abi="$("$py" -c 'import torch;print(int(torch.compiled_with_cxx11_abi()))' 2>/dev/null || echo 1)"
fi

libs=(-L"$libdir" -Wl,-rpath,"$libdir" -ltorch -ltorch_cpu -lc10)
defs=(-D_GLIBCXX_USE_CXX11_ABI="$abi")
if [ -e "$libdir/libtorch_cuda.so" ]; then
  # --no-as-needed: nothing references libtorch_cuda directly, yet loading it
  # is what registers the CUDA backend.
  defs+=(-DDT_WITH_CUDA=1)
  libs+=(-Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed)
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
echo "build-shim: $cxx -> $lib (libtorch in $libdir, cxx11 abi $abi)"
# -Wno-*: libtorch 1.13 headers are noisy under GCC 12.
"$cxx" -std="$std" -O2 -fPIC -shared -Wall -Wno-unused-parameter -Wno-deprecated-declarations \
  "${defs[@]}" "${incs[@]}" -o "$lib.tmp" "$src/shim.cpp" "${libs[@]}"
mv "$lib.tmp" "$lib"
echo "$flags" > "$stamp"
