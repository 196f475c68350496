"""Cross-process behaviour of SyncManager types served by a manager at --host/--port.

Scenarios (--scenario):
  lock_counter    8 processes increment d['n'] 50 times each under a shared Lock (and d['r']
                  under an RLock taken twice): both must be exactly 400
  condition       4 processes wait on a shared Condition until the parent sets a flag and calls
                  notify_all; then 3 more wait and are woken one by one with notify(1)
  barrier         5 processes pass a Barrier(5) three times: each round's wait() indices are
                  exactly 0..4 (Python 3 only)
  joinable_queue  200 items drained by 4 worker processes calling task_done; the parent's join()
                  returns and the items processed are exactly the items put
  dead_holder     a process acquires a Lock and an RLock and dies: both stay held (as on CPython);
                  the Lock can be released by another client, the RLock cannot
Prints one JSON line {"scenario", "ok", "detail", ...}. Works on Python 2.7 and 3.6+ (fork).
Standard library only.
"""

import argparse
import binascii
import json
import multiprocessing
import multiprocessing.managers
import os
import sys
import time

JOIN_TIMEOUT = 60


def connect(host, port, key):
    m = multiprocessing.managers.SyncManager(address=(host, port), authkey=key)
    m.connect()
    return m


def acquire(sem):
    """sem.acquire with a 30 s timeout (Python 2's AcquirerProxy has no timeout argument)."""
    if sys.version_info[0] == 2:
        return sem.acquire()
    return sem.acquire(True, 30)


def run_procs(target, argsets):
    procs = [multiprocessing.Process(target=target, args=a) for a in argsets]
    for p in procs:
        p.daemon = True
        p.start()
    return procs


def join_all(procs):
    codes = []
    deadline = time.time() + JOIN_TIMEOUT
    for p in procs:
        p.join(max(0.1, deadline - time.time()))
        if p.is_alive():
            p.terminate()
            p.join()
            codes.append('hung')
        else:
            codes.append(p.exitcode)
    return codes


# --- lock_counter -------------------------------------------------------------------------

def lock_worker(d, lock, rlock, n):
    for _ in range(n):
        with lock:
            d['n'] = d['n'] + 1
        rlock.acquire()
        rlock.acquire()
        d['r'] = d['r'] + 1
        rlock.release()
        rlock.release()


def lock_counter(m):
    d = m.dict()
    d['n'] = 0
    d['r'] = 0
    lock = m.Lock()
    rlock = m.RLock()
    procs = run_procs(lock_worker, [(d, lock, rlock, 50)] * 8)
    codes = join_all(procs)
    n, r = d['n'], d['r']
    return {'ok': n == 400 and r == 400 and codes == [0] * 8,
            'n': n, 'r': r, 'exitcodes': codes, 'detail': 'want n=400 r=400'}


# --- condition ----------------------------------------------------------------------------

def cond_waiter(cond, state, ready, woken, key, wake=None):
    with cond:
        ready.release()
        deadline = time.time() + 30
        while not state[key] and time.time() < deadline:
            cond.wait(5)
        if state[key]:
            woken.append(os.getpid())
            if wake is not None:
                wake.release()  # tells the notifier, who blocks on it instead of polling


def condition(m):
    cond = m.Condition()
    state = m.dict(go=False, one=False)
    ready = m.Semaphore(0)
    woken = m.list()
    procs = run_procs(cond_waiter, [(cond, state, ready, woken, 'go')] * 4)
    for _ in range(4):
        if not acquire(ready):
            return {'ok': False, 'detail': 'waiters did not start'}
    with cond:
        state['go'] = True
        cond.notify_all()
    codes = join_all(procs)
    first = len(woken)
    # phase 2: notify(1) wakes one waiter at a time
    woken2 = m.list()
    wake = m.Semaphore(0)
    procs = run_procs(cond_waiter, [(cond, state, ready, woken2, 'one', wake)] * 3)
    for _ in range(3):
        if not acquire(ready):
            return {'ok': False, 'detail': 'phase-2 waiters did not start'}
    with cond:
        state['one'] = True
    counts = []
    for i in range(3):
        with cond:
            if sys.version_info < (3, 7):
                cond._callmethod('notify', (1,))  # 2.7/3.6 ConditionProxy.notify() takes no n
            else:
                cond.notify(1)
        if not acquire(wake):
            return {'ok': False, 'detail': 'notify(1) woke nobody within 30 s'}
        counts.append(len(woken2))
    codes += join_all(procs)
    return {'ok': first == 4 and counts == [1, 2, 3] and codes == [0] * 7,
            'woken': first, 'notify1_counts': counts, 'exitcodes': codes,
            'detail': 'want woken=4, notify1_counts=[1,2,3]'}


