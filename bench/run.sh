#!/usr/bin/env bash
# kaddr's benchmark: kaddr against binutils addr2line, eu-addr2line and
# llvm-symbolizer on the real Debian 6.1 debug vmlinux and module debug files,
# on the same address sets, alternately (hyperfine), in one run. Writes
# bench/RESULTS.md. Needs the built kaddr (build/kaddr or $KADDR).
#
#   bench/run.sh            full run (about 10 minutes on 2 cores)
#   RUNS=3 bench/run.sh     fewer repetitions
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
kaddr=${KADDR:-$top/build/kaddr}
runs=${RUNS:-5}
[ -x "$kaddr" ] || { echo "bench: build kaddr first (cmake --build build)" >&2; exit 2; }
for t in hyperfine addr2line eu-addr2line llvm-symbolizer-14 python3 /usr/bin/time awk; do
  command -v "$t" >/dev/null || { echo "bench: needs $t (apt-get install hyperfine binutils elfutils llvm-14 python3 time)" >&2; exit 2; }
done

root=$("$top/scripts/fetch-debug.sh" x86_64)
release=6.1.0-56-cloud-amd64
vmlinux=$root/usr/lib/debug/boot/vmlinux-$release
capdir=$top/testdata/captures/deb12-6.1.0-56-cloud
cap=$capdir/capture-1
work=${BENCH_WORK:-$(mktemp -d)}
sets=$work/sets
python3 "$here/gen_sets.py" "$vmlinux" "$cap" "$root/usr/lib/debug/lib/modules/$release" "$sets" >&2

# Per-tool command lines over an address file (all with inline frames).
tool_cmd() {  # tool file
  case $1 in
    kaddr)  echo "$kaddr resolve --vmlinux $vmlinux < $2" ;;
    binutils) echo "addr2line -f -i -e $vmlinux < $2" ;;
    elfutils) echo "eu-addr2line -f -i -e $vmlinux < $2" ;;
    llvm)   echo "llvm-symbolizer-14 --inlining --obj=$vmlinux < $2" ;;
  esac
}
# The multi-module set: one process per file for the other tools (that is how
# they are used), one kaddr run over the runtime addresses with the capture.
multi_cmd() {
  local f=$sets/multi/files.txt
  case $1 in
    kaddr) echo "$kaddr resolve --snapshot $cap/snapshot --debug-root $root < $sets/multi/runtime.txt" ;;
    binutils) echo "while IFS=\$'\t' read -r file list sect; do addr2line -f -i -e \$file \${sect:+-j \$sect} < \$list; done < $f" ;;
    elfutils) echo "while IFS=\$'\t' read -r file list sect; do eu-addr2line -f -i -e \$file \${sect:+-j \$sect} < \$list; done < $f" ;;
    llvm) echo "while IFS=\$'\t' read -r file list sect; do llvm-symbolizer-14 --inlining --obj=\$file < \$list; done < $f" ;;
  esac
}

results=$work/results
mkdir -p "$results"
git -C "$top" rev-parse --short HEAD > "$results/kaddr-rev.txt" 2>/dev/null || echo "?" > "$results/kaddr-rev.txt"
bench() {  # name runs cmd-generator
  local name=$1 n=$2 gen=$3 file=${4:-}
  local args=()
  for t in kaddr binutils elfutils llvm; do
    [ "$name" = random-100000 ] && [ "$t" = elfutils ] && continue  # ~3 minutes a run; measured once below
    args+=(-n "$t" "$($gen $t $file)")
  done
  hyperfine --shell=bash --style basic --warmup 1 --runs "$n" --export-json "$results/$name.json" "${args[@]}" >&2
}
echo 0xffffffff81300000 > "$sets/one.txt"
bench one "$runs" tool_cmd "$sets/one.txt"
bench oops-20 "$runs" tool_cmd "$sets/oops-20.txt"
bench random-1000 "$runs" tool_cmd "$sets/random-1000.txt"
bench multi "$runs" multi_cmd
bench random-100000 3 tool_cmd "$sets/random-100000.txt"

# Peak RSS of each tool on the 100,000 set, and eu-addr2line's time there.
rss() { /usr/bin/time -f %M bash -c "$1" 2>&1 >/dev/null | tail -1; }
for t in kaddr binutils llvm; do echo "$t $(rss "$(tool_cmd $t "$sets/random-100000.txt")")"; done > "$results/rss.txt"
start=$(date +%s.%N); bash -c "$(tool_cmd elfutils "$sets/random-100000.txt")" > /dev/null; end=$(date +%s.%N)
echo "elfutils $(awk "BEGIN { printf \"%.1f\", $end - $start }")" > "$results/eu-100000.txt"

# Persisted index: a second decode of the same oops.
oops_cmd="$kaddr oops --kallsyms $cap/kallsyms.txt --proc-modules $cap/proc_modules.txt --sections $cap/sys_module_sections.txt --proc-version $cap/version.txt --debug-root $root $cap/oops/01-warn.txt"
$oops_cmd > /dev/null 2>&1 || true
hyperfine -N --style basic --warmup 1 --runs "$runs" --export-json "$results/oops-second.json" -n "kaddr oops (index warm)" "$oops_cmd" >&2 || true
hyperfine -N --style basic --runs "$runs" --export-json "$results/oops-noindex.json" -n "kaddr oops --no-index" "$oops_cmd --no-index" >&2 || true

# Answers: identical to llvm-symbolizer's (function, file:line, inline depth).
$kaddr resolve --json --vmlinux "$vmlinux" < "$sets/random-100000.txt" > "$work/k.jsonl"
llvm-symbolizer-14 --inlining --output-style=JSON --obj="$vmlinux" < "$sets/random-100000.txt" > "$work/l.jsonl"
python3 "$here/compare.py" "$work/k.jsonl" "$work/l.jsonl" > "$results/agreement.txt" || true

python3 "$here/report.py" "$results" "$kaddr" "$vmlinux" > "$here/RESULTS.md"
echo "bench: wrote $here/RESULTS.md" >&2
