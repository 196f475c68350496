//go:build !linux

package relay

import "syscall"

// setQuickAck does nothing where TCP_QUICKACK does not exist.
func setQuickAck(syscall.RawConn) {}
