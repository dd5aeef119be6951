#!/usr/bin/env bash
# Builds pulse-bench in release mode, runs every benchmark against the
# local RabbitMQ and writes the table into BENCHMARKS.md.
#
#   scripts/bench.sh            full run (~5-10 minutes)
#   scripts/bench.sh --quick    short run (< 2 minutes), for CI-ish checks
#   scripts/bench.sh --quick --only translation,latency
#
# Sections (--only): translation, simd, throughput, latency, memory,
# scale, taskcluster, cost, page, idle, burst, replay.
#
# The broker is PULSE_BENCH_BROKER (default amqp://guest:guest@127.0.0.1:5672/).
# Only the part of BENCHMARKS.md between the "generated" markers is
# replaced, so the hand-written analysis below it survives a re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
args=()
for arg in "$@"; do
    [[ "$arg" == "--quick" ]] && mode=quick
    args+=("$arg")
done

cargo build --release -p pulse-bench

ledger="$(mktemp -u "${TMPDIR:-/tmp}/pulse-bench.XXXXXX.ledger")"
report="$(mktemp "${TMPDIR:-/tmp}/pulse-bench.XXXXXX.md")"
generated="$(mktemp "${TMPDIR:-/tmp}/pulse-bench.XXXXXX.md")"
# Whatever happens, delete what the bench declared on the broker.
trap './target/release/bench cleanup "$ledger" || true; rm -f "$report" "$generated"' EXIT

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
status=0
./target/release/bench --ledger "$ledger" --report "$report" "${args[@]}" || status=$?
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

commit="$(git rev-parse --short HEAD)"
git diff --quiet HEAD -- crates tools Cargo.toml Cargo.lock || commit="$commit (with uncommitted changes)"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
memory="$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"

{
    echo "<!-- generated:start (scripts/bench.sh replaces this part) -->"
    echo "## Results ($mode run)"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| date | $started |"
    echo "| commit | $commit |"
    echo "| machine | $(nproc) cores, $cpu, $memory |"
    echo "| rustc | $(rustc --version) |"
    echo "| load average (1, 5, 15 min) | before $load_before, after $load_after |"
    echo "| exit status | $status |"
    echo
    cat "$report"
    echo
    echo "<!-- generated:end -->"
} >"$generated"

if [[ -f BENCHMARKS.md ]] && grep -q '<!-- generated:start' BENCHMARKS.md; then
    awk -v file="$generated" '
        /<!-- generated:start/ { while ((getline line < file) > 0) print line; skip = 1; next }
        /<!-- generated:end/ { skip = 0; next }
        !skip { print }
    ' BENCHMARKS.md >BENCHMARKS.md.new
    mv BENCHMARKS.md.new BENCHMARKS.md
else
    {
        echo "# Benchmarks: how close the monitor runs to its limits"
        echo
        echo "Written by \`scripts/bench.sh\` (crate \`tools/bench\`, binary \`bench\`)."
        echo
        cat "$generated"
    } >BENCHMARKS.md
fi
echo "wrote BENCHMARKS.md ($mode run, exit status $status)"
exit "$status"
