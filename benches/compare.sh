#!/usr/bin/env bash
# dumpsed vs cat / sed / gzip|sed|gzip on generated dumps: wall time and peak RSS.
#
#   benches/compare.sh [--size-mib N] [--big-size-mib M] [--workdir DIR]
#                      [--mode cache|durable|both] [--runs R] [--smoke] [--no-build]
#                      [--only plain,gz,sqlite,inserts]
#
#   --size-mib N       plain pg dump size (default 1024); the SQLite and pg --inserts
#                      dumps are N*0.3 MiB
#   --big-size-mib M   size of the big pg dump for the memory check (default 4096; 0 skips)
#   --workdir DIR      inputs (cached across runs, keyed by the generator's hash) and
#                      outputs (default /tmp/dumpsed-bench); all outputs go to this
#                      directory, i.e. the same filesystem for every tool
#   --mode             cache: every command writes into the page cache (`> OUT`,
#                             dumpsed to stdout), nothing is fsync'd
#                      durable: every command ends with its output on disk: cat/sed/gzip
#                             are followed by `sync OUT` (fsync), dumpsed runs with
#                             `-o OUT` (temp file, fsync, rename, as users run it)
#                      null: every command writes to /dev/null, so only reading and the
#                             work are timed (the page-cache writes are this VM's noisiest
#                             part); the ratios to sed are the ones that mean something
#                      both (default): cache and durable
#   --runs R           time each case R times, in R rounds that run every case once in
#                      turn (so a slow minute of the machine falls on all cases, not on
#                      one); the tables keep the fastest run and show the median too
#                      (default 1)
#   --idle-wait S      before each run, wait up to S seconds (default 300, --smoke 0) until
#                      the machine is idle (< 15% CPU busy over 1 s): others' builds skew
#                      the numbers; the `other CPU` column shows what ran beside each case
#   --smoke            8 MiB dumps, big size 16 MiB, in seconds (CI)
#   --rev REV          build dumpsed from git revision REV (`git archive`, built in
#                      WORKDIR/src with its own target dir) instead of the working tree
#   --no-build         use the existing target/release/dumpsed ($CARGO_TARGET_DIR is honoured)
#   --only LIST        only these groups of cases (comma-separated; default all):
#                      plain (cat, sed, dumpsed -j1 / all threads on the plain dump),
#                      gz (the gzip pipeline and dumpsed gz -> gz), sqlite, inserts
#
# Before each case the input is read once (`cat IN > /dev/null`: page cache warm),
# the previous output is deleted and `sync` is run (untimed), so no case pays for
# another's writeback. Wall time is measured by bash (EPOCHREALTIME) around
# `/usr/bin/time -v`, which gives the peak RSS (for a pipeline: the largest process).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE=1024
BIG=4096
WORK=/tmp/dumpsed-bench
MODE=both
RUNS=1
IDLE_WAIT=""
BUILD=1
REV=""
SMOKE=0
ONLY="plain,gz,sqlite,inserts"

die() { printf 'compare.sh: %s\n' "$*" >&2; exit 1; }
log() { printf 'compare.sh: %s\n' "$*" >&2; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --size-mib) SIZE="$2"; shift 2 ;;
        --big-size-mib) BIG="$2"; shift 2 ;;
        --workdir) WORK="$2"; shift 2 ;;
        --mode) MODE="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --idle-wait) IDLE_WAIT="$2"; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        --no-build) BUILD=0; shift ;;
        --rev) REV="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
if [[ $SMOKE == 1 ]]; then
    SIZE=8
    BIG=16
fi
# Smoke runs check that everything works, not speed: no idle wait unless asked.
[[ -n $IDLE_WAIT ]] || IDLE_WAIT=$([[ $SMOKE == 1 ]] && echo 0 || echo 300)
[[ $SIZE =~ ^[0-9]+$ && $SIZE -ge 1 ]] || die "--size-mib must be a whole number >= 1"
[[ $BIG =~ ^[0-9]+$ ]] || die "--big-size-mib must be a whole number"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be >= 1"
[[ $IDLE_WAIT =~ ^[0-9]+$ ]] || die "--idle-wait must be a number of seconds"
case "$MODE" in cache|durable|null|both) ;; *) die "--mode must be cache, durable, null or both" ;; esac
for g in ${ONLY//,/ }; do
    case "$g" in plain|gz|sqlite|inserts) ;; *) die "--only: unknown group '$g' (plain, gz, sqlite, inserts)" ;; esac
