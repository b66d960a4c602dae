#!/bin/sh
# run.sh - build the push fuzz targets with clang -fsanitize=fuzzer and run
# each for a bounded time. Usage: tests/fuzz/run.sh [SECONDS] [WORKDIR]
# (default 60 s each, work files under a temporary folder). Exits non-zero
# when a target finds a crash; the reproducer is left in WORKDIR.
set -eu
secs=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${2:-$(mktemp -d "${TMPDIR:-/tmp}/fp-fuzz.XXXXXX")}
mkdir -p "$work"
cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
	# ./quickstart check installs clang: missing here is a failure, not a
	# silent pass.
	echo "fuzz: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2
	exit 1
fi
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -I$src/common -I$src/push"
libs="$(pkg-config --cflags --libs jansson nettle sqlite3 libpq)"
# Topic names come from the resource table, which reaches into most of
# common/: compile all of it (it has no main).
common=$(ls "$src"/common/*.c)
pure="$src/push/ws.c $src/push/sse.c $src/push/req.c"

$cc $flags -o "$work/fuzz_ws" "$src/tests/fuzz/fuzz_ws.c" $src/push/ws.c \
	$src/common/utf8.c $libs
$cc $flags -o "$work/fuzz_req" "$src/tests/fuzz/fuzz_req.c" $pure \
	$common $libs
$cc $flags -o "$work/fuzz_form" "$src/tests/fuzz/fuzz_form.c" $common $libs
$cc $flags -o "$work/fuzz_config" "$src/tests/fuzz/fuzz_config.c" $common $libs

status=0
for t in fuzz_ws fuzz_req fuzz_form fuzz_config; do
	mkdir -p "$work/corpus-$t"
	cp "$src/tests/fuzz/corpus/$t"/* "$work/corpus-$t/" 2>/dev/null || true
	echo "fuzz: $t for ${secs}s"
	if ! (cd "$work" && "./$t" -max_total_time="$secs" -max_len=4096 \
		-print_final_stats=0 "corpus-$t" >"$t.log" 2>&1); then
		echo "fuzz: $t FAILED; see $work/$t.log" >&2
		tail -30 "$work/$t.log" >&2
		status=1
	else
		tail -1 "$work/$t.log"
	fi
done
exit $status
