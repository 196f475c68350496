//go:build linux

package connection

import "syscall"

const quickAckSupported = true

// setQuickAck enables TCP_QUICKACK on the socket: the kernel acknowledges
// received data at once instead of delaying the ACK. Linux leaves quick-ack
// mode on its own, so the caller re-arms it after every read.
func setQuickAck(rc syscall.RawConn) {
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
