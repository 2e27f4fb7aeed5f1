#!/usr/bin/env bash
# Renames each target of the corpora alone, live vs offline (the ignored test
# `per_table` in tests/corpus.rs), and prints the figures: passed, failed, time.
#
# usage: scripts/corpus-per-table.sh [pg-regress|pg-tap] [SCHEMA.TABLE]
#   PGHOST/PGPORT/PGUSER must point at a PostgreSQL 15 superuser (for a private
#   throwaway one: eval "$(scripts/pg-cluster.sh start)").
#   CARGO_TARGET_DIR is honoured; the log goes to ${CORPUS_LOG:-/tmp/corpus-per-table.log}.
# Exit status: 0 when every target renamed offline restores to the live result.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
: "${PGHOST:?set PGHOST (e.g. eval \"\$(scripts/pg-cluster.sh start)\")}" "${PGPORT:?set PGPORT}"
export PGHOST PGPORT PGUSER="${PGUSER:-postgres}" DUMPSED_PG=1
export DUMPSED_CORPUS="${1:-}" 
if [[ -n "${2:-}" ]]; then export DUMPSED_CORPUS_ONLY="$2"; fi
LOG="${CORPUS_LOG:-/tmp/corpus-per-table.log}"
start=$(date +%s)
set +e
nice -n 10 cargo test --release --test corpus per_table -- --ignored --exact --nocapture --test-threads=1 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
echo
echo "=== corpus-per-table: $(( $(date +%s) - start ))s wall (build included); log: $LOG"
grep '^SUMMARY' "$LOG" || true
echo "failed targets:"
grep '^FAIL' "$LOG" | cut -d: -f1 || true
exit "$status"