done
want() { [[ ",$ONLY," == *",$1,"* ]]; }

# --- tools -------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing GNU time (apt-get install -y time)"
        apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq time >/dev/null; }
    fi
    [[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is needed: apt-get install time"
fi
for c in python3 gzip sed cat sync; do command -v "$c" >/dev/null || die "$c is needed"; done

mkdir -p "$WORK/bin" "$WORK/logs"
WORK="$(cd "$WORK" && pwd)"

SRC="$ROOT"
if [[ -n $REV ]]; then
    commit="$(git -C "$ROOT" rev-parse --verify "$REV^{commit}")" || die "--rev $REV: no such revision"
    SRC="$WORK/src"
    log "building $commit (git archive) in $SRC"
    rm -rf "$SRC" && mkdir -p "$SRC"
    git -C "$ROOT" archive "$commit" | tar -x -C "$SRC"
    (cd "$SRC" && CARGO_TARGET_DIR="$WORK/target" cargo build --release --quiet) || die "cargo build --release of $REV failed"
    cp "$WORK/target/release/dumpsed" "$WORK/bin/dumpsed"
    DESCRIBE="$(git -C "$ROOT" rev-parse --short "$commit") (--rev $REV)"
else
    if [[ $BUILD == 1 ]]; then
        log "cargo build --release"
        (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
    fi
    TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
    [[ -x "$TARGET/release/dumpsed" ]] || die "no $TARGET/release/dumpsed (build it, or drop --no-build)"
    # A private copy: other people's rebuilds must not swap the binary mid-run.
    cp "$TARGET/release/dumpsed" "$WORK/bin/dumpsed"
    dirty="$(git -C "$ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | wc -l)"
    DESCRIBE="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) working tree"
    if [[ $dirty != 0 ]]; then DESCRIBE+=" (+$dirty uncommitted changes in src/, Cargo.*)"; fi
fi
DUMPSED="$WORK/bin/dumpsed"

# --- inputs (cached) ---------------------------------------------------------
GENHASH="$(sha1sum "$ROOT/benches/gen_dump.py" | cut -c1-8)"
SMALL="$(awk -v n="$SIZE" 'BEGIN { printf "%g", n * 0.3 }')"

gen() { # FORMAT MIB -> path
    local f="$WORK/$1-$2MiB-$GENHASH.sql"
    if [[ ! -s "$f" ]]; then
        log "generating $f"
        python3 "$ROOT/benches/gen_dump.py" --format "$1" --size-mib "$2" --out "$f" >&2
    fi
    printf '%s\n' "$f"
}
PG="$(gen pg "$SIZE")"
PGZ="$PG.gz"
if [[ ! -s "$PGZ" ]]; then
    log "gzip -6 $PG"
    gzip -6 -c "$PG" > "$PGZ.part" && mv "$PGZ.part" "$PGZ"
fi
SQ="$(gen sqlite "$SMALL")"
INS="$(gen pg-inserts "$SMALL")"
BIGF=""
if [[ $BIG -gt 0 ]]; then BIGF="$(gen pg "$BIG")"; fi

need=$(( ( $(stat -c %s "$PG") + $(stat -c %s "$PGZ") ) / 1048576 * 2 + 64 ))
if [[ -n $BIGF ]]; then need=$(( need > $(stat -c %s "$BIGF") / 1048576 * 11 / 10 ? need : $(stat -c %s "$BIGF") / 1048576 * 11 / 10 )); fi
avail=$(( $(df -Pk "$WORK" | awk 'NR==2 { print $4 }') / 1024 ))
[[ $avail -gt $need ]] || die "$WORK: ${avail} MiB free, about ${need} MiB needed for outputs"

# --- timing ------------------------------------------------------------------
SED_SCRIPT='s/CAPA-/SAP-/g; s/incident_safety_correctivepreventiveaction/incident_safety_safetyactionplan/g'
export LC_ALL=C
OUT="$WORK/out"
declare -A WALL RSS BYTES CPU
ORDER=()

q() { printf '%q' "$1"; }

# CPU jiffies (busy total) of the whole machine, from /proc/stat.
cpu_jiffies() {
    awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6; exit }' /proc/stat
}
HZ="$(getconf CLK_TCK)"
IDLE_WAITED=0
# Waits (up to IDLE_WAIT s) until the machine was < 15% busy over one second.
wait_idle() {
    local deadline=$((SECONDS + IDLE_WAIT)) b0 t0 b1 t1 pct said=0
    while ((IDLE_WAIT > 0)); do
        read -r b0 t0 < <(cpu_jiffies)
        sleep 1
        read -r b1 t1 < <(cpu_jiffies)
        pct=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
        ((pct < 15)) && return 0
        if ((SECONDS >= deadline)); then
            log "machine still ${pct}% busy after ${IDLE_WAIT}s; measuring anyway"
            return 0
        fi
        if ((said == 0)); then log "waiting for the machine to be idle (${pct}% busy)"; said=1; fi
        IDLE_WAITED=$((IDLE_WAITED + 1))
    done
}

# run_case KEY LABEL INPUT_FOR_WARMING DECOMPRESSED_BYTES OUTFILE COMMAND...
run_case() {
    local key="$1" label="$2" warm="$3" bytes="$4" out="$5"
    shift 5
    local cmd="$*" t0 t1 w r b0 b1 own o
    rm -f "$OUT".*
    sync
    cat "$warm" > /dev/null
    wait_idle
    read -r b0 _ < <(cpu_jiffies)
    t0=$EPOCHREALTIME
    if ! /usr/bin/time -v -o "$WORK/logs/$key.time" sh -c "$cmd" 2> "$WORK/logs/$key.err"; then
        cat "$WORK/logs/$key.err" >&2
        die "case '$label' failed: $cmd"
    fi
    t1=$EPOCHREALTIME
    read -r b1 _ < <(cpu_jiffies)
    [[ $out == /dev/null || -s "$out" ]] || die "case '$label' wrote no output ($out)"
    w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    r=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/logs/$key.time")
    own=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s + 0 }' "$WORK/logs/$key.time")
    # CPU used by anything but this case while it ran (other processes, kernel
    # threads such as writeback), as % of all cores over the case's wall time.
    o=$(awk -v b="$((b1 - b0))" -v hz="$HZ" -v own="$own" -v w="$w" -v n="$(nproc)" \
        'BEGIN { f = b / hz - own; if (f < 0) f = 0; p = (w > 0 ? 100 * f / (w * n) : 0); printf "%.0f", (p > 100 ? 100 : p) }')
    rm -f "$OUT".*
    if [[ -z ${LABEL[$key]:-} ]]; then
        ORDER+=("$key")
        LABEL[$key]=$label
        BYTES[$key]=$bytes
        RSS[$key]=0
        WALLS[$key]=""
    fi
    WALLS[$key]+="$w "
    if [[ -z ${WALL[$key]:-} ]] || awk -v a="$w" -v b="${WALL[$key]}" 'BEGIN { exit !(a < b) }'; then
        WALL[$key]=$w; OTHER[$key]=$o; CPU[$key]=$own
    fi
    (( r > RSS[$key] )) && RSS[$key]=$r
    log "$(printf '%-44s %8.3f s  CPU %6.2f s  %7.1f MiB RSS  other CPU %s%%' "$label" "$w" "$own" "$(awk -v k="$r" 'BEGIN { print k / 1024 }')" "$o")"
}
# median KEY -> the median wall time of KEY's runs
median() { tr ' ' '\n' <<< "${WALLS[$1]}" | grep . | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
declare -A WALLS
declare -A OTHER
declare -A LABEL

fsz() { stat -c %s "$1"; }
NP="$(nproc)"

run_mode() { # cache|durable|null
    local m="$1" s="" dsync=""
    # Where the commands write: files in WORK, or /dev/null (null: only
    # the reading and the work are timed, no page-cache writes).
    local X="$OUT.x" Y="$OUT.sql" YZ="$OUT.sql.gz"
    [[ $m == null ]] && X=/dev/null Y=/dev/null YZ=/dev/null
    [[ $m == durable ]] && s=" && sync $OUT.x"
    local pgb sqb insb
    pgb=$(fsz "$PG"); sqb=$(fsz "$SQ"); insb=$(fsz "$INS")
    # How dumpsed writes: stdout into the page cache, or -o (atomic, fsync'd).
    dout() { # OUTFILE [compress] -> dumpsed output arguments
        if [[ $m == durable ]]; then printf -- '-o %s' "$(q "$1")"
        elif [[ ${2:-} == gz ]]; then printf -- '--compress gzip > %s' "$(q "$1")"
        else printf -- '> %s' "$(q "$1")"; fi
    }
    local D="$(q "$DUMPSED") rewrite -q --preset capa-to-sap"
    if want plain || want gz; then
        run_case "$m.cat" "cat" "$PG" "$pgb" "$X" "cat $(q "$PG") > $X$s"
    fi
    if want plain; then
        run_case "$m.sed" "sed" "$PG" "$pgb" "$X" "sed '$SED_SCRIPT' $(q "$PG") > $X$s"
    fi
    if want gz; then
        run_case "$m.zsed" "gzip -dc | sed | gzip -6" "$PGZ" "$pgb" "$X" \
            "gzip -dc $(q "$PGZ") | sed '$SED_SCRIPT' | gzip -6 > $X$s"
    fi
    if want plain; then
        run_case "$m.d1" "dumpsed -j1" "$PG" "$pgb" "$Y" "$D -j1 $(q "$PG") $(dout "$Y")"
        run_case "$m.dn" "dumpsed (all threads: $NP)" "$PG" "$pgb" "$Y" "$D $(q "$PG") $(dout "$Y")"
    fi
    if want gz; then
        run_case "$m.dz" "dumpsed gz -> gz" "$PGZ" "$pgb" "$YZ" "$D $(q "$PGZ") $(dout "$YZ" gz)"
    fi
    if want sqlite; then
        run_case "$m.sqcat" "cat, SQLite dump" "$SQ" "$sqb" "$X" "cat $(q "$SQ") > $X$s"
        run_case "$m.sqsed" "sed, SQLite dump" "$SQ" "$sqb" "$X" "sed '$SED_SCRIPT' $(q "$SQ") > $X$s"
        run_case "$m.sqd1" "dumpsed -j1, SQLite dump" "$SQ" "$sqb" "$Y" "$D -j1 $(q "$SQ") $(dout "$Y")"
        run_case "$m.sqd" "dumpsed, SQLite dump" "$SQ" "$sqb" "$Y" "$D $(q "$SQ") $(dout "$Y")"
    fi
    if want inserts; then
        run_case "$m.inscat" "cat, pg --inserts dump" "$INS" "$insb" "$X" "cat $(q "$INS") > $X$s"
        run_case "$m.inssed" "sed, pg --inserts dump" "$INS" "$insb" "$X" "sed '$SED_SCRIPT' $(q "$INS") > $X$s"
        run_case "$m.insd1" "dumpsed -j1, pg --inserts dump" "$INS" "$insb" "$Y" "$D -j1 $(q "$INS") $(dout "$Y")"
        run_case "$m.insd" "dumpsed, pg --inserts dump" "$INS" "$insb" "$Y" "$D $(q "$INS") $(dout "$Y")"
    fi
}

# ratio KEY BASEKEY -> wall(KEY)/wall(BASEKEY)
ratio() { awk -v a="${WALL[$1]:-0}" -v b="${WALL[$2]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

print_table() { # mode
    local m="$1" k base sedk
    printf '\n%s\n' "$(case $m in
        cache) echo "Page cache (no fsync; dumpsed writes to stdout)" ;;
        null) echo "Work only (every command writes to /dev/null: no page-cache writes; x cat means nothing here)" ;;
        *) echo "Durable (cat/sed/gzip + fsync of the output; dumpsed -o OUT: temp file + fsync + rename)" ;;
    esac)"
    printf '%-32s %9s %9s %8s %9s %8s %8s %9s %10s\n' "case" "wall s" "median s" "CPU s" "MB/s" "x cat" "x sed" "RSS MiB" "other CPU"
    printf '%-32s %9s %9s %8s %9s %8s %8s %9s %10s\n' "--------------------------------" "-------" "--------" "------" "-------" "------" "------" "-------" "---------"
    for k in "${ORDER[@]}"; do
        [[ $k == "$m".* ]] || continue
        case "$k" in
            *.sq*) base="$m.sqcat"; sedk="$m.sqsed" ;;
            *.ins*) base="$m.inscat"; sedk="$m.inssed" ;;
            *.zsed|*.dz) base="$m.cat"; sedk="$m.zsed" ;;
            *) base="$m.cat"; sedk="$m.sed" ;;
        esac
        printf '%-32s %9.3f %9s %8.2f %9.0f %8s %8s %9.1f %9s%%\n' "${LABEL[$k]}" "${WALL[$k]}" "$(median "$k")" "${CPU[$k]}" \
            "$(awk -v b="${BYTES[$k]}" -v w="${WALL[$k]}" 'BEGIN { print (w > 0 ? b / 1e6 / w : 0) }')" \
            "$(ratio "$k" "$base")" "$(ratio "$k" "$sedk")" \
            "$(awk -v k="${RSS[$k]}" 'BEGIN { print k / 1024 }')" "${OTHER[$k]}"
    done
}

