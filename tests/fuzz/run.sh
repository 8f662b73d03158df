#!/usr/bin/env bash
# Replays the fuzz corpora and runs each libFuzzer target for a bounded time.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]
# BUILD_DIR was configured with -DKADDR_FUZZ=ON (clang). Seeds come from
# testdata/ and ../shared (the shared directory beside the repository);
# every crash input ever found is kept in testdata/fuzz-regressions/TARGET/
# and replayed first. SECONDS_PER_TARGET=0 only replays. Exits non-zero on
# any crash, leak, sanitizer report or timeout, leaving the input in
# BUILD_DIR/fuzz-artifacts/TARGET/ (add it to the regression corpus once
# fixed). Prints one line per target: execs, exec/s, coverage.
# KADDR_FUZZ_RUNS=N also ends each run after N executions (the long runs of
# issue 11: KADDR_FUZZ_RUNS=10000000 run.sh build-san 3600 ends at whichever
# of 10 M executions or 1 h comes first).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR [SECONDS] [TARGET...]}" && pwd)
seconds=${2:-10}
shift $(( $# >= 2 ? 2 : 1 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(report frame_expr kallsyms system_map proc_modules section_list proc_version
                                     sysfs_tree elf decompress index source_index)
shared=$(cd "$repo/.." && pwd)/shared
td=$repo/testdata
caps=$td/captures
seeds=$build/fuzz-seeds
work=$build/fuzz-corpus

# Seeds: small real inputs of each kind (large files cut into pieces: the
# fuzzer mutates small inputs faster, and libFuzzer caps the length).
make_seeds() {
    local t=$1 d=$seeds/$1 n=0
    local -
    set +o pipefail # `... | head` ends its writer early, which is fine here
    rm -rf "$d"
    mkdir -p "$d"
    piece() { # FILE LINES: the first LINES lines of FILE as one seed
        head -n "$2" "$1" >"$d/$(printf %04d $n)"
        n=$((n + 1))
    }
    case $t in
    report | frame_expr)
        for f in "$caps"/*/*/oops/* "$caps"/*/*/console-oops/* "$td"/syzkaller/*.log "$shared"/seeds/*; do
            [ -f "$f" ] && piece "$f" 400
        done
        find "$shared/corpora" -type f -name '*.txt' 2>/dev/null | sort | head -200 | while read -r f; do
            head -c 16384 "$f" >"$d/c-$(basename "$f")"
        done
        if [ "$t" = frame_expr ]; then
            grep -h -o '[A-Za-z_][A-Za-z0-9_.]*+0x[0-9a-f]*/0x[0-9a-f]*\( \[[a-z_0-9]*\]\)\?' "$caps"/*/*/oops/* |
                sort -u | head -300 | split -l 4 - "$d/expr-"
            printf '0xffffffffc0569046\nffffffff81000000\nvfs_write+0x11111111111111111\n' >"$d/expr-addresses"
        fi
        ;;
    kallsyms) for f in "$caps"/*/*/kallsyms.txt; do piece "$f" 300; done ;;
    system_map) for f in "$caps"/*/*/kallsyms.txt; do grep -v '\[' "$f" | head -300 >"$d/$(printf %04d $n)"; n=$((n + 1)); done ;;
    proc_modules) for f in "$caps"/*/*/proc_modules*.txt; do piece "$f" 100; done ;;
    section_list) for f in "$caps"/*/*/sys_module_sections.txt; do piece "$f" 200; done ;;
    proc_version) for f in "$caps"/*/*/version.txt; do piece "$f" 5; done ;;
    sysfs_tree)
        for s in "$caps"/*/*/snapshot/sys/module; do
            (cd "$s" && for f in */sections/.text */sections/.data */sections/.bss; do
                [ -f "$f" ] && printf '%s %s\n' "${f%%/*}/${f##*/}" "$(cat "$f")"
            done) | head -8 >"$d/$(printf %04d $n)"
            n=$((n + 1))
        done
        ;;
    elf)
        cp "$build/tests/fixtures/fxmod.ko" "$build/tests/fixtures/fxvmlinux" "$d/"
        for k in "$caps"/*/ktoops/ktoops.ko; do cp "$k" "$d/ktoops-$(basename "$(dirname "$(dirname "$k")")").ko"; done
        xz -k -c "$build/tests/fixtures/fxmod.ko" >"$d/fxmod.ko.xz"
        zstd -q -c "$build/tests/fixtures/fxmod.ko" >"$d/fxmod.ko.zst"
        gzip -c "$build/tests/fixtures/fxmod.ko" >"$d/fxmod.ko.gz"
        ;;
    decompress)
        for f in "$caps"/deb12-6.1.0-56-cloud/capture-1/oops/*; do
            gzip -c "$f" >"$d/$(basename "$f").gz"
            xz -c "$f" >"$d/$(basename "$f").xz"
            zstd -q -c "$f" >"$d/$(basename "$f").zst"
        done
        ;;
    index)
        local cache
        cache=$(mktemp -d)
        KADDR_CACHE=$cache "$build/kaddr" resolve --vmlinux "$build/tests/fixtures/fxvmlinux" 0xffffffff81000060 >/dev/null
        cp "$cache"/index/*.idx "$d/"
        rm -rf "$cache"
        ;;
    source_index)
        local store
        store=$(mktemp -d)
        "$build/kaddr" index --index-dir "$store" --vmlinux "$build/tests/fixtures/fxvmlinux" >/dev/null
        cp "$store"/*.ksrc "$d/"
        rm -rf "$store"
        ;;
    esac
}

max_len() {
    case $1 in
    elf | index | source_index) echo 300000 ;;
    report) echo 32768 ;;
    *) echo 8192 ;;
    esac
}

status=0
printf '%-13s %10s %8s %7s %7s  %s\n' target execs exec/s cov ft result
for t in "${targets[@]}"; do
    bin=$build/tests/fuzz/fuzz_$t
    [ -x "$bin" ] || { echo "$t: $bin not built (configure with -DKADDR_FUZZ=ON)" >&2; exit 2; }
    make_seeds "$t"
    regress=$td/fuzz-regressions/$t
    mkdir -p "$work/$t" "$build/fuzz-artifacts/$t"
    log=$build/fuzz-$t.log
    common=(-timeout=20 -rss_limit_mb=4096 -max_len="$(max_len "$t")" -artifact_prefix="$build/fuzz-artifacts/$t/"
            -print_final_stats=1)
    runs=()
    [ -z "${KADDR_FUZZ_RUNS:-}" ] || runs=(-runs="$KADDR_FUZZ_RUNS")
    result=ok
    # Every crash input ever found, then the seeds, once each.
    if [ -d "$regress" ] && [ -n "$(ls -A "$regress" 2>/dev/null)" ]; then
        "$bin" "${common[@]}" "$regress"/* >"$log.regress" 2>&1 || { result="REGRESSION (see $log.regress)"; status=1; }
    fi
    if [ "$result" = ok ]; then
        if [ "$seconds" -gt 0 ]; then
            "$bin" "${common[@]}" "${runs[@]}" -max_total_time="$seconds" "$work/$t" "$seeds/$t" >"$log" 2>&1 ||
                { result="FAILED (see $log)"; status=1; }
        else
            "$bin" "${common[@]}" -runs=0 "$seeds/$t" >"$log" 2>&1 || { result="FAILED (see $log)"; status=1; }
        fi
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" 2>/dev/null | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" 2>/dev/null | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" 2>/dev/null | tail -1 | cut -d' ' -f2)
    printf '%-13s %10s %8s %7s %7s  %s\n' "$t" "${execs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "$result"
done
exit $status
