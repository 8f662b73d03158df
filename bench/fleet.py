#!/usr/bin/env python3
"""Fleet-use measurements (issue 15), printed as Markdown for bench/RESULTS.md:
route against a full batch parse, the long-lived stage's cost per file
against one batch and one process per file, two GNU parallel workers
against --jobs 2, and record sizes.

    bench/fleet.py build/kaddr DEBUG_ROOT [ROUNDS]

CPU times come from the children's rusage (user + system), the best of
ROUNDS runs; per-file costs subtract the cost of starting kaddr once."""
import glob
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

kaddr, dbg = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(here)
corpus = os.path.join(top, "../shared/corpora/syzkaller-linux/report")
pastes = sorted(glob.glob(os.path.join(top, "testdata/pastes/*.txt")))
cap = os.path.join(top, "testdata/captures/deb12-6.1.0-56-cloud")
kernel = ["--debug-root", dbg, "--modules", cap + "/ktoops"]


def run(args, stdin=None):
    """(cpu seconds, wall seconds, stdout) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, p.stdout


def best(args, stdin_path=None):
    cpus, walls, out = [], [], b""
    for _ in range(rounds):
        f = open(stdin_path, "rb") if stdin_path else None
        cpu, wall, out = run(args, f)
        if f:
            f.close()
        cpus.append(cpu)
        walls.append(wall)
    return min(cpus), min(walls), out


def write_list(path, names, times=1):
    with open(path, "w") as f:
        for _ in range(times):
            for n in names:
                f.write(n + "\n")
    return path


tmp = tempfile.mkdtemp(prefix="kaddr-fleet-bench-")
start_cpu, start_wall, _ = best([kaddr, "--version"])
load = os.getloadavg()[0]
print(f"Measured {time.strftime('%Y-%m-%d')} by `bench/fleet.py` ({rounds} rounds, best; load average {load:.1f} on "
      f"{os.cpu_count()} CPUs). Starting kaddr costs {start_cpu * 1e3:.1f} ms CPU; per-file figures subtract it once.\n")

# 1. route against a full parse (no kernel files: the parse is all batch does then).
print("| inputs | files | route per file | batch per file | route's share |")
print("|---|---:|---:|---:|---:|")
sets = [("testdata/pastes", pastes)]
if os.path.isdir(corpus):
    sets.append(("syzkaller corpus", sorted(glob.glob(corpus + "/*"))))
route_ratio = {}
for name, files in sets:
    lst = write_list(os.path.join(tmp, "list"), files, 5)
    n = 5 * len(files)
    r_cpu, _, _ = best([kaddr, "route", "--files-from", lst])
    b_cpu, _, _ = best([kaddr, "batch", "--jobs", "1", "--files-from", lst])
    r = (r_cpu - start_cpu) / n
    b = (b_cpu - start_cpu) / n
    route_ratio[name] = b / r
    print(f"| {name} | {len(files)} (x5) | {r * 1e6:.0f} us | {b * 1e6:.0f} us | 1/{b / r:.1f} |")
print()

# 2. The long-lived stage against one batch and one process per file, with a kernel.
copies = os.path.join(tmp, "copies")
os.makedirs(copies)
for c in range(50):
    for f in sorted(glob.glob(cap + "/capture-1/oops/*.txt")):
        shutil.copy(f, os.path.join(copies, f"{c:02d}-{os.path.basename(f)}"))
files = sorted(glob.glob(copies + "/*"))
lst = write_list(os.path.join(tmp, "stage-list"), files)
n = len(files)
batch_cpu, batch_wall, batch_out = best([kaddr, "batch", "--jobs", "1"] + kernel + [copies])
stage_cpu, stage_wall, stage_out = best([kaddr, "batch"] + kernel + ["--files-from", "-"], lst)
single = files[:20]
per_proc = []
for _ in range(rounds):
    total = 0.0
    for f in single:
        total += run([kaddr, "batch"] + kernel + [f])[0]
    per_proc.append(total / len(single))
proc = min(per_proc)
jobs2_cpu, jobs2_wall, _ = best([kaddr, "batch", "--jobs", "2"] + kernel + [copies])
par = None
if shutil.which("parallel"):
    cmd = ["parallel", "--will-cite", "-j", "2", "--pipe", "-N", str((n + 1) // 2), "--keep-order",
           " ".join([kaddr, "batch"] + kernel + ["--files-from", "-"]) + "; [ $? -le 1 ]"]
    par = best(cmd, lst)
print(f"{n} reports of the bundled Debian 6.1 captures (4 reports x 50 copies) with the -dbg package:\n")
print("| how | wall | CPU | CPU per file |")
print("|---|---:|---:|---:|")
print(f"| one `batch --jobs 1 DIR` | {batch_wall * 1e3:.0f} ms | {batch_cpu * 1e3:.0f} ms | {batch_cpu / n * 1e3:.2f} ms |")
print(f"| one `batch --files-from -` stage | {stage_wall * 1e3:.0f} ms | {stage_cpu * 1e3:.0f} ms | {stage_cpu / n * 1e3:.2f} ms |")
print(f"| a `kaddr batch FILE` process per file | | | {proc * 1e3:.1f} ms |")
print(f"| `batch --jobs 2 DIR` | {jobs2_wall * 1e3:.0f} ms | {jobs2_cpu * 1e3:.0f} ms | |")
if par:
    print(f"| GNU parallel -j 2, two stages | {par[1] * 1e3:.0f} ms | {par[0] * 1e3:.0f} ms | |")
print()
same = stage_out.replace(b"\n", b"\n") == batch_out
print(f"Stage records equal the batch's: {same}.\n")

# 3. Record sizes.
full = [len(l) + 1 for l in batch_out.splitlines() if b'"record":"report"' in l]
summ = []
for d in [os.path.join(top, "testdata/pastes")] + ([corpus] if os.path.isdir(corpus) else []):
    out = run([kaddr, "batch", "--summary", d])[2]
    summ += [len(l) + 1 for l in out.splitlines() if b'"record":"summary"' in l]
print(f"Full report records with the -dbg package: mean {sum(full) / len(full) / 1024:.1f} KiB, largest "
      f"{max(full) / 1024:.1f} KiB. Summary records on the pastes and the syzkaller corpus: {len(summ)}, largest "
      f"{max(summ)} bytes, mean {sum(summ) / len(summ):.0f} bytes.\n")

targets = [
    ("long-lived stage cost per file <= 1.2x one batch's", f"{stage_cpu / batch_cpu:.2f}x"),
    ("2 engine workers <= 1.1x the wall time of --jobs 2", f"{par[1] / jobs2_wall:.2f}x" if par else "parallel missing"),
    ("route >= 10x the full-parse rate", ", ".join(f"{k}: {v:.1f}x" for k, v in route_ratio.items())),
    ("summary records <= 2 KiB", f"largest {max(summ)} bytes"),
]
print("| target (issue 15) | measured |")
print("|---|---|")
for t, m in targets:
    print(f"| {t} | {m} |")
shutil.rmtree(tmp)
