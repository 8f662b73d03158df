#!/usr/bin/env bash
# The persisted source index (issue 14) on the configuration a user has:
# a /proc + /sys capture (--snapshot) and the Debian -dbg package
# (--debug-root), KASLR runtime addresses. Every tool runs alternately on the
# same addresses in one hyperfine run (warm page cache, whole process, inline
# frames on). Writes bench/RESULTS-index.md.
#
#   bench/index.sh            (about 10 minutes on 2 cores)
#   RUNS=5 bench/index.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
kaddr=${KADDR:-$top/build/kaddr}
runs=${RUNS:-10}
for t in hyperfine addr2line eu-addr2line llvm-symbolizer-14 llvm-gsymutil-14 python3 /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench: needs $t (apt-get install hyperfine binutils elfutils llvm-14 python3 time)" >&2; exit 2; }
done
root=$("$top/scripts/fetch-debug.sh" x86_64)
release=6.1.0-56-cloud-amd64
vmlinux=$root/usr/lib/debug/boot/vmlinux-$release
modules=$root/usr/lib/debug/lib/modules/$release
cap=$top/testdata/captures/deb12-6.1.0-56-cloud/capture-1
work=${BENCH_WORK:-$(mktemp -d)}
sets=$work/sets
res=$work/results
mkdir -p "$res"
python3 "$here/gen_sets.py" "$vmlinux" "$cap" "$modules" "$sets" >&2
inputs="--snapshot $cap/snapshot --debug-root $root"
idx=$work/index        # built by kaddr index below
noidx=$work/no-source  # only the symbol index a first run leaves
fresh=$work/fresh      # emptied before every run: a first run ever

# 1. Building the index against converting to GSYM: same file, 2 threads.
measure_build() {  # name out-file cmd...
  local name=$1 out=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$res/$name.time" "$@" > /dev/null
  echo "$name $(cat "$res/$name.time") $(du -b $out | awk '{s+=$1} END {print s}')" >> "$res/build.txt"
}
rm -f "$res/build.txt"
rm -rf "$idx"; measure_build kaddr-index-vmlinux "$idx/*.ksrc" "$kaddr" index --index-dir "$idx" -j2 --vmlinux "$vmlinux"
measure_build gsymutil-convert "$work/vmlinux.gsym" llvm-gsymutil-14 --num-threads=2 --convert "$vmlinux" --out-file "$work/vmlinux.gsym"
# The capture's modules too (the multi-module set needs them).
mods=$(awk '{print $1}' "$cap/snapshot/proc/modules" | while read -r m; do
  find "$modules" -name "$m.ko" -o -name "$(echo "$m" | tr _ -).ko"; done | sort -u)
"$kaddr" index --index-dir "$idx" -j2 $mods > "$res/modules-index.txt"
"$kaddr" resolve $inputs --index-dir "$noidx" < "$sets/runtime-20.txt" > /dev/null  # symbol index only

# 2. Address sets, all tools alternately.
cmd() {  # tool set
  case $1 in
    kaddr-indexed) echo "$kaddr resolve $inputs --index-dir $idx < $sets/runtime-$2.txt" ;;
    kaddr-cold) echo "$kaddr resolve $inputs --index-dir $noidx < $sets/runtime-$2.txt" ;;
    kaddr-first-run) echo "$kaddr resolve $inputs --index-dir $fresh < $sets/runtime-$2.txt" ;;
    eu-addr2line) echo "eu-addr2line -f -i -e $vmlinux < $sets/link-$2.txt" ;;
    llvm-symbolizer) echo "llvm-symbolizer-14 --inlining --obj=$vmlinux < $sets/link-$2.txt" ;;
    addr2line) echo "addr2line -f -i -e $vmlinux < $sets/link-$2.txt" ;;
  esac
}
bench() {  # name runs set tools...
  local name=$1 n=$2 set=$3; shift 3
  local args=()
  for t in "$@"; do args+=(-n "$t" "$(cmd "$t" "$set")"); done
  hyperfine --shell=bash --style basic --warmup 1 --runs "$n" --prepare "rm -rf $fresh" \
    --export-json "$res/$name.json" "${args[@]}" >&2
}
bench random-20 "$runs" 20 kaddr-indexed kaddr-cold kaddr-first-run eu-addr2line llvm-symbolizer addr2line
bench random-100000 3 100000 kaddr-indexed kaddr-cold llvm-symbolizer
multi_other() {  # tool: one process per file, as these tools are used
  local f=$sets/multi/files.txt
  case $1 in
    eu-addr2line) echo "while IFS=\$'\t' read -r file list sect; do eu-addr2line -f -i -e \$file \${sect:+-j \$sect} < \$list; done < $f" ;;
    llvm-symbolizer) echo "while IFS=\$'\t' read -r file list sect; do llvm-symbolizer-14 --inlining --obj=\$file < \$list; done < $f" ;;
    addr2line) echo "while IFS=\$'\t' read -r file list sect; do addr2line -f -i -e \$file \${sect:+-j \$sect} < \$list; done < $f" ;;
  esac
}
hyperfine --shell=bash --style basic --warmup 1 --runs "$runs" --export-json "$res/multi.json" \
  -n kaddr-indexed "$kaddr resolve $inputs --index-dir $idx < $sets/multi/runtime.txt" \
  -n kaddr-cold "$kaddr resolve $inputs --index-dir $noidx < $sets/multi/runtime.txt" \
  -n eu-addr2line "$(multi_other eu-addr2line)" -n llvm-symbolizer "$(multi_other llvm-symbolizer)" \
  -n addr2line "$(multi_other addr2line)" >&2

# 3. Peak RSS on 100,000 addresses; answers identical with and without the index.
for t in kaddr-indexed kaddr-cold llvm-symbolizer; do
  echo "$t $(/usr/bin/time -f %M bash -c "$(cmd $t 100000)" 2>&1 >/dev/null | tail -1)"
done > "$res/rss.txt"
bash -c "$(cmd kaddr-indexed 100000) --json" > "$work/indexed.jsonl"
bash -c "$(cmd kaddr-cold 100000) --json" > "$work/cold.jsonl"
if cmp -s "$work/indexed.jsonl" "$work/cold.jsonl"; then echo identical > "$res/same.txt"; else echo DIFFERENT > "$res/same.txt"; fi

# 4. kaddr batch over 10,000 reports of the capture's kernel (its four real
# oopses, copied round-robin), indexes built: reports per second.
reports=$work/reports
rm -rf "$reports"; mkdir -p "$reports"
n=0
while [ $n -lt 10000 ]; do
  for f in "$cap"/oops/*.txt; do cp "$f" "$reports/$n-$(basename "$f")"; n=$((n + 1)); done
done
/usr/bin/time -f "%e %M" -o "$res/batch.time" "$kaddr" batch --jobs 2 $inputs --index-dir "$idx" "$reports" \
  > "$work/batch.jsonl" 2> /dev/null || true
echo "$(ls "$reports" | wc -l) $(grep -c '"record":"report"' "$work/batch.jsonl" || true) $(cat "$res/batch.time")" > "$res/batch.txt"

python3 "$here/report_index.py" "$res" "$kaddr" "$vmlinux" > "$here/RESULTS-index.md"
echo "bench: wrote $here/RESULTS-index.md" >&2
