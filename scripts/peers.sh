#!/usr/bin/env bash
# Runs the quadrature peer battery side by side: ebmcheck's `quad_battery` example against the
# SciPy/mpmath results stored in ../shared/peers/quad/results.jsonl (re-run SciPy with
# `RERUN_SCIPY=1`, which needs scipy, numpy and mpmath, e.g. in a venv at /tmp/venv).
# `ONLY=SUBSTR` restricts both sides to the cases whose id contains SUBSTR (e.g. `ONLY=1d`).
# Wall-time ratios are only meaningful with `RERUN_SCIPY=1` (both sides in the same run).
# `BATTERY=1` runs the 168-case battery side by side instead (scripts/battery_peers.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-../shared/peers/quad}
OUT=${OUT:-target/quad_peers}
mkdir -p "$OUT"
REF="$PEERS/results.jsonl"
if [[ "${RERUN_SCIPY:-0}" == 1 ]]; then
    PY=${PYTHON:-/tmp/venv/bin/python}
    "$PY" "$PEERS/quad_ref.py" ${ONLY:+--only "$ONLY"} > "$OUT/scipy.jsonl"
    REF="$OUT/scipy.jsonl"
fi
if [[ "${BATTERY:-0}" == 1 ]]; then
    # The 168-case battery (tests/data/battery.jsonl) against SciPy on the raw integrands.
    cargo build --release --quiet --example quad_battery
    exec "${PYTHON:-/tmp/venv/bin/python}" scripts/battery_peers.py \
        target/release/examples/quad_battery ${ONLY:+--only "$ONLY"} --out "$OUT/battery.jsonl"
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cargo run --release --quiet --example quad_battery -- "${ONLY:-}" > "$OUT/ebmcheck.jsonl"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 "$PEERS/compare.py" "$REF" "$OUT/ebmcheck.jsonl"
