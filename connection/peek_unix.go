//go:build unix && !aix

package connection

import (
	"errors"
	"syscall"
)

// peekNow reports whether a socket has data (or EOF, or an error) ready to
// read, without consuming anything and without blocking. ok is false when
// the connection has no file descriptor to ask.
func peekNow(sc syscall.Conn) (ready, ok bool) {
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, false
	}
	var b [1]byte
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	})
	if err != nil {
		return true, true // closed or broken: a read will report it
	}
	if errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK) || errors.Is(rerr, syscall.EINTR) {
		return false, true
	}
	return true, true // data, EOF (n == 0) or a pending error
}
