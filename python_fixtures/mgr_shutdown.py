"""Ask a manager server to shut down, as BaseManager's finalizer does (dispatch 'shutdown')."""
from multiprocessing.managers import BaseManager, dispatch

from mgr_common import parse_args, emit


def main():
    a = parse_args()
    m = BaseManager(address=a.address, authkey=a.authkey)
    m.connect()
    conn = m._Client(m._address, authkey=m._authkey)
    try:
        result = dispatch(conn, None, 'shutdown')
    finally:
        conn.close()
    emit({'shutdown': result})


if __name__ == '__main__':
    main()
