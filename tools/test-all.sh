#!/usr/bin/env bash
# The README's test command (`tools/just test`, which CI's .ci/run calls): every test, on every
# engine × libtorch combination, from a fresh clone. The parts, in order:
#
#   downloads  in the background from the start (nice 10), so they overlap the CPU-bound parts
#              that need none of them: the pinned PyPI wheels' libtorch (tools/libtorch.sh
#              fetch), then each version's oracle venv (tools/libtorch.sh oracle)
#   set-up     tools/setup.sh: Debian's libtorch 1.13.1, ONNX Runtime, just, the shim, binaries
#   vet        go vet ./...
#   suite      every package's tests on the default build: the shim on Debian's 1.13.1
#   builds     the other combinations' builds, which need the wheels only (tools/test-engines.sh
#              build): the shim on each wheel, gotch's C++ wrapper on 2.1.0
#   COMBO      each other combination's conformance suite (tools/test-engines.sh COMBO), once
#              its libtorch's oracle venv is there
#
# At the end, a table of each part's wall time (and the load). A failing part fails the command;
# the parts after it still run, so one run shows every failure (after a failed set-up, nothing
# can). Logs: build/test-all/.
set -uo pipefail
cd "$(dirname "$0")/.."
dir=build/test-all
rm -rf "$dir"
mkdir -p "$dir"

# The image cache of the tests' many fixture folders goes under $dir (removed by the next run),
# never into the user's cache; Go's build cache stays where it was.
GOCACHE=$(go env GOCACHE)
export GOCACHE XDG_CACHE_HOME=$PWD/$dir/cache

# disk_check: refuses to start when the file system cannot hold what this run will download and
# build, naming both sizes, where a full disk would fail it half-way (pip: "No space left on
# device"). MiB, measured on a fresh clone (docs/developing.md): what is already there costs none.
disk_check() {
	local need=1536 free what=() v
	for v in $(bash tools/libtorch.sh list | grep -vx debian); do
		[ -e "third_party/libtorch/$v/version.py" ] || { need=$((need + 2048)); what+=("libtorch $v"); }
		[ -x "build/venv/$v/bin/python" ] || { need=$((need + 2560)); what+=("oracle venv $v"); }
	done
	[ "$(du -sm "$GOCACHE" 2>/dev/null | cut -f1)" -gt 256 ] 2>/dev/null || { need=$((need + 1024)); what+=("Go build cache"); }
	free=$(df -Pm . | awk 'NR == 2 {print $4}')
	[ "$free" -ge "$need" ] && return
	local list
	list=$(printf '%s, ' "${what[@]}")
	echo "test: $PWD has $free MiB free; this run needs about $need MiB for build outputs and what is not here yet (${list%, }). Free some space and run it again." >&2
	return 1
}
disk_check || exit 1

since() { echo $(($(date +%s) - $1)); }
load() { cut -d' ' -f1-3 /proc/loadavg; }
t0=$(date +%s)
status=0
rows=()
# part NAME CMD...: runs CMD, adds its row to the table
part() {
	local name=$1 t rc=0
	shift
	echo "== test: $name"
	t=$(date +%s)
	"$@" || rc=$?
	[ $rc -eq 0 ] || status=1
	rows+=("$(printf '%-44s %5s s  %-16s load %s' "$name" "$(since "$t")" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" "$(load)")")
	return $rc
}

# The downloads need pip, venv and unzip from apt; installed first, so that the background job
# never runs apt beside the set-up's own apt step.
part "set-up: pip, venv, unzip (apt)" bash tools/setup.sh pypi || { printf '%s\n' "${rows[@]}"; exit 1; }
mapfile -t wheels < <(bash tools/libtorch.sh list | grep -vx debian)
# Each step writes "<exit status> <seconds>" into $dir/<step>.done when it ends.
(
	renice -n 10 -p "$BASHPID" >/dev/null
	step() {
		local name=$1 t rc=0
		shift
		t=$(date +%s)
		"$@" || rc=$?
		echo "$rc $(since "$t")" >"$dir/$name.done"
		return $rc
	}
	step fetch bash tools/libtorch.sh fetch "${wheels[@]}" || exit 1
	for v in "${wheels[@]}"; do step "oracle-$v" bash tools/libtorch.sh oracle "$v"; done
) </dev/null >"$dir/downloads.log" 2>&1 &
downloads=$!
echo "== test: downloads started in the background (log: $dir/downloads.log)"

# await STEP: waits for the background step; fails when it failed or the job ended without it
await() {
	while [ ! -e "$dir/$1.done" ] && kill -0 "$downloads" 2>/dev/null; do sleep 2; done
	[ -e "$dir/$1.done" ] || { echo "test: the downloads ended before $1 (see $dir/downloads.log)" >&2; tail -n 20 "$dir/downloads.log" >&2; return 1; }
	read -r rc _ <"$dir/$1.done"
	[ "$rc" -eq 0 ] || { echo "test: download step $1 failed (see $dir/downloads.log)" >&2; tail -n 20 "$dir/downloads.log" >&2; }
	return "$rc"
}

table() {
	echo "== test: every part's wall time (load: 1, 5, 15 min averages at its end)"
	printf '%s\n' "${rows[@]}"
	local f
	for f in "$dir"/*.done; do
		[ -e "$f" ] || continue
		read -r rc secs <"$f"
		printf '%-44s %5s s  %s\n' "  (background) $(basename "$f" .done)" "$secs" "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")"
	done
	printf '%-44s %5s s  %s\n' "total" "$(since "$t0")" "$([ $status -eq 0 ] && echo ok || echo FAILED)"
}

part "set-up (tools/setup.sh)" bash tools/setup.sh || { pkill -P "$downloads" 2>/dev/null; kill "$downloads"; table; exit 1; }
part "go vet ./..." go vet ./...
part "go test ./... (shim:debian)" go test -count=1 -timeout 40m ./...

# the other combinations, in the order their oracle venvs arrive
others=()
for v in "${wheels[@]}"; do mapfile -t -O ${#others[@]} others < <(bash tools/test-engines.sh list | awk -F: -v v="$v" '$2 == v'); done
part "waiting for the wheels" await fetch &&
	part "builds: ${others[*]}" bash tools/test-engines.sh build "${others[@]}"
for c in "${others[@]}"; do
	# each version's venv is awaited once; a combination whose venv failed is not run
	w=$dir/oracle-${c#*:}.awaited
	[ -e "$w" ] || { rc=0; part "waiting for oracle ${c#*:}" await "oracle-${c#*:}" || rc=$?; echo "$rc" >"$w"; }
	[ "$(cat "$w")" = 0 ] && part "suite $c" bash tools/test-engines.sh "$c"
done
wait "$downloads" 2>/dev/null
table
exit $status
