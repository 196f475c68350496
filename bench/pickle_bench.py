#!/usr/bin/env python3
"""Times CPython's C pickle (pickle.dumps / pickle.loads, protocol 4) on the
data of pickle/bench_test.go (BenchmarkPickle) and prints one line per case:

    CASE OP NS_PER_OP BYTES [CPU_NS_PER_OP]

for example "request decode 1234.5 151". NS_PER_OP is wall time; with --cpu
the process CPU time per op is added. bench/run_pickle.sh and
bench/cmd/picklebench turn these and the Go results into a ratio table.
Options: --cpu, --time SECONDS (measuring time per run, default 0.5).
Standard library only.
"""
import pickle
import sys
import time


def cases():
    req = ('7f3a2b1c', 'put', ({'id': 1, 'payload': b'x' * 100, 'tags': ['a', 'b']},), {})
    payload = b'\xab' * (1 << 20)
    dicts = [{'id': i, 'name': 'item%d' % i, 'score': i * 0.5} for i in range(10000)]
    return [('request', req), ('bytes1MiB', payload), ('dicts10k', dicts)]


def timeit(f, min_time=0.5, repeat=5):
    """Returns the best wall and CPU ns/op over `repeat` runs that together
    take about min_time seconds."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        dt = time.perf_counter() - t0
        if dt >= min_time / 5:
            break
        n *= 2 if dt == 0 else max(2, int(min_time / 5 / dt) + 1)
    n = max(1, int(n * min_time / 5 / dt * 5 / repeat)) if dt > 0 else n
    best = best_cpu = None
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        dt = (time.perf_counter() - t0) / n
        ct = (time.process_time() - c0) / n
        best = dt if best is None or dt < best else best
        best_cpu = ct if best_cpu is None or ct < best_cpu else best_cpu
    return best * 1e9, best_cpu * 1e9


def main():
    if pickle.Pickler.__module__ != '_pickle':
        print('warning: C pickle accelerator not in use', file=sys.stderr)
    cpu = '--cpu' in sys.argv
    min_time = 0.5
    if '--time' in sys.argv:
        min_time = float(sys.argv[sys.argv.index('--time') + 1])
    proto = 4
    for name, value in cases():
        data = pickle.dumps(value, proto)
        for op, f in (('decode', lambda: pickle.loads(data)), ('encode', lambda: pickle.dumps(value, proto))):
            wall, cpu_ns = timeit(f, min_time)
            if cpu:
                print('%s %s %.1f %d %.1f' % (name, op, wall, len(data), cpu_ns))
            else:
                print('%s %s %.1f %d' % (name, op, wall, len(data)))
        sys.stdout.flush()


if __name__ == '__main__':
    main()
