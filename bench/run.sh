#!/usr/bin/env bash
# The benchmark harness: per-call overhead of b24 against raw reqwest + serde_json, and bulk
# exports by b24 and by the Python peer fast-bitrix24 under the default leaky bucket, all on the
# embedded emulator (loopback only). BENCHMARKS.md explains the figures.
#
#   bench/run.sh
#
# Knobs (environment):
#   B24_BENCH_EXPORTS="100000:1 1000000:5"  RECORDS:TIME_SCALE[:RANGES] per export run
#   B24_BENCH_RANGES=default,1,4            b24 runs: ID ranges in parallel (default: automatic)
#   B24_BENCH_PEER_VARIANTS=default,1       fast-bitrix24 as shipped, then inside its slow(1)
#   B24_BENCH_LATENCY_MS=0                  real ms the emulator waits before every answer
#   B24_BENCH_CALLS=3000                    calls per round of the overhead benchmark
#   B24_BENCH_RUNTIME=1                     also run the runtime's own overhead benchmark (0: skip)
#   B24_BENCH_VENV=bench/out/venv           the Python virtualenv (made when missing)
#
# Writes bench/out/: overhead.json, export-N-sS.json (with time series), table.md and
# records-per-second.png. Exits non-zero only when it cannot run (no cargo or python, a build,
# install or benchmark crash); a slow or lossy figure is a result, not a failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

OUT=bench/out
VENV=${B24_BENCH_VENV:-$OUT/venv}
EXPORTS=${B24_BENCH_EXPORTS:-"100000:1 1000000:5"}
VARIANTS=${B24_BENCH_PEER_VARIANTS:-default,1}
RANGES=${B24_BENCH_RANGES:-default,1,4}
CALLS=${B24_BENCH_CALLS:-3000}
LATENCY=${B24_BENCH_LATENCY_MS:-0}

die() {
  echo "bench/run.sh: $*" >&2
  exit 1
}
step() { printf '\n== %s\n' "$*"; }
compare() { cargo bench -q --bench compare -- "$@"; }

command -v cargo >/dev/null || die "cargo not found"
command -v python3 >/dev/null || die "python3 not found"
mkdir -p "$OUT" || die "cannot create $OUT"
rm -f "$OUT"/overhead.json "$OUT"/export-*.json "$OUT"/table.md "$OUT"/records-per-second.png

step "build (release)"
cargo bench --bench compare --no-run || die "the benchmark does not build"

step "Python virtualenv with fast-bitrix24 and matplotlib: $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" || die "python3 -m venv failed"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r bench/requirements.txt ||
  die "pip install -r bench/requirements.txt failed"

step "per-call overhead: b24::crm::item::get::call vs raw reqwest + serde_json"
compare overhead --calls "$CALLS" --rounds 10 --out "$OUT/overhead.json" ||
  die "the overhead benchmark crashed"

if [ "${B24_BENCH_RUNTIME:-1}" != 0 ]; then
  step "the runtime's own overhead benchmark (its stub server), for reference"
  cargo bench -q -p b24-runtime --bench overhead -- --calls 20000 --rounds 5 \
    >"$OUT/runtime-overhead.txt" && cat "$OUT/runtime-overhead.txt" ||
    echo "(the runtime's benchmark did not run; its figures are left out)"
fi

for spec in $EXPORTS; do
  IFS=: read -r records scale ranges <<<"$spec"
  scale=${scale:-1}
  ranges=${ranges:-$RANGES}
  step "export of $records records, time scale $scale, latency $LATENCY ms: b24 (ranges $ranges), then fast-bitrix24 ($VARIANTS)"
  compare export --records "$records" --time-scale "$scale" --ranges "$ranges" \
    --latency-ms "$LATENCY" --python "$VENV/bin/python" --peer bench/peer.py \
    --peer-variants "$VARIANTS" --out "$OUT/export-$records-s$scale-l$LATENCY.json" ||
    die "the export benchmark crashed"
done

step "table and plot"
"$VENV/bin/python" bench/plot.py "$OUT" || die "plotting failed"
echo "plot: $OUT/records-per-second.png"
