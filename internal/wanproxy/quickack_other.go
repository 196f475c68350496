//go:build !linux

package wanproxy

import "syscall"

func setQuickAck(syscall.RawConn) {}
