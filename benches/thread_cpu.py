#!/usr/bin/env python3
"""CPU time of each dumpsed thread over one run: the reader/worker/writer split.

    python3 benches/thread_cpu.py [--interval-ms 5] -- target/release/dumpsed rewrite ... -o OUT

Runs the command and polls /proc/PID/task/*/stat (utime and stime, fields 14
and 15 of proc(5)) until it exits. The pipeline names its threads
(dumpsed-reader, dumpsed-worker-N, dumpsed-check; the writer is the main
thread, named after the program). A thread's last sample is at most one
interval before it ends, so each figure is low by at most that much. Prints
one line per thread kind: user, system and total seconds, the share of the
whole, and minor page faults (field 10).
"""
import argparse
import os
import subprocess
import sys
import time


def sample(pid, seen, tick):
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                raw = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # comm is in parentheses and may hold spaces: split after the last ')'.
        close = raw.rfind(b")")
        comm = raw[raw.find(b"(") + 1 : close].decode(errors="replace")
        fields = raw[close + 2 :].split()
        # fields[0] is field 3 (state): utime is field 14, stime field 15.
        # minflt is field 10 (page faults that needed no I/O).
        utime, stime = int(fields[11]) / tick, int(fields[12]) / tick
        seen[tid] = (comm, utime, stime, int(fields[7]))


def kind(comm):
    if comm.startswith("dumpsed-worker"):
        return "workers"
    if comm == "dumpsed-reader":
        return "reader"
    if comm == "dumpsed-check":
        return "collision check"
    return "writer (main)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--interval-ms", type=float, default=5.0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command given")
    tick = os.sysconf("SC_CLK_TCK")
    seen = {}
    start = time.monotonic()
    p = subprocess.Popen(cmd)
    while p.poll() is None:
        sample(p.pid, seen, tick)
        time.sleep(a.interval_ms / 1000)
    wall = time.monotonic() - start
    if p.returncode != 0:
        print(f"thread_cpu: command exited with {p.returncode}", file=sys.stderr)
        return p.returncode
    by = {}
    for comm, u, s, f in seen.values():
        k = kind(comm)
        bu, bs, bf, n = by.get(k, (0.0, 0.0, 0, 0))
        by[k] = (bu + u, bs + s, bf + f, n + 1)
    total = sum(u + s for u, s, _, _ in by.values()) or 1.0
    print(f"wall {wall:.3f} s; CPU by thread (clock tick {1000 / tick:.0f} ms, sampled every {a.interval_ms:g} ms)")
    print(f"{'thread':<18} {'n':>2} {'user s':>7} {'sys s':>7} {'total s':>8} {'share':>6} {'minor faults':>13}")
    for k in ["reader", "workers", "writer (main)", "collision check"]:
        if k in by:
            u, s, f, n = by[k]
            print(f"{k:<18} {n:>2} {u:>7.2f} {s:>7.2f} {u + s:>8.2f} {100 * (u + s) / total:>5.0f}% {f:>13}")
    print(f"{'all':<18} {'':>2} {'':>7} {'':>7} {total:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
