"""The documentation's Maths example, against a Maths type served by Go through reflection."""
from multiprocessing.managers import BaseManager

from mgr_common import parse_args, emit


class MyManager(BaseManager):
    pass


MyManager.register('Maths')


def main():
    a = parse_args()
    m = MyManager(address=a.address, authkey=a.authkey)
    m.connect()
    maths = m.Maths()
    emit({'add': maths.add(4, 3), 'mul': maths.mul(7, 8)})


if __name__ == '__main__':
    main()
