#!/bin/sh
# Runs every target one after another, single process, for SECS seconds
# each (default 600), logging to artifacts/<target>.log and printing the
# final libFuzzer status line of each. Crashes land in artifacts/<target>/.
# KEEP_GOING=1 runs libFuzzer in fork mode with one worker
# (-fork=1 -ignore_crashes=1), so a known crash does not end the run.
# Usage: sh fuzz/run-all.sh [TARGET...]
set -u
cd "$(dirname "$0")"
SECS=${SECS:-600}
keep=
[ "${KEEP_GOING:-0}" = 1 ] && keep="-fork=1 -ignore_crashes=1"
targets=${*:-"lexer copy_text insert_values sqlite_reader pg_reader resolver archive archive_toc archive_block input_open"}
mkdir -p artifacts
[ -d corpus ] || sh seed.sh
for t in $targets; do
    case $t in
        insert_values | sqlite_reader | pg_reader) len=-max_len=4096 ;;
        input_open) len=-max_len=65536 ;;
        *) len= ;;
    esac
    start=$(date +%s)
    RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run -s none "$t" -- \
        -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 $len $keep \
        > "artifacts/$t.log" 2>&1
    rc=$?
    end=$(date +%s)
    echo "$t: exit $rc after $((end - start)) s: $(grep -E '^#[0-9]+(:|[[:space:]]+(DONE|pulse|NEW|REDUCE))' "artifacts/$t.log" | tail -n 1)"
    grep -E '^stat::' "artifacts/$t.log" | tr '\n' ' '; echo
    grep -E 'panicked at|SUMMARY|Test unit written|^INFO: log from the inner process|CRASH' "artifacts/$t.log" | sort | uniq -c | head -n 10
done
