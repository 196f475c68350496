"""Queue items between interpreters: every Python puts the same items for every other one.

    python mgr_queue_items.py --host H --port P --authkey-hex K --me NAME --peers A,B,C --phase put
puts items() into the queue typeid q_<me>_<peer> for every peer (the server registers one queue
per ordered pair of interpreters);
    ... --phase get
gets as many items from q_<peer>_<me> for every peer and checks them against items() built
here: equal once str, unicode and bytes are all text (what crosses between Python 2 and 3),
shared and recursive lists kept. Prints {"ok": ..., "checked": N, "errors": [...]} as JSON.
"""
import json
import sys

from multiprocessing.managers import BaseManager

from mgr_common import parse_args, emit

if sys.version_info[0] >= 3:
    text_type, int_types = str, (int,)
else:
    text_type, int_types = unicode, (int, long)  # noqa: F821 (Python 2)


class QueueManager(BaseManager):
    pass


def items():
    shared = [1, 2]
    rec = [1]
    rec.append(rec)
    many = ['s%d' % i for i in range(300)]
    return [
        (7, 'task-7', 1.5),
        {'id': 1, 'name': 'job', 'tags': ['a', 'b'], 'nested': {'id': 2, 'name': 'x'}},
        (shared, shared),
        rec,
        u'caf\xe9 \u20ac',
        b'bytes',
        'x' * (100 * 1024),
        (many, many, 'tail'),
        [2 ** 70, -5, 0.1, None, True, False, float('inf')],
        set([1, 2, 3]),
        frozenset(['a']),
        ValueError('boom'),
        ((1.5, -2.25), (), [], {}),
    ]


def canon(x, stack=()):
    """A JSON-able form of x in which Python 2 and 3 agree."""
    if id(x) in stack:
        return ['recursion', stack.index(id(x))]
    stack = stack + (id(x),)
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, int_types):
        return ['int', str(x)]
    if isinstance(x, float):
        return ['float', repr(x)]
    if isinstance(x, text_type):
        return ['str', x]
    if isinstance(x, bytes):
        return ['str', x.decode('latin-1')]
    if isinstance(x, tuple):
        return ['tuple', [canon(i, stack) for i in x]]
    if isinstance(x, list):
        return ['list', [canon(i, stack) for i in x]]
    if isinstance(x, dict):
        return ['dict', sorted([canon(k, stack), canon(v, stack)] for k, v in x.items())]
    if isinstance(x, (set, frozenset)):
        return [type(x).__name__, sorted(json.dumps(canon(i, stack), sort_keys=True) for i in x)]
    if isinstance(x, BaseException):
        return ['exc', type(x).__name__, canon(x.args, stack)]
    return ['other', repr(x)]


def structure_errors(i, got):
    """Sharing that must survive: item 2's list twice, item 3 containing itself, item 7's list."""
    if i == 2 and got[0] is not got[1]:
        return ['item 2: the shared list arrived as two lists']
    if i == 3 and got[1] is not got:
        return ['item 3: the recursive list lost its cycle']
    if i == 7 and got[0] is not got[1]:
        return ['item 7: the shared list of 300 strings arrived as two lists']
    return []


def main():
    def extra(p):
        p.add_argument('--me', required=True)
        p.add_argument('--peers', required=True)
        p.add_argument('--phase', choices=['put', 'get'], required=True)
    a = parse_args(extra)
    peers = a.peers.split(',')
    for src in peers:
        for dst in peers:
            QueueManager.register('q_%s_%s' % (src, dst))
    m = QueueManager(address=a.address, authkey=a.authkey)
    m.connect()
    want = items()
    errors = []
    checked = 0
    for peer in peers:
        if a.phase == 'put':
            q = getattr(m, 'q_%s_%s' % (a.me, peer))()
            for it in want:
                q.put(it)
            continue
        q = getattr(m, 'q_%s_%s' % (peer, a.me))()
        for i, w in enumerate(want):
            got = q.get(timeout=30)
            if json.dumps(canon(got), sort_keys=True) != json.dumps(canon(w), sort_keys=True):
                errors.append('from %s item %d: got %s, want %s' % (peer, i, repr(got)[:200], repr(w)[:200]))
            errors.extend('from %s %s' % (peer, e) for e in structure_errors(i, got))
            checked += 1
        if q.qsize() != 0:
            errors.append('from %s: %d items left' % (peer, q.qsize()))
    emit({'ok': not errors, 'checked': checked, 'errors': errors[:20]})


if __name__ == '__main__':
    main()
