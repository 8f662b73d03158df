#!/usr/bin/python3
"""kaddr batch on a Dask distributed cluster (the README's Dask recipe).

    kaddr-dask.py --scheduler ADDRESS [--chunk N] [--kaddr PATH] -- [kaddr batch options] < names

Reads input names on standard input, one a line, cuts them into chunks of N
and has the cluster's workers run one `kaddr batch OPTIONS --files-from -`
stage per chunk. Records are written to standard output in input order, as
each chunk's turn comes; each chunk's batch-totals record is left out and one
for the whole run is written last, so the output is what one process writes.
A chunk is a pure task (the same names give the same records), so a worker
that dies is replaced by Dask re-running its chunks elsewhere (retries);
status 1 (a report not fully resolved) is a result, anything else a failure.
Every worker needs kaddr and the same debug files at the same paths (a
read-only shared store)."""
import argparse
import json
import subprocess
import sys

from distributed import Client


def run_chunk(kaddr, options, names):
    p = subprocess.run([kaddr, "batch", *options, "--files-from", "-"], input="".join(n + "\n" for n in names),
                       capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"kaddr batch exited with {p.returncode}: {p.stderr.strip()[-500:]}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scheduler", required=True, help="the scheduler's address, e.g. tcp://127.0.0.1:8786")
    ap.add_argument("--chunk", type=int, default=50, help="names per task (default 50)")
    ap.add_argument("--kaddr", default="kaddr", help="the kaddr binary on the workers")
    ap.add_argument("options", nargs=argparse.REMAINDER, help="after --: options for kaddr batch")
    a = ap.parse_args()
    options = a.options[1:] if a.options[:1] == ["--"] else a.options
    names = [l.rstrip("\n") for l in sys.stdin if l.strip()]
    chunks = [names[i:i + a.chunk] for i in range(0, len(names), a.chunk)]
    totals = {"files": 0, "reports": 0, "resolved": 0, "partly_resolved": 0, "failed": 0, "unreadable_files": 0,
              "files_without_report": 0}
    with Client(a.scheduler) as client:
        futures = [client.submit(run_chunk, a.kaddr, options, c, pure=False, retries=3, key=f"kaddr-chunk-{i}")
                   for i, c in enumerate(chunks)]
        for f in futures:  # in input order
            for line in f.result().splitlines():
                record = json.loads(line)
                if record.get("record") == "batch-totals":
                    for k in totals:
                        totals[k] += record[k]
                    continue
                sys.stdout.write(line + "\n")
            sys.stdout.flush()
    sys.stdout.write(json.dumps({"schema_version": 1, "record": "batch-totals", "batch": "complete", **totals},
                                separators=(",", ":"), sort_keys=True) + "\n")
    return 0 if totals["partly_resolved"] + totals["failed"] + totals["unreadable_files"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
