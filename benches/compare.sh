#!/usr/bin/env bash
# Side-by-side, whole-process comparison of `sn-retarget apply` with what users would otherwise
# run (sed, a Python lxml script), against the targets of ../shared/docs/PERF.md.
#
#   bash benches/compare.sh [SIZE_MB]          (default 200)
#
# Environment:
#   SIZE_MB       size of the generated update set in MB (10^6 bytes), if no argument (200)
#   ROUNDS        timed rounds, commands alternating A B C A B C ... (5); the median is reported
#   LXML_ROUNDS   rounds that also run the lxml script (3; it is ~10x slower than the rest)
#   FILES         small files for the batch comparison (5000)
#   BATCH_CMD     bundle (default) or apply: the whole-folder command timed for the batch
#   BATCH_OUT     folder the batch writes its outputs under (default: the work folder); e.g.
#                 /dev/shm to take the 5,000 fsyncs (tmpfs: no-ops) out of the batch's time
#   COMPARE_DIR   work folder (default: a new mktemp folder under /tmp, removed at the end);
#                 its big.xml, files/, out/, logs/ and results/ are overwritten and removed
#   KEEP=1        keep the generated inputs, outputs and logs
#   NO_BUILD=1    do not run cargo; use the binaries already in the target folder
#   SYNC_EACH=0   do not `sync` before every timed run (default: sync, so that writeback of
#                 the previous run's output does not land on the next one)
#   CARGO_TARGET_DIR is honoured (the target folder is asked from `cargo metadata`).
#
# Exit 0 when everything ran, whatever the targets say (this is a report); non-zero on errors.
set -euo pipefail
export LC_ALL=C # '.' as decimal point in $EPOCHREALTIME and awk; byte-wise sed

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZE_MB=${1:-${SIZE_MB:-200}}
ROUNDS=${ROUNDS:-5}
LXML_ROUNDS=${LXML_ROUNDS:-3}
FILES=${FILES:-5000}
BATCH_CMD=${BATCH_CMD:-bundle}
SYNC_EACH=${SYNC_EACH:-1}
SOURCE=dev12345.service-now.com
TARGET=prod.service-now.com

die() { echo "compare.sh: error: $*" >&2; exit 1; }
[[ $SIZE_MB =~ ^[0-9]+([.][0-9]+)?$ ]] || die "size must be a number of MB, got '$SIZE_MB'"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
[[ $LXML_ROUNDS =~ ^[0-9]+$ ]] || die "LXML_ROUNDS must be an integer"
[[ $FILES =~ ^[1-9][0-9]*$ ]] || die "FILES must be a positive integer"
[[ $BATCH_CMD == bundle || $BATCH_CMD == apply ]] || die "BATCH_CMD must be bundle or apply"
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is needed for peak RSS"
/usr/bin/time -f '%M' true 2>/dev/null || die "/usr/bin/time is not GNU time"
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or newer is needed (\$EPOCHREALTIME)"

# ---- work folder -------------------------------------------------------------------------
if [[ -n ${COMPARE_DIR:-} ]]; then
    W=$COMPARE_DIR
    mkdir -p "$W"
    OWN_DIR=0
else
    W=$(mktemp -d /tmp/sn-retarget-compare.XXXXXX)
    OWN_DIR=1
fi
W=$(cd "$W" && pwd)
BIG=$W/big.xml
DIR=$W/files
OUT=$W/out
LOGS=$W/logs
RES=$W/results
BATCH_TMP=""
cleanup() {
    local rc=$?
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "kept: $W${BATCH_TMP:+ and $BATCH_TMP}"
    elif [[ $OWN_DIR == 1 ]]; then
        rm -rf -- "$W"
    else
        rm -rf -- "$BIG" "$DIR" "$OUT" "$LOGS" "$RES"
    fi
    if [[ ${KEEP:-0} != 1 && -n $BATCH_TMP ]]; then
        rm -rf -- "$BATCH_TMP" # only the mktemp folder made below, never BATCH_OUT itself
    fi
    exit "$rc"
}
trap cleanup EXIT
rm -rf -- "$OUT" "$LOGS" "$RES"
mkdir -p "$OUT" "$LOGS" "$RES"
if [[ -n ${BATCH_OUT:-} ]]; then
    mkdir -p "$BATCH_OUT"
    BATCH_TMP=$(mktemp -d "$BATCH_OUT/sn-retarget-compare-batch.XXXXXX")
    BATCH_OUT=$BATCH_TMP
