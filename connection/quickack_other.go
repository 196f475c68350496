//go:build !linux

package connection

import "syscall"

const quickAckSupported = false

// setQuickAck does nothing where TCP_QUICKACK does not exist.
func setQuickAck(syscall.RawConn) {}
