#!/usr/bin/env python3
"""The executor workloads of benches/executor.rs, on CPython's ThreadPoolExecutor.

Run: python3 benches/python_tpe.py   (prints the median of several runs per
workload, in the units BENCHMARKS.md uses). Two workers, as in the Rust run.

python3 benches/python_tpe.py --serve [workers]   starts a pool of `workers`
(default 2), prints "ready", then runs one submit_collect_100k round per
line read from stdin and prints its time in ms: executor_paired.rs
alternates these rounds with its own, so both are timed in the same phase
of the machine.
"""
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor, Future, as_completed

WORKERS = 2
MANY = 100_000
SOME = 10_000


def median_time(fn, runs):
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def noop(i):
    return i


def submit_collect(pool):
    fs = [pool.submit(noop, i) for i in range(MANY)]
    for f in fs:
        f.result()


def serve(workers):
    with ThreadPoolExecutor(workers) as pool:
        pool.submit(noop, 0).result()  # start the workers
        print("ready", flush=True)
        for _ in sys.stdin:
            t0 = time.perf_counter()
            submit_collect(pool)
            print(f"{(time.perf_counter() - t0) * 1e3:.3f}", flush=True)


def main():
    with ThreadPoolExecutor(WORKERS) as pool:
        pool.submit(noop, 0).result()  # start the workers

        t = median_time(lambda: submit_collect(pool), 5)
        print(f"submit_collect_100k  {t * 1e3:10.1f} ms")

        n = 2000

        def round_trips():
            for _ in range(n):
                pool.submit(noop, 1).result()

        t = median_time(round_trips, 5) / n
        print(f"round_trip           {t * 1e6:10.2f} us")

        def cancels():
            fs = [Future() for _ in range(SOME)]
            t0 = time.perf_counter()
            for f in fs:
                f.cancel()
            return time.perf_counter() - t0

        t = statistics.median(cancels() for _ in range(5)) / SOME
        print(f"cancel_pending       {t * 1e9:10.1f} ns")

        def map_():
            sum(pool.map(lambda i: i + 1, range(SOME)))

        t = median_time(map_, 5)
        print(f"collect_10k/map      {t * 1e3:10.1f} ms")

        def as_completed_():
            fs = [pool.submit(noop, i) for i in range(SOME)]
            for _ in as_completed(fs):
                pass

        t = median_time(as_completed_, 5)
        print(f"collect_10k/as_completed {t * 1e3:6.1f} ms")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]) if len(sys.argv) > 2 else WORKERS)
    else:
        main()