else
    BATCH_OUT=$OUT
fi

# ---- build -------------------------------------------------------------------------------
cd "$ROOT"
if [[ ${NO_BUILD:-0} != 1 ]]; then
    echo "building (cargo build --release --features synth --example synth; cargo build --release) ..." >&2
    cargo build --quiet --release --features synth --example synth
    cargo build --quiet --release
fi
TARGET_DIR=$(cargo metadata --no-deps --format-version 1 --offline 2>/dev/null |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p' || true)
[[ -n $TARGET_DIR ]] || TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
SNR=$TARGET_DIR/release/sn-retarget
SYNTH=$TARGET_DIR/release/examples/synth
[[ -x $SNR ]] || die "$SNR not found (build it, or unset NO_BUILD)"
[[ -x $SYNTH ]] || die "$SYNTH not found (build it, or unset NO_BUILD)"

# ---- inputs (deterministic: the generator's default seed) --------------------------------
echo "generating a ${SIZE_MB} MB update set and $FILES small files in $W ..." >&2
rm -rf -- "$DIR"
"$SYNTH" "$SIZE_MB" > "$BIG"
"$SYNTH" --files "$FILES" "$DIR"
BIG_BYTES=$(stat -c %s "$BIG")
DIR_BYTES=$(find "$DIR" -type f -name '*.xml' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
DIR_COUNT=$(find "$DIR" -type f -name '*.xml' | wc -l)

# ---- the lxml script, if it can run ------------------------------------------------------
LXML_NOTE=""
LXML_WHY=""
HAVE_LXML=0
if command -v python3 > /dev/null && python3 -c 'import lxml' 2> /dev/null; then
    HAVE_LXML=1
    (( LXML_ROUNDS > ROUNDS )) && LXML_ROUNDS=$ROUNDS
    if (( LXML_ROUNDS == 0 )); then
        HAVE_LXML=0
        LXML_WHY="LXML_ROUNDS=0"
        LXML_NOTE="lxml script skipped: LXML_ROUNDS=0"
    fi
else
    LXML_WHY="lxml absent: python3 -m pip install lxml"
    LXML_NOTE="lxml script skipped: python3 -c 'import lxml' failed (lxml is absent); install it with: python3 -m pip install lxml"
fi

# ---- the commands ------------------------------------------------------------------------
# Each: a name, the input size it is measured against, and a function that prepares (outside
# the timing) and then calls `timed NAME STDOUT COMMAND...`.
NPROC=$(nproc)
LABEL_apply="apply (regenerate ids, host)"
LABEL_identity="apply --secrets keep (identity)"
LABEL_sed="sed (the one host)"
LABEL_lxml="lxml script (ids + host, payloads too)"
LABEL_cat="cat (floor)"
LABEL_batch1="batch: $BATCH_CMD $DIR_COUNT files, 1 thread"
LABEL_batchN="batch: $BATCH_CMD $DIR_COUNT files, default threads"
BATCH_EXTRA=""
if [[ $BATCH_CMD == bundle ]]; then BATCH_EXTRA=" --quiet"; fi
LEGEND=(
    "apply     sn-retarget apply big.xml --sys-ids regenerate --source $SOURCE --target $TARGET --out out.xml"
    "identity  sn-retarget apply big.xml --secrets keep --out out.xml"
    "sed       LC_ALL=C sed 's/dev12345\\.service-now\\.com/$TARGET/g' big.xml > out.xml"
    "cat       cat big.xml > /dev/null"
    "batch     [RAYON_NUM_THREADS=1] sn-retarget $BATCH_CMD files/ --out out/batch-N/ --sys-ids regenerate --source $SOURCE --target $TARGET$BATCH_EXTRA"
    "          (a new out/batch-N/ per run; all are removed after the timing)"
)
if (( HAVE_LXML )); then
    LEGEND+=("lxml      python3 benches/lxml_retarget.py big.xml out.xml $SOURCE $TARGET")
fi

# timed NAME STDOUT COMMAND...: one whole-process run; appends "seconds peak_rss_kib" to
# $RES/NAME. Wall time from bash's clock around GNU time (which adds ~1 ms), RSS from %M.
timed() {
    local name=$1 stdout=$2
    shift 2
    [[ $SYNC_EACH == 1 ]] && sync
    local t0 t1 rc=0
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%M %U %S' -o "$LOGS/$name.rss" "$@" > "$stdout" 2> "$LOGS/$name.err" || rc=$?
    t1=$EPOCHREALTIME
    if (( rc != 0 )); then
        echo "compare.sh: error: '$name' exited with $rc: $*" >&2
        tail -n 20 "$LOGS/$name.err" >&2
        exit 1
    fi
    # seconds, peak RSS KiB, user + system CPU seconds
    tail -n 1 "$LOGS/$name.rss" | awk -v a="$t0" -v b="$t1" '{ printf "%.4f %d %.2f\n", b - a, $1, $2 + $3 }' >> "$RES/$name"
}

run_apply() {
    rm -f -- "$OUT/apply.xml"
    timed apply /dev/null "$SNR" apply "$BIG" --sys-ids regenerate --source "$SOURCE" \
        --target "$TARGET" --out "$OUT/apply.xml"
}
run_identity() {
    rm -f -- "$OUT/identity.xml"
    timed identity /dev/null "$SNR" apply "$BIG" --secrets keep --out "$OUT/identity.xml"
}
run_sed() {
    rm -f -- "$OUT/sed.xml"
    timed sed "$OUT/sed.xml" env LC_ALL=C sed 's/dev12345\.service-now\.com/prod.service-now.com/g' "$BIG"
}
run_lxml() {
    rm -f -- "$OUT/lxml.xml"
    timed lxml /dev/null python3 "$ROOT/benches/lxml_retarget.py" "$BIG" "$OUT/lxml.xml" "$SOURCE" "$TARGET"
}
run_cat() {
    timed cat /dev/null cat "$BIG"
}
# Each batch run writes into a folder of its own, all removed after the timing: on ext4,
# creating thousands of files right after deleting thousands makes every inode allocation
# step over the recently deleted ones (ext4's `recently_deleted`), which no user's first
# bundle pays and which would swamp the time.
BATCH_RUN=0
batch() {
    local name=$1 threads=$2
    BATCH_RUN=$((BATCH_RUN + 1))
    local dest=$BATCH_OUT/batch-$1-$BATCH_RUN
    LAST_BATCH_DEST=$dest
    local cmd=("$SNR" "$BATCH_CMD" "$DIR" --out "$dest" --sys-ids regenerate --source "$SOURCE" --target "$TARGET")
    if [[ $BATCH_CMD == bundle ]]; then cmd+=(--quiet); fi
    if [[ -n $threads ]]; then
        timed "$name" /dev/null env RAYON_NUM_THREADS="$threads" "${cmd[@]}"
    else
        timed "$name" /dev/null env -u RAYON_NUM_THREADS "${cmd[@]}"
    fi
}
run_batch1() { batch batch1 1; }
run_batchN() { batch batchN ""; }

ORDER=(apply identity sed)
(( HAVE_LXML )) && ORDER+=(lxml)
ORDER+=(cat batch1 batchN)

# ---- warm up, then alternate -------------------------------------------------------------
sync
cat "$BIG" > /dev/null
find "$DIR" -type f -name '*.xml' -exec cat {} + > /dev/null
echo "timing: $ROUNDS round(s) of ${ORDER[*]}$( (( HAVE_LXML )) && echo " (lxml in the first $LXML_ROUNDS)") ..." >&2
for (( round = 1; round <= ROUNDS; round++ )); do
    for c in "${ORDER[@]}"; do
        [[ $c == lxml ]] && (( round > LXML_ROUNDS )) && continue
        "run_$c"
    done
    echo "  round $round/$ROUNDS done" >&2
done

# ---- sanity of the last outputs (not timed) ----------------------------------------------
left_apply=$(grep -c -F "$SOURCE" "$OUT/apply.xml" || true)
left_sed=$(grep -c -F "$SOURCE" "$OUT/sed.xml" || true)
if cmp -s "$BIG" "$OUT/identity.xml"; then ident_same=yes; else ident_same=NO; fi
if (( HAVE_LXML )); then
    left_lxml=$(grep -c -F "$SOURCE" "$OUT/lxml.xml" || true)
fi
batch_out=$(find "$LAST_BATCH_DEST" -type f -name '*.xml' | wc -l)

# ---- report ------------------------------------------------------------------------------
median() { sort -n -k1,1 "$RES/$1" | awk '{ t[NR] = $1 } END { if (NR % 2) print t[(NR + 1) / 2]; else print (t[NR / 2] + t[NR / 2 + 1]) / 2 }'; }
median_cpu() { sort -n -k3,3 "$RES/$1" | awk '{ c[NR] = $3 } END { if (NR % 2) print c[(NR + 1) / 2]; else print (c[NR / 2] + c[NR / 2 + 1]) / 2 }'; }
median_rss() { sort -n -k2,2 "$RES/$1" | awk '{ r[NR] = $2 } END { if (NR % 2) print r[(NR + 1) / 2]; else print int((r[NR / 2] + r[NR / 2 + 1]) / 2) }'; }
max_rss() { awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$RES/$1"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2> /dev/null || echo unknown)
changed=$(git -C "$ROOT" status --porcelain --untracked-files=no 2> /dev/null | awk '{ print $NF }' || true)
if [[ -n $changed ]]; then
    n_changed=$(wc -l <<< "$changed")
    commit="$commit + uncommitted changes in $n_changed file(s): $(head -n 6 <<< "$changed" | paste -sd ' ' -)"
    if (( n_changed > 6 )); then commit="$commit ..."; fi
fi
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2> /dev/null || true)

echo
echo "== sn-retarget comparison ($(date -u '+%Y-%m-%d %H:%M:%S UTC'))"
echo "sn-retarget commit: $commit"
echo "binary:             $SNR"
echo "machine:            $NPROC cpu(s), ${cpu:-unknown CPU}, $(uname -srm)"
echo "memory:             $(awk '/^MemTotal/ { printf "%.1f GB", $2 * 1024 / 1e9 }' /proc/meminfo)"
echo "tools:              $(rustc --version 2> /dev/null || echo 'rustc ?'); $(sed --version 2> /dev/null | head -n 1)$( (( HAVE_LXML )) && python3 -c 'import sys, lxml.etree as e; print("; python %d.%d.%d, lxml %s, libxml2 %s" % (sys.version_info[:3] + (e.__version__, ".".join(map(str, e.LIBXML_VERSION)))))')"
echo "batch outputs:      under $BATCH_OUT ($(df --output=fstype "$BATCH_OUT" 2> /dev/null | tail -n 1 || echo '?'))"
echo "input:              $BIG_BYTES bytes ($(calc '%.1f' "$BIG_BYTES / 1e6") MB) update set; $DIR_COUNT small files, $DIR_BYTES bytes ($(calc '%.1f' "$DIR_BYTES / 1e6") MB)"
echo "rounds:             $ROUNDS, alternating$( (( HAVE_LXML )) && echo "; lxml in the first $LXML_ROUNDS"); $( [[ $SYNC_EACH == 1 ]] && echo 'sync before each run' || echo 'no sync between runs'); page cache warm"
echo "MB = 10^6 bytes of input; seconds = median wall time of the whole process; cpu s = median user + system CPU seconds; RSS = median peak RSS (GNU time %M)"
[[ -n $LXML_NOTE ]] && echo "NOTE: $LXML_NOTE"
echo

echo "commands (outputs removed before each run):"
printf '  %s\n' "${LEGEND[@]}"
echo
printf '%-44s %5s %9s %9s %7s %10s %9s\n' command runs 'median s' 'MB/s' 'cpu s' 'RSS MB' 'RSS/input'
row() {
    local name=$1 bytes=$2 label_var=LABEL_$1
    [[ -s $RES/$name ]] || return 0
    local t rss n cpu_s
    t=$(median "$name")
    rss=$(median_rss "$name")
    cpu_s=$(median_cpu "$name")
    n=$(wc -l < "$RES/$name")
    printf '%-44s %5d %9.3f %9.1f %7.2f %10.1f %8.2fx\n' "${!label_var}" "$n" "$t" \
        "$(calc '%.4f' "$bytes / 1e6 / ($t > 0 ? $t : 1e-9)")" "$cpu_s" \
        "$(calc '%.4f' "$rss * 1024 / 1e6")" "$(calc '%.4f' "$rss * 1024 / $bytes")"
}
for c in apply identity sed lxml cat; do row "$c" "$BIG_BYTES"; done
for c in batch1 batchN; do row "$c" "$DIR_BYTES"; done

echo
echo "targets (../shared/docs/PERF.md):"
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "PASS" : "FAIL" }'; }
target() { # label value op threshold [aim]
    local label=$1 value=$2 op=$3 thr=$4 aim=${5:-}
    printf '  %-50s %7.2f   target %s %-5s %s%s\n' "$label" "$value" "$op" "$thr" "$(verdict "$value" "$thr" "$op")" \
        "${aim:+  (aim $op $aim: $(verdict "$value" "$aim" "$op"))}"
}
t_apply=$(median apply)
t_identity=$(median identity)
t_sed=$(median sed)
target "apply vs sed (sed s / apply s)" "$(calc '%.4f' "$t_sed / $t_apply")" '>=' 1.0 1.5
if (( HAVE_LXML )); then
    target "apply vs lxml (lxml s / apply s)" "$(calc '%.4f' "$(median lxml) / $t_apply")" '>=' 10
else
    printf '  %-50s %7s   target >= 10    SKIPPED (%s)\n' "apply vs lxml (lxml s / apply s)" "-" "$LXML_WHY"
fi
target "identity vs sed (sed s / identity s)" "$(calc '%.4f' "$t_sed / $t_identity")" '>=' 3
target "apply peak RSS / input (max over rounds)" "$(calc '%.4f' "$(max_rss apply) * 1024 / $BIG_BYTES")" '<=' 2.3
target "batch default threads vs 1 thread (1t s / Nt s)" "$(calc '%.4f' "$(median batch1) / $(median batchN)")" '>=' 1.6
(( NPROC < 2 )) && echo "  note: this machine has $NPROC cpu; the batch ratio cannot show parallelism"
if [[ $(df --output=fstype "$BATCH_OUT" 2> /dev/null | tail -n 1) != tmpfs ]]; then
    echo "  note: the batch flushes its $DIR_COUNT outputs to a disk (one syncfs): compare its wall and cpu"
    echo "        seconds; BATCH_OUT=/dev/shm takes the disk out"
fi

echo
echo "checks on the last outputs:"
echo "  apply output: $left_apply line(s) still hold $SOURCE; sed output: $left_sed$( (( HAVE_LXML )) && echo "; lxml output: $left_lxml")"
echo "  identity output byte-identical to the input: $ident_same"
echo "  batch output: $batch_out xml file(s) for $DIR_COUNT input(s)"
for c in apply identity batchN; do
    if grep -q 'outputs over .* MB; run `sn-retarget check`' "$LOGS/$c.err"; then
        echo "  $c: output check skipped by sn-retarget (outputs over its 64 MB limit)"
    else
        echo "  $c: sn-retarget checked its outputs like \`sn-retarget check\` (it does up to 64 MB of output); included in the time"
    fi
done
echo "  note: sn-retarget flushes its outputs to the disk before moving them in place (fsync, or one syncfs"
echo "        for many); sed and lxml leave them to writeback"
