//go:build !unix

package connection

// fdLimit is unknown here: the minimum default applies.
func fdLimit() int { return 0 }
