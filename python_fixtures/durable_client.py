"""A user program of the durable queues of `mpgo serve --store DIR` / `--nats URL`, reached the way
CPython scripts reach a queue shared by a manager: BaseManager.register('NAME') (AutoProxy).

    python durable_client.py --host H --port P --authkey-hex K MODE [options]

Modes (every mode prints JSON lines or tagged lines on stdout):

  api       the queue API on --queue jobs, --shared small=Queue(2), --shared jq=JoinableQueue and
            --shared d=dict: put/get with block and timeout, put_nowait/get_nowait, qsize/empty/
            full, queue.Full at a timeout, task_done/join (also from another connection); one
            JSON object.
  put       put --n items "PREFIX-i" into --queue; one JSON object {"put": [...]}.
  drain     get from --queue until every item of --expect-file (one per line) was got (bounded by
            --timeout), then get_nowait until queue.Empty; one JSON object {"got": [...],
            "errors": [...]} (calls that raised, retried).
  pair      two servers sharing --queue: put on the first, get on the second (--port2); qsize on
            both, task_done/join across them; one JSON object.
  producer  print "READY" once connected, then put "PREFIX-i" for i < --n, printing "PUT item" after each put returned (acknowledged);
            an exception prints "ERR item text" (the put is not acknowledged); with --keep-going it
            goes on, else it stops at the first broken connection. Prints "DONE" at the end.
  consumer  print "READY" once connected, then get(timeout) in a loop, printing "GOT item time" for each item; stops when its stdin
            closes (printing "DONE") or at a broken connection ("ERR text") unless --keep-going.
  faults    NATS is down: a get and a put on --queue raise (prints the exception's class and text
            as JSON), and the dict d is still served.
  recover   put and get on --queue, retrying while the calls raise, until one item made the round
            trip (bounded by --timeout); one JSON object.

Standard library only; Python 2.7 and 3.6+.
"""
import os
import sys
import threading
import time
from multiprocessing.managers import BaseManager

try:
    import queue as queue_mod
except ImportError:  # Python 2
    import Queue as queue_mod

from mgr_common import parse_args, emit


class QueueManager(BaseManager):
    pass


for name in ('jobs', 'small', 'jq', 'd'):
    QueueManager.register(name)


def register(name):
    if name not in ('jobs', 'small', 'jq', 'd'):
        QueueManager.register(name)


def connect(a, port=None):
    addr = a.address if port is None else (a.host, port)
    m = QueueManager(address=addr, authkey=a.authkey)
    m.connect()
    return m


def exc_name(f):
    try:
        f()
    except Exception as e:
        return type(e).__name__
    return None


def say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def mode_api(a):
    m = connect(a)
    res = {}
    q = m.jobs()
    res['empty0'] = [q.empty(), q.qsize()]
    q.put('a')
    q.put(('t', 1))
    q.put_nowait({'k': [1, 2.5, None]})
    q.put(u'\u00e9t\u00e9', True, 5)
    res['after_puts'] = [q.empty(), q.qsize(), q.full()]
    res['gets'] = [q.get(), list(q.get(True, 5)), q.get_nowait(), q.get(False)]
    res['empty_errors'] = [exc_name(q.get_nowait), exc_name(lambda: q.get(True, 0.2)),
                           exc_name(lambda: q.get(False))]
    # A blocked get is woken by a put from another connection.
    got = []
    m2 = connect(a)
    q2 = m2.jobs()
    t = threading.Thread(target=lambda: got.append(q2.get(True, 30)))
    t.start()
    q.put('wake')
    t.join()
    res['woken_get'] = got

    s = m.small()
    s.put(1)
    s.put_nowait(2)
    res['small_full'] = [s.full(), s.qsize(), s.empty()]
    res['small_errors'] = [exc_name(lambda: s.put_nowait(3)), exc_name(lambda: s.put(3, True, 0.3)),
                           exc_name(lambda: s.put(3, False))]
    # A blocked put is woken by a get from another connection.
    s2 = m2.small()
    put_done = []
    t = threading.Thread(target=lambda: put_done.append(s2.put(3, True, 30)))
    t.start()
    first = s.get()
    t.join()
    res['small_gets'] = [first, s.get(True, 5), s.get(True, 5), exc_name(s.get_nowait)]
    res['small_put_woken'] = put_done

    j = m.jq()
    j.put('x')
    j.put('y')
    res['jq_gets'] = sorted([j.get(), j.get()])
    j.task_done()
    j.task_done()
    j.join()
    res['jq_too_many'] = exc_name(j.task_done)
    # join returns once another connection marked the item done.
    j.put('z')
    j2 = m2.jq()

    def worker():
        j2.get(True, 30)
        j2.task_done()
    t = threading.Thread(target=worker)
    t.start()
    j.join()
    t.join()
    res['jq_joined'] = True

    d = m.d()
    d['k'] = 1
    res['dict'] = d.get('k')
    emit(res)


def mode_put(a):
    q = getattr(connect(a), a.queue)()
    items = ['%s-%d' % (a.prefix, i) for i in range(a.n)]
    for it in items:
        q.put(it)
    emit({'put': items, 'qsize': q.qsize()})


