//go:build unix

package connection_test

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"syscall"
)

// bufferedNow reports whether nc's socket has unread bytes in its receive
// queue, without consuming them and without waiting for readiness (so it
// does not disturb a Read blocked on the same socket).
func bufferedNow(nc net.Conn) (bool, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false, fmt.Errorf("%T has no file descriptor", nc)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, err
	}
	var n int
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	}); err != nil {
		return false, err
	}
	if errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return n > 0, rerr
}

// waitBuffered yields until nc's socket has (want) or has no (!want) unread
// bytes. It may be called from any goroutine.
func waitBuffered(nc net.Conn, want bool) error {
	for {
		got, err := bufferedNow(nc)
		if err != nil || got == want {
			return err
		}
		runtime.Gosched()
	}
}
