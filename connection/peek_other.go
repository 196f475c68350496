//go:build !unix || aix

package connection

import "syscall"

// peekNow cannot ask the socket without unix syscalls; the caller falls back
// to a short read deadline.
func peekNow(syscall.Conn) (ready, ok bool) { return false, false }
