#!/usr/bin/env python3
"""Reference ceiling for password checks: Argon2id verifications per second of
the C reference implementation (phc-winner-argon2, via argon2-cffi) on every
core, with the same parameters our server hashes with (OWASP: m=19 MiB, t=2,
p=1). A login endpoint cannot beat this, so the harness reports our number
against it. Prints one JSON line on stdout.

    python3 argon2_floor.py [--seconds 5] [--processes N]
"""

import argparse
import json
import multiprocessing
import os
import time
from importlib.metadata import version

from argon2 import PasswordHasher, Type

PASSWORD = "correct horse battery staple"


def hasher():
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1,
                          hash_len=32, salt_len=16, type=Type.ID)


def worker(encoded, start_at, deadline, counts, slot):
    ph = hasher()
    # Wait for the shared start so process spawn time is not counted as work.
    time.sleep(max(0.0, start_at - time.time()))
    n = 0
    while time.time() < deadline:
        ph.verify(encoded, PASSWORD)
        n += 1
    counts[slot] = n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    if args.seconds <= 0 or args.processes < 1:
        ap.error("--seconds must be > 0 and --processes >= 1")

    encoded = hasher().hash(PASSWORD)
    counts = multiprocessing.Array("q", args.processes, lock=False)
    # Wall-clock (not monotonic) times because they cross process boundaries.
    start_at = time.time() + 0.5
    deadline = start_at + args.seconds
    procs = [multiprocessing.Process(target=worker, args=(encoded, start_at, deadline, counts, i))
             for i in range(args.processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit("argon2_floor: a worker process failed")
    # The last verification of each worker overruns the deadline; measure the
    # real span so the rate is not inflated.
    measured = time.time() - start_at
    total = sum(counts)
    print(json.dumps({
        "implementation": f"argon2-cffi {version('argon2-cffi')} (phc-winner-argon2 C)",
        "processes": args.processes,
        "seconds": round(measured, 3),
        "verifications": total,
        "per_second": round(total / measured, 1),
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