def mode_drain(a):
    q = getattr(connect(a), a.queue)()
    expect = set()
    if a.expect_file:
        with open(a.expect_file) as f:
            expect = set(l.strip() for l in f if l.strip())
    got = []
    errors = []
    deadline = time.time() + a.timeout
    while expect - set(got) and time.time() < deadline:
        try:
            got.append(q.get(True, 1))
        except queue_mod.Empty:
            pass
        except Exception as e:  # a cluster still failing over: retry until the deadline
            errors.append('%s: %s' % (type(e).__name__, e))
            time.sleep(0.1)
    while time.time() < deadline:
        try:
            got.append(q.get_nowait())
        except queue_mod.Empty:
            break
        except Exception as e:
            errors.append('%s: %s' % (type(e).__name__, e))
            time.sleep(0.1)
    emit({'got': got, 'qsize': q.qsize(), 'errors': errors})


def mode_pair(a):
    m1 = connect(a)
    m2 = connect(a, a.port2)
    q1 = getattr(m1, a.queue)()
    q2 = getattr(m2, a.queue)()
    res = {}
    items = ['p-%d' % i for i in range(20)]
    for it in items:
        q1.put(it)
    res['qsize'] = [q1.qsize(), q2.qsize()]
    res['empty'] = [q1.empty(), q2.empty()]
    got = []
    # Half through each server, in turns: every item exactly once.
    for i in range(len(items)):
        got.append((q2 if i % 2 == 0 else q1).get(True, 10))
    res['got'] = got
    # A get through one server is acknowledged to JetStream just after its reply was written:
    # the other server's qsize may count that item for a moment.
    deadline = time.time() + 10
    while (q1.qsize(), q2.qsize()) != (0, 0) and time.time() < deadline:
        time.sleep(0.01)
    res['after'] = [q1.qsize(), q2.qsize(), exc_name(q1.get_nowait), exc_name(q2.get_nowait)]
    # join on the first server returns when the second marked every item done.
    for i in range(len(items)):
        (q2 if i % 2 == 0 else q1).task_done()
    q1.join()
    q2.join()
    q1.put('last')
    done = []

    def joiner():
        q1.join()
        done.append(True)
    t = threading.Thread(target=joiner)
    t.start()
    res['last'] = q2.get(True, 10)
    q2.task_done()
    t.join(30)
    res['joined_across'] = done
    res['too_many'] = exc_name(q1.task_done)
    emit(res)


def gone():
    """Ends the process after the server died: skips the proxies' finalizers, whose decref would
    retry connecting to the dead server for 20 seconds on Python 2."""
    sys.stdout.flush()
    os._exit(0)


def mode_producer(a):
    q = getattr(connect(a), a.queue)()
    q.qsize()
    say('READY')
    for i in range(a.n):
        it = '%s-%d' % (a.prefix, i)
        try:
            q.put(it)
        except Exception as e:
            say('ERR %s %s: %s' % (it, type(e).__name__, str(e).replace('\n', ' ')))
            if not a.keep_going and isinstance(e, (EOFError, IOError, OSError)):
                say('DONE')
                gone()
            continue
        say('PUT ' + it)
    say('DONE')


def mode_consumer(a):
    q = getattr(connect(a), a.queue)()
    q.qsize()
    say('READY')
    stop = threading.Event()

    def watch():
        sys.stdin.read()
        stop.set()
    t = threading.Thread(target=watch)
    t.daemon = True
    t.start()
    while not stop.is_set():
        try:
            it = q.get(True, 0.2)
        except queue_mod.Empty:
            continue
        except Exception as e:
            say('ERR %s: %s' % (type(e).__name__, str(e).replace('\n', ' ')))
            if not a.keep_going and isinstance(e, (EOFError, IOError, OSError)):
                gone()
            time.sleep(0.05)  # back off while the queue fails over (bounded by the test)
            continue
        say('GOT %s %.3f' % (it, time.time()))
    say('DONE')


def mode_faults(a):
    m = connect(a)
    q = getattr(m, a.queue)()
    res = {}
    for what, f in (('get', lambda: q.get(True, 2)), ('get_nowait', q.get_nowait), ('put', lambda: q.put('x', True, 2))):
        try:
            f()
            res[what] = None
        except Exception as e:
            res[what] = [type(e).__name__, str(e)]
    d = m.d()
    d['still'] = 'served'
    res['dict'] = d['still']
    emit(res)


def mode_recover(a):
    m = connect(a)
    q = getattr(m, a.queue)()
    deadline = time.time() + a.timeout
    errors = 0
    put = False
    while time.time() < deadline:
        try:
            if not put:
                q.put('back', True, 2)
                put = True
            emit({'got': q.get(True, 2), 'errors': errors})
            return
        except queue_mod.Empty:
            continue
        except Exception:
            errors += 1
            time.sleep(0.2)  # NATS is still away: retry the call (the test bounds the total time)
    emit({'got': None, 'errors': errors})


def main():
    def extra(p):
        p.add_argument('mode')
        p.add_argument('--queue', default='jobs')
        p.add_argument('--prefix', default='item')
        p.add_argument('--n', type=int, default=10)
        p.add_argument('--port2', type=int, default=0)
        p.add_argument('--expect-file', default='')
        p.add_argument('--timeout', type=float, default=30)
        p.add_argument('--keep-going', action='store_true')
    a = parse_args(extra)
    register(a.queue)
    {'api': mode_api, 'put': mode_put, 'drain': mode_drain, 'pair': mode_pair,
     'producer': mode_producer, 'consumer': mode_consumer, 'faults': mode_faults,
     'recover': mode_recover}[a.mode](a)


if __name__ == '__main__':
    main()
