#!/usr/bin/env bash
# Prints the packages whose tests need libtorch (`torch`) or those that do not
# (`pure`), so the daily loop can run the pure-Go tests alone. A package needs
# libtorch when it or its test binary depends on driver/torch, or when its tests
# build cmd/dcwp-train to run it.
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:?usage: tools/packages.sh pure|torch}
case $want in pure | torch) ;; *) echo "tools/packages.sh: want pure or torch, got $want" >&2; exit 2 ;; esac
torch=github.com/dcwp-go/dcwp/driver/torch
# -test adds each package's test variant, whose deps include the test imports.
# A test variant's import path reads "pkg [pkg.test]"; both count as pkg.
go list -test -f '{{.ImportPath}}|{{.Dir}}|{{join .Deps " "}}' ./... |
	while IFS='|' read -r pkg dir deps; do
		pkg=${pkg%% *}
		pkg=${pkg%.test}
		pkg=${pkg%_test}
		if [ "$pkg" = "$torch" ] || [[ " $deps " == *" $torch "* ]] ||
			grep -qs 'cmd/dcwp-train' "$dir"/*_test.go; then
			echo "torch $pkg"
		else
			echo "pure $pkg"
		fi
	done | sort -u | awk -v want="$want" '
		{ kind[$2] = (kind[$2] == "torch" || $1 == "torch") ? "torch" : "pure" }
		END { for (p in kind) if (kind[p] == want) print p }' | sort
