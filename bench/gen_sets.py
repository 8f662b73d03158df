#!/usr/bin/env python3
"""Generates the benchmark's address sets, reproducibly (fixed seed).

usage: gen_sets.py VMLINUX CAPTURE_DIR MODULE_DEBUG_DIR OUTDIR

  random-1000.txt, random-100000.txt   random addresses inside text symbols
  oops-20.txt                          the 20 core frames of a real oops
                                       (link-time call sites, as a user would
                                       feed them to addr2line)
  multi/                               1,000 runtime addresses spread over 20
                                       modules plus vmlinux: multi.txt for kaddr,
                                       and per-file section offsets for the tools
"""
import os
import random
import subprocess
import sys

vmlinux, capture, moddir, out = sys.argv[1:5]
os.makedirs(out, exist_ok=True)
rng = random.Random(20261123)

# Text symbols with sizes, from nm (the benchmark may use binutils freely).
syms = []
for line in subprocess.run(["nm", "-S", "--defined-only", vmlinux], capture_output=True, text=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 4 and parts[2] in "Tt" and int(parts[1], 16) > 0:
        syms.append((int(parts[0], 16), int(parts[1], 16)))

def random_text(n):
    return ["0x%x" % (a + rng.randrange(s)) for a, s in (rng.choice(syms) for _ in range(n))]

for n in (1000, 100000):
    with open(os.path.join(out, "random-%d.txt" % n), "w") as f:
        f.write("\n".join(random_text(n)) + "\n")

# The realistic sets (bench/index.sh): random text addresses as a user has
# them, at the capture's KASLR runtime addresses, and link-time for the
# tools that only read vmlinux. 20 random functions out of ~50,000 land in
# 20 different compile units (checked below with the CU count).
KASLR_CAPTURE1 = 0x18200000
for n in (20, 100000):
    link = [int(a, 16) for a in random_text(n)]
    with open(os.path.join(out, "link-%d.txt" % n), "w") as f:
        f.write("\n".join("0x%x" % a for a in link) + "\n")
    with open(os.path.join(out, "runtime-%d.txt" % n), "w") as f:
        f.write("\n".join("0x%x" % (a + KASLR_CAPTURE1) for a in link) + "\n")

# A real oops: core frames of the captured WARN, as link-time call sites.
kaslr = 0x18200000
frames = []
for line in open(os.path.join(capture, "groundtruth/oops-frames.tsv")).read().splitlines()[1:]:
    cols = line.split("\t")
    if cols[0] == "01-warn.txt" and cols[3] == "vmlinux":
        a = int(cols[4], 16) - kaslr - (0 if cols[2] == "RIP" else 1)
        frames.append("0x%x" % a)
with open(os.path.join(out, "oops-20.txt"), "w") as f:
    f.write("\n".join(frames[:20]) + "\n")

# Multi-module: the 20 largest .text sections of the capture's modules, plus vmlinux.
sections = {}
for line in open(os.path.join(capture, "sys_module_sections.txt")):
    mod, sect, addr = line.split()
    if sect == ".text":
        sections[mod] = int(addr, 16)
mods = []
for root, _, files in os.walk(moddir):
    for fn in files:
        name = fn[:-3].replace("-", "_")
        if fn.endswith(".ko") and name in sections:
            size = 0
            for l in subprocess.run(["readelf", "-SW", os.path.join(root, fn)], capture_output=True, text=True).stdout.splitlines():
                p = l.replace("[ ", "[").split()
                if len(p) > 5 and p[1] == ".text":
                    size = int(p[5], 16)
            mods.append((name, os.path.join(root, fn), size))
mods = sorted(mods, key=lambda m: -m[2])[:20]
mdir = os.path.join(out, "multi")
os.makedirs(mdir, exist_ok=True)
runtime = []
with open(os.path.join(mdir, "files.txt"), "w") as files:
    per_file = {}
    for i in range(1000):
        if i % 21 == 20:
            a = int(random_text(1)[0], 16)
            per_file.setdefault(vmlinux, []).append("0x%x" % a)
            runtime.append("0x%x" % (a + kaslr))
        else:
            name, path, size = mods[i % 21 % len(mods)]
            off = rng.randrange(size)
            per_file.setdefault(path, []).append("0x%x" % off)
            runtime.append("0x%x" % (sections[name] + off))
    for k, (path, offs) in enumerate(per_file.items()):
        lst = os.path.join(mdir, "set-%02d.txt" % k)
        with open(lst, "w") as f:
            f.write("\n".join(offs) + "\n")
        files.write("%s\t%s\t%s\n" % (path, lst, "" if path == vmlinux else ".text"))
with open(os.path.join(mdir, "runtime.txt"), "w") as f:
    f.write("\n".join(runtime) + "\n")
print("sets written to", out, "(%d text symbols, %d modules)" % (len(syms), len(mods)))
