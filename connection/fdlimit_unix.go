//go:build unix

package connection

import "syscall"

// fdLimit returns the soft RLIMIT_NOFILE, or 0 if it cannot be read or is
// unlimited.
func fdLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 0
	}
	return int(r.Cur)
}
