#!/usr/bin/env bash
# Runs the quadrature peer battery side by side: ebmcheck's `quad_battery` example against the
# SciPy/mpmath results stored in /work/shared/peers/quad/results.jsonl (re-run SciPy with
# `RERUN_SCIPY=1`, which needs scipy, numpy and mpmath, e.g. in a venv at /tmp/venv).
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-/work/shared/peers/quad}
OUT=${OUT:-target/quad_peers}
mkdir -p "$OUT"
REF="$PEERS/results.jsonl"
if [[ "${RERUN_SCIPY:-0}" == 1 ]]; then
    PY=${PYTHON:-/tmp/venv/bin/python}
    "$PY" "$PEERS/quad_ref.py" > "$OUT/scipy.jsonl"
    REF="$OUT/scipy.jsonl"
fi
cargo run --release --quiet --example quad_battery > "$OUT/ebmcheck.jsonl"
python3 "$PEERS/compare.py" "$REF" "$OUT/ebmcheck.jsonl"
