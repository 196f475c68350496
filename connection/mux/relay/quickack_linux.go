//go:build linux

package relay

import "syscall"

// setQuickAck enables TCP_QUICKACK: the kernel acknowledges received data at
// once. Linux leaves quick-ack mode on its own, so it is re-armed after
// every read.
func setQuickAck(rc syscall.RawConn) {
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
