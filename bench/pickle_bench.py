#!/usr/bin/env python3
"""Times CPython's C pickle (pickle.dumps / pickle.loads, protocol 4) on the
data of pickle/bench_test.go (BenchmarkPickle) and prints one line per case:

    CASE OP NS_PER_OP BYTES

for example "request decode 1234.5 151". bench/run_pickle.sh turns these and
the Go benchmark results into a ratio table. Standard library only.
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
    """Returns the best ns/op over `repeat` runs of about min_time seconds."""
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
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        dt = (time.perf_counter() - t0) / n
        best = dt if best is None or dt < best else best
    return best * 1e9


def main():
    if pickle.Pickler.__module__ != '_pickle':
        print('warning: C pickle accelerator not in use', file=sys.stderr)
    proto = 4
    for name, value in cases():
        data = pickle.dumps(value, proto)
        dec = timeit(lambda: pickle.loads(data))
        enc = timeit(lambda: pickle.dumps(value, proto))
        print('%s decode %.1f %d' % (name, dec, len(data)))
        print('%s encode %.1f %d' % (name, enc, len(data)))
        sys.stdout.flush()


if __name__ == '__main__':
    main()
