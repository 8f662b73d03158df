#!/usr/bin/python3
"""Runs scripts/kaddr-dask.py on a Dask cluster on 127.0.0.1 only (a
scheduler and two workers, dashboards off), killing one worker with SIGKILL
as soon as the first chunk's records arrive, and copies the recipe's output
to standard output. Exit 77 when Debian's python3-distributed is missing.

    tests/dask-cluster.py RECIPE KADDR CHUNK [kaddr batch options] < names"""
import os
import signal
import subprocess
import sys
import tempfile
import time

try:
    import distributed  # noqa: F401
except ImportError:
    print("SKIPPED: python3-distributed is not installed", file=sys.stderr)
    sys.exit(77)

recipe, kaddr, chunk, *options = sys.argv[1:]
names = sys.stdin.read()
tmp = tempfile.mkdtemp(prefix="kaddr-dask-")
sched_file = os.path.join(tmp, "scheduler.json")
env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
quiet = subprocess.DEVNULL
scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                              "--dashboard-address", ":0", "--no-dashboard", "--scheduler-file", sched_file],
                             stdout=quiet, stderr=quiet, env=env)
workers = []
try:
    for _ in range(60):
        if os.path.exists(sched_file):
            break
        time.sleep(0.25)
    for i in range(2):
        workers.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", sched_file,
                                         "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1",
                                         "--no-nanny", "--local-directory", tmp],
                                        stdout=quiet, stderr=quiet, env=env))
    from distributed import Client
    with Client(scheduler_file=sched_file, timeout=30) as c:
        c.wait_for_workers(2, timeout=60)
        address = c.scheduler.address
    run = subprocess.Popen([sys.executable, recipe, "--scheduler", address, "--chunk", chunk, "--kaddr", kaddr, "--", *options],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    run.stdin.write(names)
    run.stdin.close()
    first = run.stdout.readline()
    workers[1].send_signal(signal.SIGKILL)  # mid-run: its chunks are re-run on the other worker
    workers[1].wait()
    print("dask-cluster: killed a worker after the first records", file=sys.stderr)
    sys.stdout.write(first)
    sys.stdout.write(run.stdout.read())
    sys.exit(run.wait())
finally:
    for p in workers + [scheduler]:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