check() { # description ok(0/1) detail
    printf '  [%s] %-50s %s\n' "$(case "$2" in 1) echo PASS ;; -) echo INFO ;; *) echo MISS ;; esac)" "$1" "$3"
}

# speedup KEY_SLOW KEY_FAST -> wall(SLOW)/wall(FAST)
speedup() { awk -v a="${WALL[$1]:-0}" -v b="${WALL[$2]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# ok EXPR R -> 1 when R (a number) satisfies EXPR ("<= 1.15", ">= 3")
ok() { awk -v r="$2" "BEGIN { print (r != \"-\" && r $1) }"; }

targets() { # mode
    local m="$1" r sp rssmax k
    printf '\nTargets (%s):\n' "$m"
    if want plain; then
        if [[ $m != null ]]; then
            r=$(ratio "$m.dn" "$m.cat")
            check "COPY (plain) rewrite <= 1.15x cat wall (issue 12)" "$(ok "<= 1.15" "$r")" "${r}x"
        fi
        sp=$(speedup "$m.sed" "$m.dn")
        check ">= 3x faster than sed (plain)" "$(ok ">= 3" "$sp")" "${sp}x faster"
        sp=$(speedup "$m.d1" "$m.dn")
        check "plain -j1 -> -j$NP speedup >= 1.6x" "$(ok ">= 1.6" "$sp")" "${sp}x"
    fi
    if want gz; then
        r=$(ratio "$m.dz" "$m.zsed")
        check "gz->gz <= 0.5x gzip -dc|sed|gzip -6 wall" "$(ok "<= 0.5" "$r")" "${r}x"
    fi
    if want sqlite; then
        sp=$(speedup "$m.sqsed" "$m.sqd")
        check "SQLite dump >= 3x faster than sed (issue 12)" "$(ok ">= 3" "$sp")" "${sp}x faster"
        sp=$(speedup "$m.sqd1" "$m.sqd")
        check "SQLite -j1 -> -j$NP speedup" - "${sp}x (no target)"
    fi
    if want inserts; then
        sp=$(speedup "$m.inssed" "$m.insd")
        check "pg --inserts >= 3x faster than sed (issue 12)" "$(ok ">= 3" "$sp")" "${sp}x faster"
        sp=$(speedup "$m.insd1" "$m.insd")
        check "--inserts -j1 -> -j$NP speedup" - "${sp}x (no target)"
    fi
    rssmax=0
    for k in "$m.d1" "$m.dn" "$m.dz" "$m.sqd1" "$m.sqd" "$m.insd1" "$m.insd"; do (( ${RSS[$k]:-0} > rssmax )) && rssmax=${RSS[$k]}; done
    check "RSS <= 64 MiB at $SIZE MiB (all dumpsed cases)" "$(( rssmax <= 65536 ))" "$(awk -v k="$rssmax" 'BEGIN { printf "%.1f MiB", k / 1024 }')"
    if [[ -n $BIGF && -n ${RSS[big.dn]:-} ]]; then
        check "RSS <= 64 MiB at $BIG MiB" "$(( RSS[big.dn] <= 65536 ))" "$(awk -v k="${RSS[big.dn]}" 'BEGIN { printf "%.1f MiB", k / 1024 }')"
    fi
}

# --- machine -----------------------------------------------------------------
machine() {
    echo "Machine: nproc=$(nproc); $(lscpu | grep 'Model name' | sed 's/  */ /g'); kernel $(uname -sr);" \
        "RAM $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo);" \
        "workdir fs $(df -PT "$WORK" | awk 'NR==2 { print $2 }')"
    echo "Tools: $(sed --version | head -1); $(gzip --version | head -1); dumpsed $DESCRIBE"
    echo "Inputs: $(basename "$PG") $(fsz "$PG") B; $(basename "$PGZ") $(fsz "$PGZ") B;" \
        "$(basename "$SQ") $(fsz "$SQ") B; $(basename "$INS") $(fsz "$INS") B$([[ -n $BIGF ]] && echo "; $(basename "$BIGF") $(fsz "$BIGF") B")"
}

LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"
log "workdir $WORK; runs per case: $RUNS; idle wait up to ${IDLE_WAIT}s"
for ((round = 1; round <= RUNS; round++)); do
    log "round $round of $RUNS"
    if [[ $MODE == cache || $MODE == both ]]; then run_mode cache; fi
    if [[ $MODE == durable || $MODE == both ]]; then run_mode durable; fi
    if [[ $MODE == null ]]; then run_mode null; fi
    if [[ -n $BIGF ]]; then
        bigb=$(fsz "$BIGF")
        run_case big.cat "cat, $BIG MiB" "$BIGF" "$bigb" "$OUT.x" "cat $(q "$BIGF") > $OUT.x"
        run_case big.dn "dumpsed (all threads), $BIG MiB" "$BIGF" "$bigb" "$OUT.sql" \
            "$(q "$DUMPSED") rewrite -q --preset capa-to-sap $(q "$BIGF") > $OUT.sql"
    fi
done
LOAD1="$(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "=== dumpsed benchmark: pg dump $SIZE MiB (gzip -6 copy), SQLite and pg --inserts dumps $SMALL MiB, big $BIG MiB ==="
machine
echo "Load average: before $LOAD0, after $LOAD1; waited ${IDLE_WAITED}s in total for an idle machine. Runs per case: $RUNS, round-robin (fastest kept; median beside it)."
echo "MB = 10^6 bytes of decompressed input. other CPU = CPU used beside the case (other processes, kernel writeback) in % of all cores."
echo "x cat = wall / wall of cat of the same (plain) input; x sed = wall / wall of the matching sed case (plain, gzip pipeline, SQLite, --inserts)."
for m in cache durable null; do
    [[ $MODE == "$m" || ($MODE == both && $m != null) ]] || continue
    print_table "$m"
done
if [[ -n $BIGF ]]; then
    printf '\nBig dump (page cache, dumpsed to stdout)\n'
    printf '%-32s %9s %9s %8s %8s %9s %10s\n' "case" "wall s" "MB/s" "x cat" "x sed" "RSS MiB" "other CPU"
    for k in big.cat big.dn; do
        printf '%-32s %9.3f %9.0f %8s %8s %9.1f %9s%%\n' "${LABEL[$k]}" "${WALL[$k]}" \
            "$(awk -v b="${BYTES[$k]}" -v w="${WALL[$k]}" 'BEGIN { print b / 1e6 / w }')" "$(ratio "$k" big.cat)" "-" \
            "$(awk -v k="${RSS[$k]}" 'BEGIN { print k / 1024 }')" "${OTHER[$k]}"
    done
fi
for m in cache durable null; do
    [[ $MODE == "$m" || ($MODE == both && $m != null) ]] || continue
    targets "$m"
done
