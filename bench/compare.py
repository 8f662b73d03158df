#!/usr/bin/env python3
"""Checks kaddr's answers against llvm-symbolizer's for the same addresses.

usage: compare.py KADDR_JSONL LLVM_JSONL
Both files have one JSON record per address (kaddr resolve --json;
llvm-symbolizer --output-style=JSON). Compared: the function of every inline
frame (GCC clone suffixes aside), file (as a path suffix) and line, and the
inline depth. Prints the agreement and the first disagreements; exits 1 when
any address differs.
"""
import json
import sys

def base(name):
    return (name or "").split(".")[0]

def same_path(a, b):
    if not a or not b:
        return not a and not b
    s, l = sorted((a, b), key=len)
    return l.endswith(s) and (len(l) == len(s) or l[-len(s) - 1] == "/")

k_lines = [json.loads(l) for l in open(sys.argv[1])]
l_lines = [json.loads(l) for l in open(sys.argv[2])]
assert len(k_lines) == len(l_lines), (len(k_lines), len(l_lines))
bad = []
for k, l in zip(k_lines, l_lines):
    want = [f for f in l.get("Symbol", []) if f.get("FunctionName") not in (None, "", "??")]
    got = k.get("locations") or []
    ok = len(want) == len(got)
    for i, (g, w) in enumerate(zip(got, want)):
        names = {base(g["function"])}
        if i == len(want) - 1:
            # llvm-symbolizer names the out-of-line frame after the ELF symbol
            # (--use-symbol-table); kaddr reports that name as `symbol`.
            names |= {base(k.get("symbol"))} | {base(a) for a in k.get("aliases", [])}
        ok = ok and base(w["FunctionName"]) in names
        if w.get("FileName") and w.get("Line"):  # line 0: llvm echoes the STT_FILE name, no line info
            ok = ok and same_path(g["file"] or "", w["FileName"]) and g["line"] == w["Line"]
    if not want and not got:
        ok = True
    if not ok:
        bad.append((k["input"], [(g["function"], g["file"], g["line"]) for g in got],
                    [(w["FunctionName"], w.get("FileName"), w.get("Line")) for w in want]))
print("agreement with llvm-symbolizer: %d/%d addresses" % (len(k_lines) - len(bad), len(k_lines)))
for b in bad[:10]:
    print("  differs:", b)
sys.exit(1 if bad else 0)