# --- barrier ------------------------------------------------------------------------------

def barrier_party(b, results, rounds):
    for r in range(rounds):
        i = b.wait(30)
        results.append((r, i))


def barrier(m):
    if not hasattr(m, 'Barrier'):
        return {'ok': True, 'skipped': 'no Barrier in this Python'}
    b = m.Barrier(5)
    results = m.list()
    procs = run_procs(barrier_party, [(b, results, 3)] * 5)
    codes = join_all(procs)
    got = list(results)
    rounds = {}
    for r, i in got:
        rounds.setdefault(r, []).append(i)
    ok = codes == [0] * 5 and sorted(rounds) == [0, 1, 2] and \
        all(sorted(v) == [0, 1, 2, 3, 4] for v in rounds.values())
    return {'ok': ok and not b.broken and b.n_waiting == 0, 'exitcodes': codes,
            'rounds': dict((str(k), sorted(v)) for k, v in rounds.items()),
            'detail': 'want 3 rounds of indices 0..4'}


# --- joinable_queue -----------------------------------------------------------------------

def queue_worker(q, out):
    count, total = 0, 0
    while True:
        item = q.get()
        if item is None:
            q.task_done()
            break
        count += 1
        total += item
        q.task_done()
    out.put((count, total))


def joinable_queue(m):
    q = m.JoinableQueue()
    out = m.Queue()
    items = list(range(1, 201))
    for i in items:
        q.put(i)
    procs = run_procs(queue_worker, [(q, out)] * 4)
    for _ in range(4):
        q.put(None)
    q.join()
    codes = join_all(procs)
    res = [out.get(timeout=30) for _ in range(4)]
    count = sum(c for c, _ in res)
    total = sum(t for _, t in res)
    return {'ok': count == 200 and total == sum(items) and codes == [0] * 4 and q.qsize() == 0,
            'count': count, 'total': total, 'per_worker': [c for c, _ in res], 'exitcodes': codes,
            'detail': 'want count=200 total=%d' % sum(items)}


# --- dead_holder --------------------------------------------------------------------------

def die_holding(lock, rlock):
    lock.acquire()
    rlock.acquire()
    os._exit(0)  # no release, no clean-up: the client dies holding both locks


def dead_holder(m):
    lock = m.Lock()
    rlock = m.RLock()
    codes = join_all(run_procs(die_holding, [(lock, rlock)]))
    lock_held = not lock.acquire(False)
    lock.release()  # a Lock has no owner: anyone may release it (recovery)
    relocked = lock.acquire(False)
    rlock_held = not rlock.acquire(False)
    try:
        rlock.release()
        rlock_release = 'released'
    except RuntimeError as e:  # owned by the dead client's connection, as on CPython
        rlock_release = 'RuntimeError: %s' % e
    return {'ok': codes == [0] and lock_held and relocked and rlock_held and
            rlock_release == 'RuntimeError: cannot release un-acquired lock',
            'lock_held_after_death': lock_held, 'lock_reacquired_after_release': relocked,
            'rlock_held_after_death': rlock_held, 'rlock_release_by_other': rlock_release,
            'detail': 'a dead client leaves its locks held; a Lock can be released by another client, an RLock cannot'}


SCENARIOS = {'dead_holder': dead_holder, 'lock_counter': lock_counter, 'condition': condition, 'barrier': barrier,
             'joinable_queue': joinable_queue}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--authkey-hex', required=True)
    ap.add_argument('--scenario', required=True, choices=sorted(SCENARIOS))
    opts = ap.parse_args()
    key = binascii.unhexlify(opts.authkey_hex)
    multiprocessing.current_process().authkey = key
    m = connect(opts.host, opts.port, key)
    start = time.time()
    res = SCENARIOS[opts.scenario](m)
    res['scenario'] = opts.scenario
    res['python'] = '%d.%d' % sys.version_info[:2]
    res['seconds'] = round(time.time() - start, 2)
    print(json.dumps(res))


if __name__ == '__main__':
    main()
