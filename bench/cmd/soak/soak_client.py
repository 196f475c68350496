# A client process of the soak harness (bench/cmd/soak), stdlib only, for
# Python 2.7 and 3.6+. It logs every operation as one flushed line on stdout,
# which the harness reads as its ledger:
#
#   PUT item    a put of a stable client returned (acknowledged)
#   TRY item    a victim is about to put item (it may be killed during the put)
#   ACK item    the victim's put of item returned
#   GOT item    a get returned item (stable clients: soakq and the Queue)
#   WANT        a victim is about to get from soakvq
#   VGOT item   the victim's get from soakvq returned item
#   EMPTY       a get timed out
#   DSET        a dict item was set
#   CRIT        a critical section under the shared Lock finished
#   VLOCK/VBUSY a victim took its slot's Lock / found it held
#   DONE        a stable client saw the stop file and is exiting
#
# usage: soak_client.py stable|victim HOST PORT KEYHEX ME QUEUEID DICTID LOCKID SLOTLOCKID STOPFILE PACE
import binascii
import os
import random
import sys
import time
from multiprocessing.managers import AcquirerProxy, AutoProxy, BaseManager, DictProxy, Token

try:
    import queue as queue_mod
except ImportError:  # Python 2
    import Queue as queue_mod


class SoakManager(BaseManager):
    pass


SoakManager.register('soakq')
SoakManager.register('soakvq')


def norm(x):
    """The item as the native str of this Python."""
    if not isinstance(x, str):
        if isinstance(x, bytes):
            x = x.decode('ascii')
        else:
            x = x.encode('ascii')
    return x


def log(s):
    sys.stdout.write(s + '\n')
    sys.stdout.flush()


def main():
    (role, host, port, keyhex, me, qid, did, lid, slid, stop, pace) = sys.argv[1:12]
    address = (host, int(port))
    key = binascii.unhexlify(keyhex)
    pace = float(pace)
    m = SoakManager(address=address, authkey=key)
    m.connect()
    q1 = m.soakq()
    q2 = AutoProxy(Token('Queue', address, qid), 'pickle', manager=m, authkey=key)
    d = DictProxy(Token('dict', address, did), 'pickle', manager=m, authkey=key)
    rnd = random.Random()
    seq = 0
    if role == 'victim':
        vq = m.soakvq()
        vlock = AcquirerProxy(Token('Lock', address, slid), 'pickle', manager=m, authkey=key)
        log('READY')
        while True:
            r = rnd.random()
            if r < 0.4:
                seq += 1
                item = '%s:%d' % (me, seq)
                log('TRY ' + item)
                rnd.choice((q1, q2)).put(item)
                log('ACK ' + item)
            elif r < 0.7:
                log('WANT')
                try:
                    item = vq.get(True, 0.5)
                except queue_mod.Empty:
                    log('EMPTY')
                else:
                    log('VGOT ' + norm(item))
            elif r < 0.85:
                if vlock.acquire(False):
                    log('VLOCK')
                    time.sleep(rnd.random() * 0.01)
                    vlock.release()
                else:
                    log('VBUSY')
            else:
                d['key%d' % rnd.randrange(32)] = seq
                log('DSET')
            if pace:
                time.sleep(pace)
    lock = AcquirerProxy(Token('Lock', address, lid), 'pickle', manager=m, authkey=key)
    log('READY')
    while not os.path.exists(stop):
        r = rnd.random()
        q = rnd.choice((q1, q2))
        if r < 0.25:
            seq += 1
            item = '%s:%d' % (me, seq)
            q.put(item)
            log('PUT ' + item)
        elif r < 0.75:
            try:
                item = q.get(True, 0.05)
            except queue_mod.Empty:
                log('EMPTY')
            else:
                log('GOT ' + norm(item))
        elif r < 0.9:
            d['key%d' % rnd.randrange(32)] = seq
            log('DSET')
        else:
            lock.acquire()
            try:
                d['counter'] = d.get('counter', 0) + 1
            finally:
                lock.release()
            log('CRIT')
        if pace:
            time.sleep(pace)
    log('DONE')


if __name__ == '__main__':
    main()
