"""Run CPython's own manager tests against a running manager server.

CPython's test suite (test._test_multiprocessing of the interpreter running this script) holds
the behaviour spec of SyncManager's shared types: the test classes whose ALLOWED_TYPES include
'manager' (installed as WithManagerTestQueue, WithManagerTestLock, ... exactly as CPython's
install_tests_in_module_dict does for the 'manager' type) and TestSyncManagerTypes (3.8+).
Instead of starting a CPython manager (ManagerMixin.setUpClass does
`cls.manager = multiprocessing.Manager()`), their manager is
`SyncManager(address, authkey).connect()` to the server under test, never shut down, with
multiprocessing.current_process().authkey set to the server's key (proxies that come back inside
results authenticate with it).

Modes:
  --host H --port P --authkey-hex K   test the server at H:P (mpgo)
  --cpython-server                    start CPython's own SyncManager server in a subprocess
                                      (get_server().serve_forever()) and test it the same way:
                                      connected, not started; shows which tests fail on CPython too
Options:
  --xmlrpclib       run CPython's test of a manager with serializer='xmlrpclib' instead
                    (_TestRemoteManager.test_remote) against the server under test, which must
                    register 'get_queue' (a shared queue): see patch_remote_managers
  --only REGEX      run only tests whose id matches REGEX
  --list            list the test ids and exit

Classes that start their own CPython manager and never use the one under test
(_TestManagerRestart, _TestMyManager, _TestRemoteManager) are not installed.

Prints one JSON line on stdout: {"python", "mode", "run", "passed", "failed", "errors",
"skipped", "not_installed", "problems": [{"test", "kind", "reason"}]}; diagnostics on stderr.
Standard library only; Python 2.7 (test.test_multiprocessing) and 3.6+.
"""

import argparse
import binascii
import json
import multiprocessing
import multiprocessing.managers
import os
import re
import subprocess
import sys
import traceback
import unittest

OWN_MANAGER_CLASSES = ('_TestManagerRestart', '_TestMyManager', '_TestRemoteManager')

