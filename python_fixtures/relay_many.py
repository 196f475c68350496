"""Many connections at once through mpgo relay: creates a shared dict, opens --conns
connections, makes each a method-call connection (accept_connection) and calls len() of the
dict on each (so each has reached the server), prints {"open": N}, waits for a line on stdin
(the test checks that they all share one session), then calls len() on every one of them again,
closes them, releases the dict and prints {"ok": N}."""
import sys
from multiprocessing.connection import Client
from multiprocessing.managers import dispatch

from mgr_common import parse_args, emit


def public(a, name, *args):
    c = Client(a.address, authkey=a.authkey)
    try:
        return dispatch(c, None, name, args)
    finally:
        c.close()


def main():
    def extra(p):
        p.add_argument('--conns', type=int, default=250)
    a = parse_args(extra)
    ident, _ = public(a, 'create', 'dict')
    conns = [Client(a.address, authkey=a.authkey) for _ in range(a.conns)]
    for i, c in enumerate(conns):
        dispatch(c, None, 'accept_connection', ('conn-%d' % i,))
        dispatch(c, ident, '__len__', ())
    emit({'open': len(conns)})
    sys.stdin.readline()
    ok = 0
    for c in conns:
        if dispatch(c, ident, '__len__', ()) == 0:
            ok += 1
    for c in conns:
        c.close()
    public(a, 'decref', ident)
    emit({'ok': ok})


if __name__ == '__main__':
    main()