SERVER_CODE = r'''
import sys, binascii, multiprocessing
from multiprocessing.managers import SyncManager
key = binascii.unhexlify(sys.argv[1])
# as in a manager started by the client's process tree: the server process shares the key
multiprocessing.current_process().authkey = key
m = SyncManager(address=('127.0.0.1', 0), authkey=key)
s = m.get_server()
print('%s %d' % s.address)
sys.stdout.flush()
s.serve_forever()
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int)
    ap.add_argument('--authkey-hex', default='')
    ap.add_argument('--cpython-server', action='store_true')
    ap.add_argument('--only', default='')
    ap.add_argument('--xmlrpclib', action='store_true')
    ap.add_argument('--list', action='store_true')
    opts = ap.parse_args()

    server_proc = None
    if opts.cpython_server:
        key = opts.authkey_hex or binascii.hexlify(os.urandom(16)).decode()
        server_proc = subprocess.Popen([sys.executable, '-c', SERVER_CODE, key],
                                       stdout=subprocess.PIPE)
        host, port = server_proc.stdout.readline().decode().split()
        address = (host, int(port))
        mode = 'cpython-server'
    else:
        if opts.port is None:
            ap.error('--port is required unless --cpython-server')
        key = opts.authkey_hex
        address = (opts.host, opts.port)
        mode = 'server'
    authkey = binascii.unhexlify(key)
    try:
        result = run(address, authkey, opts)
    finally:
        if server_proc is not None:
            server_proc.kill()
            server_proc.wait()
    if result is None:
        return
    result['mode'] = mode
    print(json.dumps(result))
    if server_proc is not None:
        # The server is gone: skip the proxies' exit-time decrefs (Python 2 retries a refused
        # connection for 20 s).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def connect(address, authkey):
    m = multiprocessing.managers.SyncManager(address=address, authkey=authkey)
    m.connect()
    return m


def patch_remote_managers(tm, address, authkey):
    """_TestRemoteManager.test_remote starts a CPython QueueManager server (serializer='xmlrpclib',
    a random key) and connects QueueManager2 clients to it, one in a child process. Here every
    QueueManager and QueueManager2 it makes gets the address and key of the server under test,
    start() connects instead of starting a server, and shutdown() leaves the server running."""
    from multiprocessing.managers import BaseManager

    def __init__(self, **kwds):
        kwds['address'], kwds['authkey'] = address, authkey
        BaseManager.__init__(self, **kwds)

    def start(self, *args, **kwds):
        self.connect()
        self.shutdown = lambda: None

    for cls in (tm.QueueManager, tm.QueueManager2):
        cls.__init__ = __init__
    tm.QueueManager.start = start


def install_remote(address, authkey):
    """--xmlrpclib: install only _TestRemoteManager, patched (see patch_remote_managers)."""
    if sys.version_info[0] == 2:
        import test.test_multiprocessing as tm
        cls = tm.testcases_manager['WithManagerTestRemoteManager']
    else:
        import test._test_multiprocessing as tm
        # The test uses no manager of its mixin: a mixin that starts none.
        class NoManagerMixin(tm.BaseMixin):
            TYPE = 'manager'
            Process = multiprocessing.Process

        cls = type('WithManagerTestRemoteManager', (tm._TestRemoteManager, NoManagerMixin, unittest.TestCase), {})
        cls.__qualname__ = cls.__name__
    cls.__module__ = __name__
    patch_remote_managers(tm, address, authkey)
    return {cls.__name__: cls}, []


def install_py2(address, authkey):
    """Python 2.7: test.test_multiprocessing builds its WithManager* classes at import, around
    one SyncManager object that its test_main() starts; connect that object instead."""
    import test.test_multiprocessing as tm
    m = tm.ManagerMixin.manager
    m.__init__(address=address, authkey=authkey)
    m.connect()
    try:
        tm.ManagerMixin.pool = m.Pool(4)
    except Exception as e:  # a server that cannot host a Pool: the Pool tests fail
        sys.stderr.write('manager.Pool(4) failed: %s\n' % (e,))
        tm.ManagerMixin.pool = None
    classes, skipped = {}, []
    for name, cls in tm.testcases_manager.items():
        if name[len('WithManager'):] in [c[1:] for c in OWN_MANAGER_CLASSES]:
            skipped.append(name)
            continue
        cls.__module__ = __name__
        classes[name] = cls
    return classes, sorted(skipped)


def install(address, authkey):
    """Install the manager test classes in a dict, as install_tests_in_module_dict does."""
    if sys.version_info[0] == 2:
        return install_py2(address, authkey)
    import test._test_multiprocessing as tm

    class ConnectedManagerMixin(tm.ManagerMixin):
        @classmethod
        def setUpClass(cls):
            tm.BaseMixin.setUpClass.__func__(cls)
            cls.manager = connect(address, authkey)

        @classmethod
        def tearDownClass(cls):
            # The server is shared by every class and never shut down.
            cls.manager = None
            tm.BaseMixin.tearDownClass.__func__(cls)

    classes = {}
    skipped = []
    for name, base in sorted(vars(tm).items()):
        if not isinstance(base, type) or not issubclass(base, tm.BaseTestCase):
            continue
        if base is tm.BaseTestCase or 'manager' not in base.ALLOWED_TYPES:
            continue
        newname = 'WithManager' + name[1:]
        if name in OWN_MANAGER_CLASSES:
            skipped.append(newname)
            continue
        temp = type(newname, (base, ConnectedManagerMixin, unittest.TestCase), {})
        temp.__qualname__ = newname
        temp.__module__ = __name__
        classes[newname] = temp

    if hasattr(tm, 'TestSyncManagerTypes'):
        class TestSyncManagerTypes(tm.TestSyncManagerTypes):
            def setUp(self):
                self.manager = connect(address, authkey)
                self.proc = None

            def tearDown(self):
                if self.proc is not None and self.proc.is_alive():
                    self.proc.terminate()
                    self.proc.join()
                self.manager = None
                self.proc = None

            @classmethod
            def setUpClass(cls):
                pass

            @classmethod
            def tearDownClass(cls):
                pass

        TestSyncManagerTypes.__module__ = __name__
        TestSyncManagerTypes.__qualname__ = 'TestSyncManagerTypes'
        classes['TestSyncManagerTypes'] = TestSyncManagerTypes
    return classes, skipped


class Result(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        unittest.TextTestResult.__init__(self, *a, **kw)
        self.passed = []

    def addSuccess(self, test):
        unittest.TextTestResult.addSuccess(self, test)
        self.passed.append(test.id())


def short(tb):
    lines = [l for l in tb.strip().splitlines() if l.strip()]
    # the exception line(s) at the end, plus the remote text if any
    tail = lines[-1] if lines else ''
    for l in reversed(lines):
        if re.match(r'^\w[\w.]*(Error|Exception|Exit|Iteration)\b', l.strip()):
            tail = l.strip()
            break
    return tail[:300]


def test_id(test):
    i = test.id()
    return i.replace(__name__ + '.', '').replace('__main__.', '')


def run(address, authkey, opts):
    multiprocessing.current_process().authkey = authkey
    if opts.xmlrpclib:
        classes, not_installed = install_remote(address, authkey)
    else:
        classes, not_installed = install(address, authkey)
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for name in sorted(classes):
        for t in loader.loadTestsFromTestCase(classes[name]):
            if opts.only and not re.search(opts.only, test_id(t)):
                continue
            suite.addTest(t)
    if opts.list:
        for t in suite:
            print(test_id(t))
        return None
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=Result)
    res = runner.run(suite)
    problems = []
    for kind, items in (('failure', res.failures), ('error', res.errors),
                        ('unexpected_success', [(t, '') for t in res.unexpectedSuccesses])):
        for t, tb in items:
            problems.append({'test': test_id(t), 'kind': kind, 'reason': short(tb)})
    return {
        'python': '%d.%d' % sys.version_info[:2],
        'run': res.testsRun,
        'passed': len(res.passed),
        'failed': len(res.failures) + len(res.unexpectedSuccesses),
        'errors': len(res.errors),
        'skipped': len(res.skipped),
        'not_installed': not_installed,
        'problems': problems,
        'skips': [{'test': test_id(t), 'reason': str(r)[:200]} for t, r in res.skipped],
    }


if __name__ == '__main__':
    main()
